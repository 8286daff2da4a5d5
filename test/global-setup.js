// Packages the stack once before the test workers start: every e2e file deploys the template that
// `serverless package` compiles (cached by its inputs under .tunevault/cache), and packaging takes
// seconds — in parallel workers, tens of seconds. The harness's variant (test/e2e/support) first.
module.exports = async () => {
  require('tsx/cjs');
  const { packageTemplate } = require('../local/stack');
  await packageTemplate('dev', { pollIntervalSeconds: '2' });
  // The few parameter sets tests deploy with (test/e2e/support/embedded.ts, TEST_PARAMS).
  const { TEST_PARAMS, harnessParams } = require('./e2e/support/embedded');
  for (const params of Object.values(TEST_PARAMS)) await packageTemplate('dev', harnessParams(params));
  // The stage's defaults: `tunevault demo`/`local` and the tests that start an EmbeddedAws bare.
  await packageTemplate('dev', {});
};
