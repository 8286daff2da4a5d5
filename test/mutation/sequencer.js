/**
 * Which test files a mutant run loads, and in what order (with bail-environment.js and
 * bail-runner.js a run stops at its first failure, so the order decides the time, not the verdict).
 *
 * - **Only the files that hold a covering test.** A mutant with per-test coverage runs with Jest's
 *   `testNamePattern` set to its covering tests' names, but Jest still loads every related test
 *   file (its imports, its describe blocks) only to skip all of their tests: about a second a
 *   mutant in a module most steps import. The unmutated first run (Stryker's dry run) records each
 *   file's test names (`cacheResults`); a mutant run then keeps the files with a test name the
 *   pattern matches, as Jest's own filter would (case-insensitive, on the full name). A file the
 *   record does not know is kept; if no known file matches, all are kept.
 * - **Focused files first:** the test files named after the mutated module (`kms.ts` →
 *   `kms.test.ts`, `guard/detectors/secrets.ts` → `detectors.test.ts`; a step's `core.ts` → the step's
 *   test), then the rest smallest first, and last the
 *   guard's differential, property and thread tests, which take seconds per test and rarely are
 *   the first to fail.
 */
const fs = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const HEAVY_LAST = [
  'test/unit/guard/cli-scan.test.ts',
  'test/unit/steps/scan-workers.test.ts',
  'test/unit/guard/parallel.test.ts',
  'test/unit/guard/schemas.test.ts',
  'test/unit/guard/scan.test.ts',
  'test/unit/guard/properties.test.ts',
  'test/unit/guard/fastpath.test.ts',
];
const ROOT = path.join(__dirname, '../..');
/** Written by the dry run in Stryker's sandbox (the rootDir it runs Jest in). */
const NAMES_FILE = '.stryker-test-names.json';

/** This process's copy of the dry run's record: test file path → its tests' full names. */
let testNames;

function readTestNames(rootDir) {
  if (testNames === undefined) {
    try {
      testNames = JSON.parse(fs.readFileSync(path.join(rootDir, NAMES_FILE), 'utf8'));
    } catch {
      return undefined; // no record (yet): no filtering
    }
  }
  return testNames;
}

/**
 * The names a mutated module's focused test files carry: its own and its folder's
 * (`guard/detectors/secrets.ts` → secrets, detectors; a step's `core.ts` → the step).
 */
function moduleNames(file) {
  const base = path.basename(file).replace(/\.[cm]?[jt]s$/, '');
  const folder = path.basename(path.dirname(file));
  return ['core', 'handler', 'index'].includes(base) ? [folder] : [base, folder];
}

/**
 * The test files a mutant run with `testNamePattern` needs: those with a test the pattern matches
 * (as Jest matches: case-insensitive, anywhere in the full name), and those the record does not
 * know. All of them when no file the record knows matches: never a run of no test.
 */
function coveringFiles(tests, names, testNamePattern) {
  const pattern = new RegExp(testNamePattern, 'i');
  const kept = tests.filter((t) => names[t.path]?.some((n) => pattern.test(n)) ?? true);
  return kept.some((t) => names[t.path] !== undefined) ? kept : tests;
}

/**
 * The order a mutant run loads its test files in: the files named after a mutated module first
 * (light ones, then heavy ones such as fastpath.test.ts for fastpath.ts), then the others smallest
 * first, then HEAVY_LAST in its order.
 */
function runOrder(tests, mutatedFiles, sizeOf) {
  const mutated = mutatedFiles.flatMap(moduleNames);
  const rel = (t) => path.relative(ROOT, t.path).split(path.sep).join('/');
  const focused = (t) => mutated.some((m) => path.basename(t.path).includes(m));
  const rank = (t) => (focused(t) ? (HEAVY_LAST.includes(rel(t)) ? -1.5 : -2) : HEAVY_LAST.indexOf(rel(t)));
  return [...tests].sort((a, b) => rank(a) - rank(b) || sizeOf(a) - sizeOf(b));
}

class MutationSequencer extends Sequencer {
  constructor(options) {
    super(options);
    this.globalConfig = options?.globalConfig;
  }

  sort(tests) {
    const config = this.globalConfig ?? {};
    const mutated = config.findRelatedTests ? (config.nonFlagArgs ?? []) : [];
    return this.covering(
      runOrder(tests, mutated, (t) => fs.statSync(t.path).size),
      config,
    );
  }

  covering(tests, { testNamePattern, rootDir }) {
    if (!testNamePattern || process.env.__STRYKER_ACTIVE_MUTANT__ === undefined) return tests;
    const names = readTestNames(rootDir);
    return names === undefined ? tests : coveringFiles(tests, names, testNamePattern);
  }

  cacheResults(tests, results) {
    super.cacheResults(tests, results);
    if (process.env.__STRYKER_ACTIVE_MUTANT__ !== undefined || !this.globalConfig?.rootDir) return;
    const record = {};
    for (const file of results.testResults)
      record[file.testFilePath] = file.testResults.map((t) => t.fullName);
    fs.writeFileSync(path.join(this.globalConfig.rootDir, NAMES_FILE), JSON.stringify(record));
    testNames = record;
  }
}

module.exports = MutationSequencer;
module.exports.coveringFiles = coveringFiles;
module.exports.moduleNames = moduleNames;
module.exports.runOrder = runOrder;
