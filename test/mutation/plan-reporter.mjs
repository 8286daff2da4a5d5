/**
 * `npm run mutate -- --plan`: a Stryker reporter that prints, per mutated file, how many mutants
 * the run would test and how many of them are static (run against every related test file rather
 * than only their covering tests), then ends the run before any mutant is tested (about 30 s a part:
 * instrumentation and the dry run).
 *
 * A static mutant costs a whole related test set, so a count that jumps is worth a look: code a
 * test runs in a `beforeAll` hook, a describe body or at import has no test to be attributed to,
 * and Stryker then counts every line it reaches as static. (Measuring the guard's detection
 * figures in a beforeAll made 346 of guard-text's 490 mutants static; moved into its test, 21.)
 *
 * It also writes `reports/mutation/<part>.plan.json`: every mutant in the report's shape, those the
 * run would test marked `Pending`, so `recheck.js` can apply a part's mutants to new tests before
 * the part's first Stryker run (the exact mutants Stryker will make, without its hours of testing).
 */
import fs from 'node:fs';
import path from 'node:path';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

class PlanReporter {
  onMutationTestingPlanReady({ mutantPlans }) {
    const rows = new Map();
    const report = { schemaVersion: '1', thresholds: { high: 80, low: 60 }, files: {} };
    for (const { plan, mutant } of mutantPlans) {
      const file = path.relative(process.cwd(), mutant.fileName);
      report.files[file] ??= {
        language: 'typescript',
        source: fs.readFileSync(mutant.fileName, 'utf8'),
        mutants: [],
      };
      report.files[file].mutants.push({
        id: mutant.id,
        mutatorName: mutant.mutatorName,
        replacement: mutant.replacement,
        // Stryker counts lines and columns from 0, the report from 1.
        location: {
          start: { line: mutant.location.start.line + 1, column: mutant.location.start.column + 1 },
          end: { line: mutant.location.end.line + 1, column: mutant.location.end.column + 1 },
        },
        status: plan === 'Run' ? 'Pending' : mutant.status,
      });
      const row = rows.get(file) ?? { mutants: 0, toTest: 0, static: 0 };
      row.mutants++;
      if (plan === 'Run') {
        row.toTest++;
        if (mutant.static) row.static++;
      }
      rows.set(file, row);
    }
    const total = { mutants: 0, toTest: 0, static: 0 };
    console.log(
      `\n${'file'.padEnd(56)} ${'mutants'.padStart(8)} ${'to test'.padStart(8)} ${'static'.padStart(8)}`,
    );
    for (const [file, row] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
      console.log(
        `${file.padEnd(56)} ${String(row.mutants).padStart(8)} ${String(row.toTest).padStart(8)} ${String(row.static).padStart(8)}`,
      );
      for (const key of Object.keys(total)) total[key] += row[key];
    }
    console.log(
      `${'total'.padEnd(56)} ${String(total.mutants).padStart(8)} ${String(total.toTest).padStart(8)} ${String(total.static).padStart(8)}`,
    );
    const part = process.env.TUNEVAULT_MUTATE_PART ?? 'steps';
    // Beside the part's report.
    const out = path.join(import.meta.dirname, `../../reports/mutation/${part}.plan.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(report));
    console.log(`every mutant, those to test as Pending: ${path.relative(process.cwd(), out)}`);
    // The plan is all this run was for: stop before the checkers and test runners start on it.
    process.exit(0);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'plan', PlanReporter)];
