/**
 * Jest's own test runner, plus the file-level half of the bail (bail-environment.js is the
 * test-level half): in a mutant run (Stryker sets __STRYKER_ACTIVE_MUTANT__), once a test has
 * failed the remaining test files are not loaded at all. Skipping their tests was not enough: each
 * file still loaded its modules and ran its beforeAll hooks (dynalite, generated corpora), which
 * is most of a static mutant's time. The verdict is the same (killed at the first failure).
 *
 * Stryker's jest runner always runs in band, one file after another; anything else is left to Jest.
 */
const TestRunner = require('jest-runner').default;
const state = require('./bail-state');

class BailRunner extends TestRunner {
  async runTests(tests, watcher, options) {
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    if (mutant === undefined || !options.serial) return super.runTests(tests, watcher, options);
    for (const test of tests) {
      if (state.killed === mutant) return;
      await super.runTests([test], watcher, options);
    }
  }
}

module.exports = BailRunner;
