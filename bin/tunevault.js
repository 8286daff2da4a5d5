#!/usr/bin/env node
// The `tunevault` command: TypeScript sources run through tsx, so there is no build step.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    console.error(`tunevault: ${err?.message ? err.message : err}`);
    process.exitCode = 1;
  });
