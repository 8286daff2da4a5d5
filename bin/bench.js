#!/usr/bin/env node
// `npm run bench`: the benchmarks under bench/, run as TypeScript through tsx like bin/tunevault.js.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../bench/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    console.error(`bench: ${err?.stack ? err.stack : err}`);
    process.exitCode = 1;
  });
