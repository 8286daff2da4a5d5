/**
 * The data guard's own benchmark (bench/scan, kept by its owners) as a child process: its output
 * passes through, and its target lines join the summary beside the other figures.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Report } from './lib/report';

const SECTION = 'Data guard (bench/scan)';
const ENTRIES = ['run.ts', 'index.ts', 'main.ts', 'run.js', 'index.js'];

export async function dataGuard(report: Report, env: NodeJS.ProcessEnv, args: string[] = []): Promise<void> {
  report.heading('6. Data guard (bench/scan, its own benchmark)');
  const dir = path.join(__dirname, 'scan');
  const entry = ENTRIES.map((e) => path.join(dir, e)).find((f) => fs.existsSync(f));
  if (!entry) {
    report.figure(SECTION, 'bench/scan', `not there yet (looked for ${ENTRIES.join(', ')})`);
    return;
  }
  const lines: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', entry, ...args], {
      cwd: path.join(__dirname, '..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    const onData = (d: Buffer) => {
      pending += d.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        report.print(`  │ ${l}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (c) => {
      if (pending) {
        lines.push(pending);
        report.print(`  │ ${pending}`);
      }
      resolve(c ?? 1);
    });
  });
  // Its figures and verdicts, in its own words: the `label   value` lines of its closing block.
  for (const l of lines) {
    const m = /^(\S.*?)\s{2,}(\S.*)$/.exec(l.trim());
    if (!m || /^run \d/.test(l.trim())) continue;
    const [, label = '', value = ''] = m;
    const verdict = /^MET\b/.test(value) ? true : /^MISSED\b/.test(value) ? false : undefined;
    if (verdict === undefined) report.figure(SECTION, label, value);
    else
      report.figure(
        SECTION,
        label,
        value.replace(/^(MET|MISSED)\s*/, ''),
        label.replace(/^target\s+/, ''),
        verdict,
      );
  }
  if (code !== 0) report.fail(SECTION, `bench/scan exited with ${code}`);
}
