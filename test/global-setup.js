// Starts packaging the templates the e2e files deploy (test/warm-templates.js) beside the tests
// instead of before them: `serverless package` takes seconds a template (the first one builds the
// function zips), and on a clean clone the five took over half a minute in which no test ran.
// The unit tests, which deploy nothing, run first meanwhile (test/sequencer.js); each e2e file
// packages what it needs itself if it is not there yet (cached, under a lock), so this is only a
// head start, and test/global-teardown.js stops it if the tests end first.
//
// A run given test paths of which none is under test/e2e or test/load (`npx jest
// test/unit/x.test.ts`, and each mutation run-regressions.js tries on unit and contract tests)
// packages nothing here.
const { spawn } = require('node:child_process');
const path = require('node:path');

module.exports = async (globalConfig) => {
  const paths = globalConfig?.nonFlagArgs ?? [];
  if (!globalConfig?.findRelatedTests && paths.length > 0 && !paths.some((p) => /e2e|load/.test(p))) return;
  // A process group of its own, so the teardown stops `serverless package` with it.
  const warmer = spawn(process.execPath, [path.join(__dirname, 'warm-templates.js')], {
    cwd: path.join(__dirname, '..'),
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  warmer.unref();
  globalThis.__tunevaultWarmer = warmer;
};
