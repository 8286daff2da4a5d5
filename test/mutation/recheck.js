#!/usr/bin/env node
/**
 * Re-checks the survivors of a Stryker report against given test files, without a Stryker run:
 * each surviving (or uncovered) mutant of one source file is applied to a scratch copy of the
 * project, the test files are run there, and the mutant is reported killed (a test failed) or
 * still alive. For the quick loop of killing survivors with new tests; the score itself comes only
 * from Stryker (`npm run mutate`), which also type-checks each mutant (a survivor in a report
 * already compiled, so this skips that).
 *
 *   node test/mutation/recheck.js <report.json> <source file> [--lines 10-40] -- <test file>...
 *
 * A source file changed since the report: each mutant moves with its lines (the nearest place
 * they occur word for word); one whose lines changed is left out. `--lines` counts the report's lines.
 *
 * A mutant whose tests run past TUNEVAULT_RECHECK_TIMEOUT_S (60 s) is stopped and reported as a
 * timeout (detected, as Stryker counts it).
 *
 * The scratch copy is /tmp/tunevault-recheck (node_modules hard-linked, the rest copied afresh on
 * each call), so the working tree is never changed.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { isAlive, offsetOf } = require('./report');

const ROOT = path.join(__dirname, '../..');
const SCRATCH = process.env.TUNEVAULT_RECHECK_DIR ?? '/tmp/tunevault-recheck';
/** How long one mutant's test run may take (TUNEVAULT_RECHECK_TIMEOUT_S, default 60 s). */
const TIMEOUT_MS = Number(process.env.TUNEVAULT_RECHECK_TIMEOUT_S ?? 60) * 1000;
const SKIP = new Set([
  'node_modules',
  '.git',
  '.stryker-tmp',
  'reports',
  '.tunevault',
  '.serverless',
  'coverage',
]);

function copyProject() {
  fs.mkdirSync(SCRATCH, { recursive: true });
  for (const entry of fs.readdirSync(ROOT)) {
    if (SKIP.has(entry)) continue;
    fs.rmSync(path.join(SCRATCH, entry), { recursive: true, force: true });
    fs.cpSync(path.join(ROOT, entry), path.join(SCRATCH, entry), { recursive: true });
  }
  // Hard links, not a symlink: Jest's moduleNameMapper resolves through the real path.
  if (!fs.existsSync(path.join(SCRATCH, 'node_modules')))
    spawnSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(SCRATCH, 'node_modules')], {
      stdio: 'inherit',
    });
}

/**
 * The mutants of a report made on `reported`, moved to where their lines stand in `current`: the
 * mutant's lines, word for word, at the nearest place they occur. A mutant whose lines no longer
 * occur is left out.
 */
function relocate(mutants, reported, current) {
  const was = reported.split('\n');
  const now = current.split('\n');
  const moved = [];
  for (const m of mutants) {
    const block = was.slice(m.location.start.line - 1, m.location.end.line);
    let best;
    for (let i = 0; i + block.length <= now.length; i += 1) {
      if (!block.every((text, k) => now[i + k] === text)) continue;
      const shift = i + 1 - m.location.start.line;
      if (best === undefined || Math.abs(shift) < Math.abs(best)) best = shift;
    }
    if (best === undefined) continue;
    moved.push({
      ...m,
      location: {
        start: { ...m.location.start, line: m.location.start.line + best },
        end: { ...m.location.end, line: m.location.end.line + best },
      },
    });
  }
  return moved;
}

function main() {
  const argv = process.argv.slice(2);
  const dashes = argv.indexOf('--');
  if (dashes < 2) {
    console.error('usage: recheck.js <report.json> <source file> [--lines A-B] -- <test file>...');
    process.exit(2);
  }
  const [reportFile, sourceFile] = argv;
  const tests = argv.slice(dashes + 1);
  const linesArg = argv.indexOf('--lines') !== -1 ? argv[argv.indexOf('--lines') + 1] : undefined;
  const [from, to] = linesArg ? linesArg.split('-').map(Number) : [1, Number.POSITIVE_INFINITY];

  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  const rel = path.relative(ROOT, path.resolve(sourceFile)).split(path.sep).join('/');
  const entry = Object.entries(report.files).find(([name]) => name.split(path.sep).join('/') === rel);
  if (!entry) throw new Error(`${rel} is not in ${reportFile}`);
  const [, { source: reported }] = entry;
  const current = fs.readFileSync(path.join(ROOT, rel), 'utf8');
  // Pending: a plan report's mutant (`mutate.js --plan`), not tested yet.
  const chosen = entry[1].mutants.filter(
    (m) =>
      (isAlive(m) || m.status === 'Pending') &&
      m.location.start.line >= from &&
      m.location.start.line <= (to ?? from),
  );
  // A file changed since the report: each mutant moves with its lines, or is left out when they changed.
  const alive = current === reported ? chosen : relocate(chosen, reported, current);
  if (alive.length < chosen.length)
    console.log(`${chosen.length - alive.length} mutant(s) left out: their lines changed since the report`);

  copyProject();
  const target = path.join(SCRATCH, rel);
  const jest = path.join(SCRATCH, 'node_modules/jest/bin/jest.js');
  let killed = 0;
  try {
    for (const m of alive) {
      const start = offsetOf(current, m.location.start);
      const end = offsetOf(current, m.location.end);
      fs.writeFileSync(target, current.slice(0, start) + m.replacement + current.slice(end));
      const res = spawnSync(process.execPath, [jest, '--bail', '--silent', ...tests], {
        cwd: SCRATCH,
        encoding: 'utf8',
        // A mutant that loops forever (a loop it stops from advancing) is stopped, and counted as
        // Stryker counts it: detected, as a timeout.
        timeout: TIMEOUT_MS,
        killSignal: 'SIGKILL',
      });
      const timedOut = res.error?.code === 'ETIMEDOUT';
      const dead = timedOut || res.status !== 0;
      if (dead) killed += 1;
      const line = current.split('\n')[m.location.start.line - 1].trim().slice(0, 100);
      console.log(
        `${timedOut ? 'timeout' : dead ? 'killed' : 'ALIVE '} ${m.location.start.line}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(m.replacement).slice(0, 80)}\n         ${line}`,
      );
    }
  } finally {
    fs.writeFileSync(target, current);
  }
  console.log(`\n${rel}: ${killed} of ${alive.length} survivors killed by ${tests.join(' ')}`);
}

main();
