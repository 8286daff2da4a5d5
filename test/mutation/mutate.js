#!/usr/bin/env node
/**
 * `npm run mutate`: Stryker on each part of stryker.config.mjs in turn (steps, then guard), the
 * score from both reports (score.js), then the regression list (run-regressions.js).
 *
 *   node test/mutation/mutate.js [--part steps|guard] [--no-regressions] [-- <stryker options>]
 *
 * Options after `--` go to every Stryker run (e.g. `-- --concurrency 1`, `-- --force` to ignore
 * the incremental files).
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '../..');
const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const own = dashes === -1 ? argv : argv.slice(0, dashes);
const strykerArgs = dashes === -1 ? [] : argv.slice(dashes + 1);
const only = own.includes('--part') ? own[own.indexOf('--part') + 1] : undefined;
const parts = only ? [only] : ['steps', 'guard'];

function run(file, args, env = process.env) {
  const res = spawnSync(process.execPath, [file, ...args], { cwd: ROOT, stdio: 'inherit', env });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

const stryker = path.join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js');
for (const part of parts) {
  console.log(`\n=== Stryker: ${part} ===`);
  run(stryker, ['run', ...strykerArgs], { ...process.env, TUNEVAULT_MUTATE_PART: part });
}
run(path.join(__dirname, 'score.js'), []);
if (!own.includes('--no-regressions')) run(path.join(__dirname, 'run-regressions.js'), []);
