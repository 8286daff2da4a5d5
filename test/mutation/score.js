#!/usr/bin/env node
/**
 * The mutation score from Stryker's JSON reports (by default both parts of stryker.config.mjs,
 * reports/mutation/steps.json and guard.json), per top-level folder and for the guard alone,
 * counted as Stryker counts it: detected (killed + timeout) over valid (detected + survived + no
 * coverage); compile and runtime errors and ignored mutants are not valid mutants.
 *
 *   node test/mutation/score.js [report.json ...]
 */
const fs = require('node:fs');
const path = require('node:path');

const REPORTS = path.join(__dirname, '../../reports/mutation');
const given = process.argv.slice(2);
const files = given.length > 0 ? given : ['steps.json', 'guard.json'].map((f) => path.join(REPORTS, f));

const STATUSES = ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'RuntimeError', 'Ignored'];
const groups = new Map();
const count = (group, mutants) => {
  const c = groups.get(group) ?? Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const m of mutants) c[m.status] = (c[m.status] ?? 0) + 1;
  groups.set(group, c);
};

for (const file of files) {
  if (!fs.existsSync(file)) {
    console.log(`${path.relative(process.cwd(), file)}: no report (that part has not run)`);
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const [name, f] of Object.entries(report.files)) {
    const rel = name.split(path.sep).join('/');
    count(`${rel.split('/')[0]}/`, f.mutants);
    if (rel.startsWith('functions/shared/guard/')) count('  of which functions/shared/guard/', f.mutants);
  }
}

for (const [group, c] of [...groups].sort()) {
  const detected = c.Killed + c.Timeout;
  const valid = detected + c.Survived + c.NoCoverage;
  const score = valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(2)} %`;
  console.log(
    `${group}: mutation score ${score} — ${c.Killed} killed, ${c.Timeout} timeout, ${c.Survived} survived, ${c.NoCoverage} no coverage (not counted: ${c.CompileError} compile errors, ${c.RuntimeError} runtime errors, ${c.Ignored} ignored)`,
  );
}
