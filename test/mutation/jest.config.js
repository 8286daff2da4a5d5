/**
 * The tests Stryker runs against each mutant (see test/mutation/README.md): the unit and contract
 * projects, in process, less the one test file that only bounds time.
 */
const base = require('../../jest.config.js');

const byName = Object.fromEntries(base.projects.map((p) => [p.displayName, p]));
// adversarial.test.ts bounds each detector's time on 1 MiB hostile lines (< 1 s): instrumented
// code runs several times slower, so it fails in the dry run; a mutant that makes a detector
// backtrack is caught by Stryker's own timeout instead.
const timingOnly = ['<rootDir>/test/unit/guard/adversarial.test.ts'];

module.exports = {
  rootDir: '../..',
  projects: [byName.unit, byName.contract].map((p) => ({
    ...p,
    rootDir: '../..',
    testPathIgnorePatterns: [...p.testPathIgnorePatterns, ...timingOnly],
  })),
  testTimeout: base.testTimeout,
};
