#!/usr/bin/env node
/**
 * `npm run mutate`: Stryker on each part of stryker.config.mjs in turn (steps, then the guard's
 * seven parts), the score from all parts' reports (score.js; fails below 80 % on functions/),
 * then the regression list (run-regressions.js).
 *
 *   node test/mutation/mutate.js [--part <name>[,<name>…]] [--no-regressions] [--retest-static] [--retest-timeouts] [--plan] [--help] [-- <stryker options>]
 *
 * --plan prints, for each part, how many mutants a run would test and how many are static
 * (plan-reporter.mjs), and tests none: about 30 s a part.
 * --retest-static re-runs, in each part, only the lines of the static mutants its incremental file
 * has as surviving (Stryker --force --mutate <lines>; the other results are kept). Stryker's
 * incremental mode re-runs a surviving mutant when a new test covers it, but a static mutant has no
 * per-test coverage, so a test added to kill it is never tried on it without this.
 * --retest-timeouts does the same for the mutants the file has as timed out (counted as detected):
 * a run on a loaded machine can time out a mutant that a quiet one would let survive; run it on a
 * quiet machine.
 *
 * Options after `--` go to every Stryker run (e.g. `-- --concurrency 1`, `-- --force` to ignore
 * the incremental files).
 */
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { isAlive } = require('./report');

const ROOT = path.join(__dirname, '../..');
const OPTIONS = ['--part', '--no-regressions', '--retest-static', '--retest-timeouts', '--plan', '--help'];
const USAGE =
  'usage: node test/mutation/mutate.js [--part <name>[,<name>…]] [--no-regressions] [--retest-static] [--retest-timeouts] [--plan] [--help] [-- <stryker options>]';
const MIN_SCORE = 80;
const PLAN_TEMP = '.stryker-plan';
/** The plugins of stryker.base.json: --plugins replaces them, so --plan names them again with its own. */
const BASE_PLUGINS = JSON.parse(fs.readFileSync(path.join(__dirname, 'stryker.base.json'), 'utf8')).plugins;
/** Stryker options for --plan: the plan reporter alone, with a sandbox folder of its own. */
const PLAN_ARGS = [
  '--plugins',
  [...BASE_PLUGINS, './test/mutation/plan-reporter.mjs'].join(','),
  '--reporters',
  'plan',
  '--tempDirName',
  PLAN_TEMP,
];

function run(file, args, env = process.env) {
  const res = spawnSync(process.execPath, [file, ...args], { cwd: ROOT, stdio: 'inherit', env });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

/** `file:line-line` for each line of the part's incremental file holding a mutant to re-test. */
function retestLines(part, { staticSurvivors, timeouts }) {
  const file = path.join(__dirname, 'incremental', `${part}.json`);
  if (!fs.existsSync(file)) return [];
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ranges = new Set();
  for (const [name, f] of Object.entries(report.files))
    for (const m of f.mutants)
      if ((staticSurvivors && m.static && isAlive(m)) || (timeouts && m.status === 'Timeout'))
        ranges.add(`${name}:${m.location.start.line}-${m.location.end.line}`);
  return [...ranges];
}

async function main() {
  const argv = process.argv.slice(2);
  const dashes = argv.indexOf('--');
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const strykerArgs = dashes === -1 ? [] : argv.slice(dashes + 1);
  if (own.includes('--help') || own.includes('-h')) {
    console.log(USAGE);
    return;
  }
  // A mistyped option must not start hours of mutation testing with the defaults.
  const unknownOptions = own.filter(
    (a, i) => a.startsWith('-') && !OPTIONS.includes(a) && own[i - 1] !== '--part',
  );
  if (unknownOptions.length > 0)
    throw new Error(
      `unknown option ${unknownOptions.join(', ')}: the options are ${OPTIONS.join(', ')} (Stryker's after --)\n\n${USAGE}`,
    );
  const { PARTS } = await import(pathToFileURL(path.join(ROOT, 'stryker.config.mjs')).href);
  const only = own.includes('--part') ? own[own.indexOf('--part') + 1]?.split(',') : undefined;
  const unknown = (only ?? []).filter((p) => !(p in PARTS));
  if (unknown.length > 0)
    throw new Error(`--part ${unknown.join(',')}: the parts are ${Object.keys(PARTS).join(', ')}`);
  const parts = only ?? Object.keys(PARTS);

  const stryker = path.join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js');
  for (const part of parts) {
    console.log(`\n=== Stryker: ${part} ===`);
    const started = Date.now();
    let extra = [];
    if (own.includes('--retest-static') || own.includes('--retest-timeouts')) {
      const ranges = retestLines(part, {
        staticSurvivors: own.includes('--retest-static'),
        timeouts: own.includes('--retest-timeouts'),
      });
      if (ranges.length === 0) {
        console.log(`${part}: nothing to re-test in its incremental file`);
        continue;
      }
      extra = ['--force', '--mutate', ranges.join(',')];
    }
    if (own.includes('--plan')) extra = [...extra, ...PLAN_ARGS];
    run(stryker, ['run', ...extra, ...strykerArgs], { ...process.env, TUNEVAULT_MUTATE_PART: part });
    if (own.includes('--plan')) {
      // The plan reporter ends Stryker before its clean-up: its sandbox is left in its own folder.
      fs.rmSync(path.join(ROOT, PLAN_TEMP), { recursive: true, force: true });
      continue;
    }
    console.log(`=== ${part}: ${((Date.now() - started) / 60_000).toFixed(1)} min ===`);
  }
  if (own.includes('--plan')) return;
  // The issue's target: 80 % of the valid mutants in functions/ detected (all parts' reports merged).
  run(path.join(__dirname, 'score.js'), ['--min', String(MIN_SCORE)]);
  if (!own.includes('--no-regressions')) run(path.join(__dirname, 'run-regressions.js'), []);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
