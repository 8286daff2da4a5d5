/**
 * StrykerJS over functions/ and statemachines/loader.js, in two parts run one after the other
 * (test/mutation/mutate.js): `steps` (the step cores, shared/ without the guard, the ASL loader)
 * and `guard` (functions/shared/guard, whose mutants run the guard's heavy differential and
 * property tests). Each part has its own incremental file and report, so a change in one part
 * re-tests only that part, and the first part's report is there long before the second's;
 * test/mutation/score.js adds them up. Shared options: test/mutation/stryker.base.json.
 *
 *   TUNEVAULT_MUTATE_PART=guard npx stryker run
 */
import fs from 'node:fs';

const base = JSON.parse(
  fs.readFileSync(new URL('./test/mutation/stryker.base.json', import.meta.url), 'utf8'),
);
delete base.$schema;

export const PARTS = {
  steps: [
    'functions/**/*.ts',
    '!functions/**/handler.ts',
    '!functions/shared/guard/**',
    'statemachines/loader.js',
  ],
  // types.ts holds types only.
  guard: ['functions/shared/guard/**/*.ts', '!functions/shared/guard/types.ts'],
};

const part = process.env.TUNEVAULT_MUTATE_PART ?? 'steps';
if (!(part in PARTS))
  throw new Error(`TUNEVAULT_MUTATE_PART must be one of ${Object.keys(PARTS).join(', ')}`);

export default {
  ...base,
  mutate: PARTS[part],
  incrementalFile: `reports/stryker-incremental-${part}.json`,
  htmlReporter: { fileName: `reports/mutation/${part}.html` },
  jsonReporter: { fileName: `reports/mutation/${part}.json` },
};
