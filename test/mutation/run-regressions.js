#!/usr/bin/env node
/**
 * Applies each mutation of test/mutation/regressions.js to a temporary copy of the project and runs
 * the test files named for it: every mutation must make at least one of them fail. The tests are
 * first run on the unmutated copy (a failure there would make every "kill" meaningless).
 *
 *   node test/mutation/run-regressions.js [--only id,id] [--json] [--no-baseline] [--fast] [--jobs N]
 *
 * --no-baseline skips the unmutated run, for a caller that has just run these tests itself
 * (.ci/run, right after `npm test`). --fast leaves out an entry's e2e test files (test/e2e/) where
 * it names another test file, so no whole embedded AWS starts; an entry named only for e2e tests
 * keeps them (e.g. the in-process DynamoDB test of the conditional claim).
 * --jobs N tests N mutations at once, each in its own copy (default: 2, or 1 on a one-core
 * machine): a run is mostly Jest starting and transforming, one core each.
 *
 * Exit code 0 when every mutation is killed; 1 when one survives, no longer applies, or the
 * baseline fails. Hand-written because Stryker generates its own mutants and cannot be told to
 * apply a given one; the work is small (copy, replace once, run jest, restore).
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '../..');
const JEST = path.join(ROOT, 'node_modules/jest/bin/jest.js');

function parseArgs(argv) {
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1]?.split(',') : undefined;
  return {
    only,
    json: argv.includes('--json'),
    baseline: !argv.includes('--no-baseline'),
    fast: argv.includes('--fast'),
    jobs: argv.includes('--jobs')
      ? Number(argv[argv.indexOf('--jobs') + 1])
      : Math.max(1, Math.min(2, os.availableParallelism())),
  };
}

/** The project as the working tree has it (tracked and new files, not ignored ones), node_modules linked. */
function copyProject() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-regressions-'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && fs.existsSync(path.join(ROOT, f)));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  // The packaged templates, cached by the digest of their inputs (local/stack.ts), so Jest's global
  // setup in the copy packages only what a mutation changed, not the five it needs (~90 s a copy).
  const cache = path.join(ROOT, '.tunevault', 'cache');
  if (fs.existsSync(cache)) fs.cpSync(cache, path.join(dir, '.tunevault', 'cache'), { recursive: true });
  return dir;
}

