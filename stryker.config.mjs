/**
 * StrykerJS over functions/ and statemachines/loader.js, in parts run one after the other
 * (test/mutation/mutate.js): `steps` (the step cores, shared/ without the guard, the ASL loader)
 * and the guard (functions/shared/guard) in seven parts — its secret detectors, its other
 * detectors, its record reader and fast path, its scan path (registry, scan/), its record schemas,
 * its text helpers (normalization, masking, hashing), and the rest (limits, the worker pool, the
 * summary). A part's results are kept only when it ends, hence parts small enough to end within a
 * session; `npm run mutate -- --plan` shows each part's size. Each part has its own incremental file and report, so a change in one part
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
const GUARD_SCAN_PATH = [`${GUARD}/registry.ts`, `${GUARD}/scan/**/*.ts`];
const GUARD_RECORDS = [`${GUARD}/records.ts`, `${GUARD}/fastpath.ts`];
const GUARD_SECRETS = [`${GUARD}/detectors/secrets.ts`, `${GUARD}/detectors/generic-secret.ts`];

/** Each part takes well under an hour on two cores, so it ends (and keeps its results) within a session. */
export const PARTS = {
  steps: ['functions/**/*.ts', '!functions/**/handler.ts', `!${GUARD}/**`, 'statemachines/loader.js'],
  'guard-secrets': GUARD_SECRETS,
  'guard-detectors': [`${GUARD}/detectors/**/*.ts`, ...GUARD_SECRETS.map((p) => `!${p}`)],
  'guard-records': GUARD_RECORDS,
  'guard-scan': GUARD_SCAN_PATH,
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
    ...[...GUARD_SCAN_PATH, ...GUARD_RECORDS].map((p) => `!${p}`),
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
