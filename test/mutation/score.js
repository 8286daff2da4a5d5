#!/usr/bin/env node
/**
 * The mutation score from Stryker's JSON reports (by default every part of stryker.config.mjs,
 * reports/mutation/<part>.json, merged), per folder and in total for `functions/`,
 * counted as Stryker counts it: detected (killed + timeout) over valid (detected + survived + no
 * coverage); compile and runtime errors and ignored mutants are not valid mutants.
 *
 *   node test/mutation/score.js [--survivors] [--min <percent>] [report.json ...]
 *
 * --survivors lists each surviving (or uncovered) mutant with its place and replacement, the files
 * with the most survivors first, marking those listed in equivalent.json with their reason
 * (--unlisted: only the others; --entries: as JSON lines to paste into equivalent.json). --min fails (exit code 1) when the total on functions/ is lower.
 */
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { isAlive, offsetOf } = require('./report');

const REPORTS = path.join(__dirname, '../../reports/mutation');
const argv = process.argv.slice(2);
const unlistedOnly = argv.includes('--unlisted');
// --entries: each listed survivor as a JSON line in equivalent.json's shape (plus its line), to paste with a reason.
const asEntries = argv.includes('--entries');
const survivors = argv.includes('--survivors') || unlistedOnly;
const min = argv.includes('--min') ? Number(argv[argv.indexOf('--min') + 1]) : undefined;
const given = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--min');

/** Survivors judged equivalent (equivalent.json), keyed by file, mutator, mutated text and replacement. */
const EQUIVALENT = new Map();
for (const e of JSON.parse(fs.readFileSync(path.join(__dirname, 'equivalent.json'), 'utf8')).mutants)
  for (const r of e.replacements)
    EQUIVALENT.set(JSON.stringify([e.file, e.mutator, e.original, r]), e.reason);

const originalOf = (source, m) =>
  source.slice(offsetOf(source, m.location.start), offsetOf(source, m.location.end));

function equivalenceOf(rel, source, m) {
  return EQUIVALENT.get(JSON.stringify([rel, m.mutatorName, originalOf(source, m), m.replacement ?? '']));
}

const STATUSES = ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'RuntimeError', 'Ignored'];
const empty = () => Object.fromEntries(STATUSES.map((s) => [s, 0]));

/** The folder a file's score is shown under: functions/<step>/, functions/shared/<part>/ or the top folder. */
function folderOf(rel) {
  const parts = rel.split('/');
  if (parts[0] !== 'functions') return `${parts[0]}/`;
  if (parts[1] === 'shared' && parts.length > 3) return `functions/shared/${parts[2]}/`;
  return `${parts.slice(0, parts.length > 2 ? 2 : 1).join('/')}/`;
}

async function main() {
  // Every part of stryker.config.mjs (an ES module, hence the import): a part without a report is named below.
  const { PARTS } = await import(pathToFileURL(path.join(__dirname, '../../stryker.config.mjs')).href);
  const files =
    given.length > 0 ? given : Object.keys(PARTS).map((part) => path.join(REPORTS, `${part}.json`));

  const byFile = new Map();
  const missing = [];
  for (const file of files) {
    if (!fs.existsSync(file)) {
      missing.push(path.relative(process.cwd(), file));
      continue;
    }
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const [name, f] of Object.entries(report.files)) {
      const rel = path.relative(
        path.join(__dirname, '../..'),
        path.resolve(path.join(__dirname, '../..'), name),
      );
      // The two parts mutate disjoint files; should a file appear twice, its later report wins.
      byFile.set(rel.split(path.sep).join('/'), { source: f.source, mutants: f.mutants });
    }
  }

  const groups = new Map();
  const add = (group, mutants) => {
    const c = groups.get(group) ?? empty();
    for (const m of mutants) c[m.status] = (c[m.status] ?? 0) + 1;
    groups.set(group, c);
  };
  for (const [rel, f] of byFile) {
    add(folderOf(rel), f.mutants);
    if (rel.startsWith('functions/')) add('functions/ (total)', f.mutants);
    add('all (total)', f.mutants);
  }

  const scoreOf = (c) => {
    const detected = c.Killed + c.Timeout;
    const valid = detected + c.Survived + c.NoCoverage;
    return { detected, valid, score: valid === 0 ? undefined : (100 * detected) / valid };
  };
  const fmt = (score) => (score === undefined ? 'n/a' : `${score.toFixed(2)} %`);

  for (const m of missing) console.log(`${m}: no report (that part has not run)`);
  const rows = [...groups].sort(([a], [b]) => {
    const rank = (g) => (g.includes('(total)') ? 1 : 0);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  const width = Math.max(...rows.map(([g]) => g.length));
  console.log(
    `\n${'folder'.padEnd(width)}  score      killed timeout survived no-cov  (not counted: compile, runtime)`,
  );
  for (const [group, c] of rows) {
    const { score } = scoreOf(c);
    console.log(
      `${group.padEnd(width)}  ${fmt(score).padStart(8)}  ${String(c.Killed).padStart(7)} ${String(c.Timeout).padStart(7)} ${String(c.Survived).padStart(8)} ${String(c.NoCoverage).padStart(6)}  (${c.CompileError}, ${c.RuntimeError})`,
    );
  }

  const alive = [...byFile]
    .map(([rel, f]) => [
      rel,
      f.source,
      f.mutants.filter(isAlive).map((m) => ({ ...m, equivalent: equivalenceOf(rel, f.source, m) })),
    ])
    .filter(([, , ms]) => ms.length > 0);
  const aliveCount = alive.reduce((n, [, , ms]) => n + ms.length, 0);
  const listed = alive.reduce((n, [, , ms]) => n + ms.filter((m) => m.equivalent).length, 0);
  console.log(
    `\nsurvivors (incl. no coverage): ${aliveCount}; listed as equivalent (equivalent.json): ${listed}; not yet killed or listed: ${aliveCount - listed}`,
  );

  if (survivors) {
    const shown = alive
      .map(([rel, source, ms]) => [rel, source, unlistedOnly ? ms.filter((m) => !m.equivalent) : ms])
      .filter(([, , ms]) => ms.length > 0)
      .sort(([a, , x], [b, , y]) => y.length - x.length || a.localeCompare(b));
    for (const [rel, source, ms] of shown) {
      console.log(`\n${rel}: ${ms.length}`);
      const lines = source.split('\n');
      for (const m of ms.sort((a, b) => a.location.start.line - b.location.start.line)) {
        const line = lines[m.location.start.line - 1] ?? '';
        console.log(
          asEntries
            ? JSON.stringify({
                file: rel,
                line: m.location.start.line,
                mutator: m.mutatorName,
                original: originalOf(source, m),
                replacements: [m.replacement ?? ''],
              })
            : `  ${m.location.start.line}:${m.location.start.column} ${m.status === 'NoCoverage' ? 'NO COVERAGE ' : ''}${m.mutatorName}: ${JSON.stringify(m.replacement ?? '')}\n      ${line.trim().slice(0, 160)}${m.equivalent ? `\n      equivalent: ${m.equivalent}` : ''}`,
        );
      }
    }
  }

  const total = groups.get('functions/ (total)');
  if (min !== undefined) {
    const { score } = total ? scoreOf(total) : { score: undefined };
    if (score === undefined || score < min) {
      console.error(`\nmutation score on functions/ ${fmt(score)} is below ${min} %`);
      process.exitCode = 1;
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
