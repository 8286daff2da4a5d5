/**
 * The Node test environment, plus a bail for mutant runs: once a test has failed under a mutant
 * (Stryker sets __STRYKER_ACTIVE_MUTANT__), the mutant is killed, so the remaining tests of that
 * run are skipped instead of run. Stryker's jest runner cannot bail by itself (Jest has no
 * programmatic bail), and the guard's differential and property tests take seconds each.
 *
 * Without an active mutant (Stryker's first, unmutated run, or plain Jest) every test runs.
 */
const { TestEnvironment } = require('jest-environment-node');
const state = require('./bail-state');

const ACTIVE_MUTANT = '__STRYKER_ACTIVE_MUTANT__';

class BailEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    const mutant = process.env[ACTIVE_MUTANT];
    if (mutant === undefined) return;
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') state.killed = mutant;
    else if (event.name === 'test_start' && state.killed === mutant) event.test.mode = 'skip';
  }
}

module.exports = BailEnvironment;