/** Runs jest on the files; returns the failed tests' full names, or the suites that could not run. */
async function runTests(dir, tests) {
  const out = path.join(dir, '.tunevault', `jest-${process.pid}-${Date.now()}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const started = Date.now();
  const res = await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        JEST,
        '--ci',
        '--silent',
        '--json',
        `--outputFile=${out}`,
        // Without e2e files among them, Jest's global setup packages nothing (test/global-setup.js).
        ...tests.map((t) => path.join(dir, t)),
      ],
      { cwd: dir, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
  const seconds = (Date.now() - started) / 1000;
  let report;
  try {
    report = JSON.parse(fs.readFileSync(out, 'utf8'));
  } catch {
    return { exit: res.status, failed: [`jest produced no report: ${res.stderr.slice(-2000)}`], seconds };
  }
  const failed = [];
  for (const suite of report.testResults) {
    const file = path.relative(dir, suite.name);
    const failures = suite.assertionResults.filter((a) => a.status === 'failed');
    for (const a of failures) failed.push(`${file} › ${[...a.ancestorTitles, a.title].join(' › ')}`);
    if (failures.length === 0 && suite.status === 'failed')
      failed.push(`${file} › (suite failed to run: ${String(suite.message).split('\n')[0]})`);
  }
  return { exit: res.status, failed, seconds };
}

/**
 * Where the entry's mutation applies: the offset of its `find` text (which must occur once, or,
 * with `after`, first after that anchor, which must occur once); a string saying why it no longer
 * applies otherwise.
 */
function locate(text, e) {
  const occurrences = (needle) => text.split(needle).length - 1;
  if (e.after === undefined) {
    const count = occurrences(e.find);
    return count === 1 ? text.indexOf(e.find) : `find text occurs ${count} times in ${e.file}`;
  }
  const anchors = occurrences(e.after);
  if (anchors !== 1) return `after text occurs ${anchors} times in ${e.file}`;
  const at = text.indexOf(e.find, text.indexOf(e.after) + e.after.length);
  return at >= 0 ? at : `find text does not occur after the anchor in ${e.file}`;
}

/** Applies entry e to the copy in dir, runs its tests, puts the file back; the entry's result. */
async function tryMutation(dir, e) {
  const file = path.join(dir, e.file);
  const original = fs.readFileSync(file, 'utf8');
  const at = locate(original, e);
  if (typeof at === 'string') return { id: e.id, status: 'stale', detail: at };
  fs.writeFileSync(file, original.slice(0, at) + e.replace + original.slice(at + e.find.length));
  try {
    const run = await runTests(dir, e.tests);
    return {
      id: e.id,
      promise: e.promise,
      status: run.exit !== 0 && run.failed.length > 0 ? 'killed' : 'survived',
      killedBy: run.failed,
      seconds: run.seconds,
    };
  } finally {
    fs.writeFileSync(file, original);
  }
}

function print(e, r) {
  const took = r.seconds === undefined ? '' : `, ${r.seconds.toFixed(0)} s`;
  console.log(`${r.status.toUpperCase().padEnd(8)} ${e.id} (${e.promise}: ${e.what}${took})`);
  const shown = (r.killedBy ?? []).slice(0, 3);
  for (const t of shown) console.log(`           ✕ ${t}`);
  if ((r.killedBy ?? []).length > shown.length)
    console.log(`           … and ${r.killedBy.length - shown.length} more failed test(s)`);
  if (r.detail) console.log(`           ${r.detail}`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!Number.isInteger(args.jobs) || args.jobs < 1) throw new Error('--jobs takes a whole number ≥ 1');
  const all = require('./regressions.js');
  const chosen = args.only ? all.filter((e) => args.only.includes(e.id)) : all;
  const isE2e = (t) => t.startsWith('test/e2e/');
  const entries = args.fast
    ? chosen.map((e) =>
        e.tests.some((t) => !isE2e(t)) ? { ...e, tests: e.tests.filter((t) => !isE2e(t)) } : e,
      )
    : chosen;
  if (entries.length === 0) throw new Error(`no regression matches --only ${args.only}`);
  // One copy per job: each job mutates its own copy, one entry at a time.
  const dirs = Array.from({ length: Math.min(args.jobs, entries.length) }, copyProject);
  const results = new Array(entries.length);
  try {
    const everyTest = [...new Set(entries.flatMap((e) => e.tests))];
    const baseline = args.baseline ? await runTests(dirs[0], everyTest) : { exit: 0, failed: [], seconds: 0 };
    if (baseline.exit !== 0) {
      console.error(
        `The named tests fail without any mutation; fix them first:\n  ${baseline.failed.join('\n  ')}`,
      );
      process.exitCode = 1;
      return;
    }
    if (!args.json)
      console.log(
        args.baseline
          ? `baseline: ${everyTest.length} test file(s) pass (${baseline.seconds.toFixed(0)} s)`
          : `baseline skipped (--no-baseline): the caller ran these ${everyTest.length} test file(s)`,
      );
    let next = 0;
    await Promise.all(
      dirs.map(async (dir) => {
        for (let i = next++; i < entries.length; i = next++) {
          results[i] = await tryMutation(dir, entries[i]);
          if (!args.json) print(entries[i], results[i]);
        }
      }),
    );
  } finally {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
  if (args.json) console.log(JSON.stringify(results, null, 2));
  const bad = results.filter((r) => r.status !== 'killed');
  if (!args.json)
    console.log(
      `\n${results.length - bad.length}/${results.length} listed mutations killed${bad.length ? `; not killed: ${bad.map((r) => r.id).join(', ')}` : ''}`,
    );
  if (bad.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
