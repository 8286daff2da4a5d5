/**
 * What enforcing IAM costs (issue 10: ≤ 20 %), measured in one run as ratios against `--iam off`:
 * `npm start` as whole processes (alternating, median of each), and the 100-drop throughput
 * (the same drops on two embedded AWS, one after the other).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA, startHarness } from '../test/e2e/support/embedded';
import type { IamMode } from '../local/iam/types';
import { median, type Report, secs } from './lib/report';

const SECTION = 'iam';
const ROOT = path.join(__dirname, '..');

/**
 * CPU seconds of this process's waited-for children (Linux /proc/self/stat, cutime + cstime):
 * what a whole `npm start` costs, whatever else the shared machine is doing.
 */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of proc(5), counted from 1 with pid first: index 13 and 14 after the name.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

function demoOnce(mode: IamMode, env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
  const started = Date.now();
  const cpuBefore = childrenCpuMs();
  const out = spawnSync(
    process.execPath,
    [path.join(ROOT, 'bin', 'tunevault.js'), 'demo', '--iam', mode, '--json'],
    {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (out.status !== 0)
    throw new Error(`tunevault demo --iam ${mode} exited ${out.status}: ${out.stderr.slice(-2000)}`);
  return { wall: Date.now() - started, cpu: childrenCpuMs() - cpuBefore };
}

async function dropMany(mode: IamMode, files: number) {
  const h = await startHarness({ iam: mode, jobDurationMs: 0, params: { pollIntervalSeconds: '900' } });
  try {
    // Warm: the key exists and every function is loaded before the clock starts.
    await h.drop(`iam-bench-warm-${mode}`);
    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    const objects = await Promise.all(
      Array.from({ length: files }, (_, i) =>
        h.put(`${h.stack.trainingPrefix}iam-bench-${mode}-${i}.jsonl`, DATA.replace('lamp', `lamp ${i}`)),
      ),
    );
    const runs = await Promise.all(objects.map((o) => h.finished(h.executionArnOf(o), 300_000)));
    const elapsed = Date.now() - started;
    const used = process.cpuUsage(cpuBefore);
    const ok = runs.filter((r) => r.status === 'SUCCEEDED').length;
    return {
      elapsed,
      // The embedded AWS and every handler run in this process: its CPU time is what the runs
      // cost, whatever else the shared machine is doing (wall time also counts the neighbours).
      cpu: (used.user + used.system) / 1000,
      ok,
      decisions: h.aws.authorizer.recent({ limit: 1_000_000 }).length,
      cache: { ...h.aws.authorizer.evaluations },
    };
  } finally {
    await h.stop();
  }
}

export async function iam(report: Report, env: NodeJS.ProcessEnv, files = 100): Promise<void> {
  report.heading('5. IAM enforcement: what it costs (ratio to --iam off, same run)');
  const starts: Record<'off' | 'enforce', number[]> = { off: [], enforce: [] };
  const startCpu: Record<'off' | 'enforce', number[]> = { off: [], enforce: [] };
  for (let i = 0; i < 2; i++)
    for (const mode of ['off', 'enforce'] as const) {
      const r = demoOnce(mode, env);
      starts[mode].push(r.wall);
      startCpu[mode].push(r.cpu);
    }
  const startRatio = median(starts.enforce) / median(starts.off);
  const startCpuRatio = median(startCpu.enforce) / median(startCpu.off);
  report.figure(
    SECTION,
    '`npm start` (demo) CPU time, enforce ÷ off, median of 2 each',
    `${startCpuRatio.toFixed(2)}× (${secs(median(startCpu.enforce))} vs ${secs(median(startCpu.off))})`,
    '≤ 1.20×',
    startCpuRatio <= 1.2,
  );
  report.figure(
    SECTION,
    '`npm start` (demo), enforce ÷ off, median of 2 each',
    `${startRatio.toFixed(2)}× (${secs(median(starts.enforce))} vs ${secs(median(starts.off))})`,
    '≤ 1.20×',
    startRatio <= 1.2,
  );
  // ABBA order (off, enforce, enforce, off): a machine that gets busier or quieter during the
  // run shifts both modes alike.
  const rounds: Record<'off' | 'enforce', { elapsed: number; cpu: number; ok: number; decisions: number }[]> =
    {
      off: [],
      enforce: [],
    };
  for (const mode of ['off', 'enforce', 'enforce', 'off'] as const)
    rounds[mode].push(await dropMany(mode, files));
  const total = (mode: 'off' | 'enforce') => rounds[mode].reduce((sum, r) => sum + r.elapsed, 0);
  report.count(
    SECTION,
    `runs SUCCEEDED, 2 × ${files} drops, IAM off`,
    rounds.off.reduce((n, r) => n + r.ok, 0),
    2 * files,
  );
  report.count(
    SECTION,
    `runs SUCCEEDED, 2 × ${files} drops, IAM enforce`,
    rounds.enforce.reduce((n, r) => n + r.ok, 0),
    2 * files,
  );
  const throughputRatio = total('enforce') / total('off');
  report.figure(
    SECTION,
    `${files}-drop throughput, time enforce ÷ off (ABBA, 2 rounds each)`,
    `${throughputRatio.toFixed(2)}× (${((2 * files * 1000) / total('enforce')).toFixed(1)} vs ${((2 * files * 1000) / total('off')).toFixed(1)} runs/s)`,
    '≤ 1.20×',
    throughputRatio <= 1.2,
  );
  const cpu = (mode: 'off' | 'enforce') => rounds[mode].reduce((sum, r) => sum + r.cpu, 0);
  const cpuRatio = cpu('enforce') / cpu('off');
  report.figure(
    SECTION,
    `${files}-drop CPU time of this process, enforce ÷ off (same rounds)`,
    `${cpuRatio.toFixed(2)}× (${(cpu('enforce') / (2 * files)).toFixed(0)} vs ${(cpu('off') / (2 * files)).toFixed(0)} ms per run)`,
    '≤ 1.20×',
    cpuRatio <= 1.2,
  );
  const enforce = rounds.enforce[0] ?? { decisions: 0 };
  const cache = (rounds.enforce[0] as { cache?: { cached: number; evaluated: number } } | undefined)?.cache;
  report.figure(
    SECTION,
    'IAM decisions in one enforced round (answered from the cache / evaluated)',
    `${enforce.decisions} (${cache?.cached ?? 0} / ${cache?.evaluated ?? 0})`,
  );
}
