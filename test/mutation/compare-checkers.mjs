#!/usr/bin/env node
/**
 * How often the checker of the parts (file-checker.mjs) and Stryker's own `typescript` checker
 * disagree, on a part's report from a run with Stryker's checker (`-- --checkers typescript`):
 * every mutant of the report is checked again with file-checker.mjs, and compared with whether
 * Stryker's called it a CompileError. The report's files must be as they were at its run.
 *
 *   node test/mutation/compare-checkers.mjs reports/mutation/steps.json [tsconfig] [--others N]
 *
 * Every mutant of the report is checked again, or with `--refused N` / `--others N` N of those
 * Stryker's checker refused / passed, spread evenly over the report (about 0.5 s each on two cores).
 *
 * "Missed" mutants are compile errors file-checker.mjs lets through: with it they are tested, and
 * counted killed or survived. "Extra" ones it refuses and Stryker's did not (none are expected: its
 * check is a part of the whole-program one). 2026-12-07: 1,302 re-checked, 1,302 agree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileChecker } from './file-checker.mjs';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : Infinity);
const [reportFile, tsconfig = 'test/mutation/tsconfig.json'] = args.filter(
  (a, i) => !a.startsWith('--') && !['--others', '--refused'].includes(args[i - 1]),
);
if (!reportFile) {
  console.error('usage: compare-checkers.mjs <report.json> [tsconfig]');
  process.exit(2);
}
const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
const checker = createFileChecker(tsconfig, ROOT);

const all = Object.entries(report.files).flatMap(([fileName, file]) =>
  file.mutants.filter((m) => m.status !== 'Ignored').map((m) => ({ fileName, m })),
);
/** n of the list, spread evenly over it. */
const spread = (list, n) => {
  const step = Math.max(1, list.length / Math.min(n, list.length));
  return list.filter((_, i) => Math.floor(i % step) === 0).slice(0, n);
};
const refusedAll = all.filter(({ m }) => m.status === 'CompileError');
const passed = all.filter(({ m }) => m.status !== 'CompileError');
const refused = spread(refusedAll, option('--refused'));
const sample = spread(passed, option('--others'));

const tally = { agree: 0, missed: [], extra: [], checked: 0 };
const started = Date.now();
for (const { fileName, m } of [...refused, ...sample]) {
  // Reports count lines and columns from 1; Stryker's checkers get them from 0.
  const location = {
    start: { line: m.location.start.line - 1, column: m.location.start.column - 1 },
    end: { line: m.location.end.line - 1, column: m.location.end.column - 1 },
  };
  const error = checker.check({ fileName, location, replacement: m.replacement ?? '' });
  tally.checked += 1;
  const strykers = m.status === 'CompileError';
  const where = `${fileName}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} → ${JSON.stringify(m.replacement ?? '').slice(0, 60)}`;
  if (strykers === (error !== undefined)) tally.agree += 1;
  else if (strykers) tally.missed.push(`${where} (was ${m.status})`);
  else tally.extra.push(`${where} (was ${m.status}): ${error.split('\n')[0]}`);
}
const seconds = (Date.now() - started) / 1000;
console.log(
  `${refused.length} of the ${refusedAll.length} mutants Stryker's checker refused and ${sample.length} of the ${passed.length} it passed: ${tally.checked} mutants re-checked in ${seconds.toFixed(0)} s (${((1000 * seconds) / tally.checked).toFixed(0)} ms each): ${tally.agree} agree, ${tally.missed.length} compile errors it let through (missed), ${tally.extra.length} refused only by file-checker.mjs`,
);
for (const m of tally.missed) console.log(`  missed: ${m}`);
for (const m of tally.extra) console.log(`  extra:  ${m}`);
