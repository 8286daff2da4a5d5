/**
 * The e2e test environment: Node's, plus one duty once a test file has finished — its own
 * afterAll hooks included — stop any embedded AWS it left running (one whose start outlasted a
 * hook's timeout, or whose test failed before its stop). A leftover's timers (the DynamoDB TTL
 * sweep, Bedrock's job timeline) would otherwise fire inside a later test file of the same worker.
 *
 * Why an environment and not an afterAll in a setup file: Jest runs a file's afterAll hooks in the
 * order they are declared, so a setup file's hook runs before the test file's own and would find
 * every harness still running. `run_finish` comes after all of them (jest-circus awaits the
 * environment's handleTestEvent).
 */
const { TestEnvironment } = require('jest-environment-node');

/** Set by test/e2e/support/embedded.ts when a test file loads it. */
const STOP_LEFTOVERS = '__tunevaultStopLeftoverHarnesses';

class E2eEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  async handleTestEvent(event) {
    if (event.name !== 'run_finish') return;
    const stop = this.global[STOP_LEFTOVERS];
    if (typeof stop !== 'function') return;
    const stopped = await stop();
    if (stopped > 0) {
      process.stderr.write(
        `${this.testPath ?? 'an e2e test file'}: stopped ${stopped} embedded AWS it left running\n`,
      );
    }
  }
}

module.exports = E2eEnvironment;
