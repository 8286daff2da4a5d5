#!/usr/bin/env node
// The `tunevault` command, as compiled into dist/ by `npm run build` (cli/build.js), which
// `npm ci` and `npm install` run through `prepare`: nothing is transpiled at start.
// TUNEVAULT_FROM_SOURCE=1 runs the TypeScript sources through tsx instead (while editing them).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const path = require('node:path');

function load() {
  if (process.env.TUNEVAULT_FROM_SOURCE === '1') {
    require('tsx/cjs');
    return require('../cli/main.ts');
  }
  const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
  try {
    return require(compiled);
  } catch (err) {
    if (err?.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes(compiled)) throw err;
    console.error(
      'tunevault: the command is not built (dist/cli/main.js is missing): run `npm run build` ' +
        '(npm ci and npm install do), or set TUNEVAULT_FROM_SOURCE=1 to run the TypeScript sources.',
    );
    process.exit(70);
  }
}

load()
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    console.error(`tunevault: ${err?.message ? err.message : err}`);
    process.exitCode = 1;
  });
