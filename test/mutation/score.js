#!/usr/bin/env node
/**
 * The mutation score per top-level folder from Stryker's JSON report (reports/mutation/mutation.json),
 * counted as Stryker counts it: detected (killed + timeout) over valid (detected + survived + no
 * coverage); compile and runtime errors and ignored mutants are not valid mutants.
 *
 *   node test/mutation/score.js [report.json]
 */
const fs = require('node:fs');
const path = require('node:path');

const file = process.argv[2] ?? path.join(__dirname, '../../reports/mutation/mutation.json');
const report = JSON.parse(fs.readFileSync(file, 'utf8'));

const STATUSES = ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'RuntimeError', 'Ignored'];
const byFolder = new Map();
for (const [name, f] of Object.entries(report.files)) {
  const folder = name.split(/[\\/]/)[0];
  const counts = byFolder.get(folder) ?? Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const m of f.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  byFolder.set(folder, counts);
}

for (const [folder, c] of [...byFolder].sort()) {
  const detected = c.Killed + c.Timeout;
  const valid = detected + c.Survived + c.NoCoverage;
  const score = valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(2)} %`;
  console.log(
    `${folder}/: mutation score ${score} — ${c.Killed} killed, ${c.Timeout} timeout, ${c.Survived} survived, ${c.NoCoverage} no coverage (${c.CompileError} compile errors, ${c.RuntimeError} runtime errors, ${c.Ignored} ignored: not counted)`,
  );
}
