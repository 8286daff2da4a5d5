/**
 * The tests Stryker runs against each mutant (see test/mutation/README.md): the unit and contract
 * projects, in process, less the one test file that only bounds time, plus the e2e files that
 * exercise production code in process against one embedded service (seconds, not a whole stack).
 */
const path = require('node:path');
const base = require('../../jest.config.js');

const rootDir = path.join(__dirname, '../..');

const byName = Object.fromEntries(base.projects.map((p) => [p.displayName, p]));
// (test/load/adversarial.test.ts, which bounds each detector's time on 1 MiB hostile lines, is
// not in these projects: instrumented code runs several times slower, so it would fail in the dry
// run; a mutant that makes a detector backtrack is caught by Stryker's own timeout instead.)
// (task-token-store and admission-table: the DynamoDB gateways against dynalite alone.)
// The other e2e files start a whole embedded AWS and run the handlers from esbuild bundles:
// a minute per mutant, and Stryker cannot see which mutants a bundle reaches.
const inProcessE2e = [
  '<rootDir>/test/e2e/task-token-store.test.ts',
  '<rootDir>/test/e2e/admission-table.test.ts',
];

// A mutant's run stops at its first failing test (bail-environment.js skips the rest of the file,
// bail-runner.js the remaining files); sequencer.js keeps the files with a covering test, focused first.
const testEnvironment = path.join(__dirname, 'bail-environment.js');
const runner = path.join(__dirname, 'bail-runner.js');

module.exports = {
  rootDir,
  projects: [
    ...[byName.unit, byName.contract].map((p) => ({
      ...p,
      rootDir,
      testEnvironment,
      runner,
    })),
    // The bail environment in place of the e2e project's, which stops leftover embedded AWS:
    // these files start none (task-token-table.ts runs dynalite alone).
    {
      ...byName.e2e,
      rootDir,
      testEnvironment,
      runner,
      displayName: 'e2e (in process)',
      testMatch: inProcessE2e,
    },
  ],
  testSequencer: path.join(__dirname, 'sequencer.js'),
  testTimeout: base.testTimeout,
};
