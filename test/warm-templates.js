#!/usr/bin/env node
/**
 * Packages the templates the e2e files deploy, into the cache they read (local/stack.ts
 * packageTemplate, one packaging at a time under its lock): the harness's variant first, then the
 * parameter sets of test/e2e/support/embedded.ts (TEST_PARAMS), then the stage's defaults
 * (`tunevault demo`/`local` and the tests that start an EmbeddedAws bare). test/global-setup.js
 * starts it beside the tests; an e2e file that needs a template it has not made yet packages that
 * one itself, under the same lock.
 */
require('tsx/cjs');
const { packageTemplate } = require('../local/stack');
const { TEST_PARAMS, harnessParams } = require('./e2e/support/embedded');

/**
 * Stopped by the teardown (a SIGTERM to the process group): `serverless package` gets it too and
 * ends, its packaging cleans up its folders and releases the lock, and no further one starts.
 */
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});

async function main() {
  const params = [{ pollIntervalSeconds: '2' }, ...Object.values(TEST_PARAMS).map(harnessParams), {}];
  for (const p of params) {
    if (stopping) return;
    await packageTemplate('dev', p);
  }
}

main().catch((err) => {
  if (stopping) return;
  // The e2e files package again and fail with the same cause; this says where it came from first.
  console.error(`test/warm-templates.js: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
