// Packages the stack once before the test workers start: every e2e file deploys the template that
// `serverless package` compiles (cached by its inputs under .tunevault/cache), and packaging takes
// seconds — in parallel workers, tens of seconds. The harness's variant (test/e2e/support) first.
//
// Only a warm-up: each e2e file packages what it needs itself (cached, under a lock). So a run
// given test paths of which none is under test/e2e (`npx jest test/unit/x.test.ts`, and each
// mutation run-regressions.js tries on unit and contract tests) packages nothing here.
module.exports = async (globalConfig) => {
  const paths = globalConfig?.nonFlagArgs ?? [];
  if (!globalConfig?.findRelatedTests && paths.length > 0 && !paths.some((p) => p.includes('e2e'))) return;
  require('tsx/cjs');
  const { packageTemplate } = require('../local/stack');
  await packageTemplate('dev', { pollIntervalSeconds: '2' });
  // The few parameter sets tests deploy with (test/e2e/support/embedded.ts, TEST_PARAMS).
  const { TEST_PARAMS, harnessParams } = require('./e2e/support/embedded');
  for (const params of Object.values(TEST_PARAMS)) await packageTemplate('dev', harnessParams(params));
  // The stage's defaults: `tunevault demo`/`local` and the tests that start an EmbeddedAws bare.
  await packageTemplate('dev', {});
};
