/**
 * StrykerJS over functions/ and statemachines/loader.js, in parts run one after the other
 * (test/mutation/mutate.js): `steps` (the step cores, shared/ without the guard, the ASL loader)
 * and the guard (functions/shared/guard) in five parts — its detectors, its scan path (registry,
 * fast path, records, scan/), its record schemas, its text helpers (normalization, masking,
 * hashing), and the rest (limits, the worker pool, the summary). Most of the guard's mutants are static (detector tables and regular expressions built
 * at module load), so each runs every related test file: a part of the guard takes an hour or
 * more on two cores, and a part's results are kept only when it ends (hence small parts). Each part has its own incremental file and report, so a change in one part
 * re-tests only that part, and a part's report is there as soon as it ends;
 * test/mutation/score.js adds them up. Shared options: test/mutation/stryker.base.json.
 *
 *   TUNEVAULT_MUTATE_PART=guard-detectors npx stryker run
 */
import fs from 'node:fs';

const base = JSON.parse(
  fs.readFileSync(new URL('./test/mutation/stryker.base.json', import.meta.url), 'utf8'),
);
delete base.$schema;

const GUARD = 'functions/shared/guard';
const GUARD_SCAN_PATH = [
  `${GUARD}/registry.ts`,
  `${GUARD}/fastpath.ts`,
  `${GUARD}/records.ts`,
  `${GUARD}/scan/**/*.ts`,
];

export const PARTS = {
  steps: ['functions/**/*.ts', '!functions/**/handler.ts', `!${GUARD}/**`, 'statemachines/loader.js'],
  'guard-detectors': [`${GUARD}/detectors/**/*.ts`],
  'guard-scan': GUARD_SCAN_PATH,
  // The rest of the guard in three, so each part ends (and keeps its results) within a session:
  // the record schemas, the text helpers, and the runtime (limits, worker pool, summary).
  'guard-schemas': [`${GUARD}/schemas/**/*.ts`],
  'guard-text': [`${GUARD}/normalize.ts`, `${GUARD}/mask.ts`, `${GUARD}/hash.ts`],
  // types.ts holds types only.
  'guard-runtime': [
    `${GUARD}/**/*.ts`,
    `!${GUARD}/types.ts`,
    `!${GUARD}/detectors/**`,
    `!${GUARD}/schemas/**`,
    `!${GUARD}/normalize.ts`,
    `!${GUARD}/mask.ts`,
    `!${GUARD}/hash.ts`,
    ...GUARD_SCAN_PATH.map((p) => `!${p}`),
  ],
};

const part = process.env.TUNEVAULT_MUTATE_PART ?? 'steps';
if (!(part in PARTS))
  throw new Error(`TUNEVAULT_MUTATE_PART must be one of ${Object.keys(PARTS).join(', ')}`);

export default {
  ...base,
  mutate: PARTS[part],
  // Committed, so a clean clone (CI) re-tests only what changed since the last full run.
  incrementalFile: `test/mutation/incremental/${part}.json`,
  htmlReporter: { fileName: `reports/mutation/${part}.html` },
  jsonReporter: { fileName: `reports/mutation/${part}.json` },
};
