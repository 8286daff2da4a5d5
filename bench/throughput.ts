/**
 * Throughput and admission on the embedded AWS: N datasets dropped at once into a fresh stack
 * (no key yet, so every run needs the customer managed key at once) with jobs that end at once,
 * under Bedrock's concurrent-job quota. The same burst runs with the key bootstrap under its
 * lease (the default) and with the earlier alias race, each burst in a fresh process, in ABBA
 * order, so the ratio compares like with like on a machine whose load varies. Counts (N runs
 * succeeded, one CreateKey, no orphan, never more jobs than the quota) fail the benchmark when
 * wrong.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadRun, type RunView } from '../cli/lib/run-view';
import type { InvocationRecord } from '../local/lambda';
import { jobSpans, maxRunningAtOnce, runKeys } from '../test/e2e/support/admission';
import { DATA, type Harness, startHarness } from '../test/e2e/support/embedded';
import { isDynamoWrite, s3Tier, USD, usd } from './lib/prices';
import { median, type Report, secs } from './lib/report';

const SECTION = 'Throughput and admission';

export type Path = 'lease' | 'alias-race';

export interface Burst {
  path: Path;
  files: number;
  elapsedMs: number;
  cpuMs: number;
  runs: RunView[];
  createKeys: number;
  keys: Awaited<ReturnType<typeof runKeys>>;
  quota: number;
  maxJobsAtOnce: number;
  /** waitedMs of the runs that waited in the list. */
  waits: number[];
  /** Endpoint requests by `service:operation` while the runs ran (the uploads and the harness's own excluded). */
  requests: Map<string, number>;
  invocations: InvocationRecord[];
}

const field = (run: RunView, ...path: string[]) =>
  path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    run.state,
  );

async function closedAll(h: Harness, arns: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (const arn of arns) {
    for (;;) {
      try {
        h.aws.sfn.describeExecution(arn);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`no execution ${arn}`);
        await sleep(50);
      }
    }
    await h.aws.sfn.waitForExecution(arn, Math.max(1, deadline - Date.now()));
  }
}

/** One burst of `files` first runs on a fresh stack. */
export async function burst(
  path: Path,
  files: number,
  options: { quota?: number; jobMs?: number } = {},
): Promise<Burst> {
  // A 900 s poll as in production (every run is resumed by its job's event); the admission sweep
  // on its real one-minute schedule, so its requests weigh as they would on AWS.
  const h = await startHarness({
    jobDurationMs: options.jobMs ?? 0,
    scheduleScale: 1,
    ...(options.quota ? { concurrentJobsQuota: options.quota } : {}),
    params: { pollIntervalSeconds: '900', keyBootstrap: path },
  });
  try {
    const before = new Map(h.aws.faults.calls);
    const invocationsBefore = h.aws.lambda.invocations.length;
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    const objects = await Promise.all(
      Array.from({ length: files }, (_, i) =>
        h.put(
          `${h.stack.trainingPrefix}burst-${String(i).padStart(3, '0')}.jsonl`,
          DATA.replace('lamp', `lamp ${i}`),
        ),
      ),
    );
    const arns = objects.map((o) => h.executionArnOf(o));
    await closedAll(h, arns, 600_000);
    const elapsedMs = Date.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    await h.aws.lambda.idle();
    const requests = new Map<string, number>();
    for (const [k, v] of h.aws.faults.calls) {
      const n = v - (before.get(k) ?? 0);
      if (n > 0) requests.set(k, n);
    }
    // The uploads are the user's, and each upload's HeadObject is the harness's.
    for (const k of ['s3:PutObject', 's3:HeadObject']) requests.set(k, (requests.get(k) ?? 0) - files);
    const invocations = h.aws.lambda.invocations.slice(invocationsBefore);
    const runs = await Promise.all(arns.map((a) => loadRun(h.c.sfn, a)));
    const spans = await jobSpans(h);
    const waits = runs
      .filter((r) => field(r, 'admission', 'by') === 'queue')
      .map((r) => Number(field(r, 'admission', 'waitedMs') ?? 0));
    return {
      path,
      files,
      elapsedMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      runs,
      createKeys: requests.get('kms:CreateKey') ?? 0,
      keys: await runKeys(h),
      quota: h.aws.bedrock.concurrentJobsQuota,
      maxJobsAtOnce: maxRunningAtOnce(spans),
      waits,
      requests,
      invocations,
    };
  } finally {
    await h.stop();
  }
}

/** `burst` in a fresh process (bench/burst-child.ts); its handlers log to `log`. */
export async function burstInChild(
  path: Path,
  files: number,
  options: { quota?: number; jobMs?: number; env: NodeJS.ProcessEnv; log: string },
): Promise<Burst> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'tunevault-burst-'));
  const out = nodePath.join(dir, 'burst.json');
  try {
    const stderr: string[] = [];
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--require',
          'tsx/cjs',
          nodePath.join(__dirname, 'burst-child.ts'),
          path,
          String(files),
          String(options.quota ?? 0),
          String(options.jobMs ?? 0),
          out,
          options.log,
        ],
        { cwd: nodePath.join(__dirname, '..'), env: options.env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0)
      throw new Error(`burst ${path} × ${files} exited ${code}: ${stderr.join('').slice(-2000)}`);
    const b = JSON.parse(fs.readFileSync(out, 'utf8')) as Omit<Burst, 'requests'> & {
      requests: [string, number][];
    };
    return { ...b, requests: new Map(b.requests) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function describe(report: Report, b: Burst): void {
  const ok = b.runs.filter((r) => r.status === 'SUCCEEDED').length;
  const orphans = b.keys.filter((k) => k.tags['tunevault:orphan'] === 'true').length;
  report.print(
    `  ${b.path.padEnd(10)} ${((b.files * 1000) / b.elapsedMs).toFixed(2)} runs/s (all closed after ${secs(b.elapsedMs)}, ` +
      `CPU ${(b.cpuMs / b.files).toFixed(0)} ms/run); ${ok}/${b.files} succeeded; CreateKey ${b.createKeys}; ` +
      `orphan keys ${orphans}; jobs at once ≤ ${b.maxJobsAtOnce} (quota ${b.quota}); ` +
      `${b.waits.length} waited for a slot (median ${secs(median(b.waits))}, longest ${secs(Math.max(0, ...b.waits))})`,
  );
  for (const r of b.runs.filter((x) => x.status !== 'SUCCEEDED').slice(0, 3))
    report.print(`    ✗ ${r.name}: ${r.status} ${r.error ?? ''} ${r.cause ?? ''}`);
}

/** Per-run cost besides the Bedrock job, from what the embedded AWS counted; AWS's us-east-1 prices. */
export function costLine(report: Report, section: string, b: Burst, label: string): void {
  const n = b.files;
  // The sweep is per stack (one run a minute), not per run: left out here, priced in the README.
  const perStep = new Map<string, { gbs: number; calls: number }>();
  for (const i of b.invocations) {
    const step = i.functionName.replace(/^.*-/, '');
    if (step === 'sweepAdmission') continue;
    const e = perStep.get(step) ?? { gbs: 0, calls: 0 };
    // Lambda bills duration rounded up to the millisecond, times the configured memory.
    e.gbs += (Math.ceil(i.durationMs) / 1000) * ((i.memoryMb ?? 256) / 1024);
    e.calls += 1;
    perStep.set(step, e);
  }
  const gbs = [...perStep.values()].reduce((a, e) => a + e.gbs, 0) / n;
  const lambdaCalls = [...perStep.values()].reduce((a, e) => a + e.calls, 0) / n;
  const transitions = b.runs.reduce((a, r) => a + r.transitions, 0) / n;
  const by = (service: string, pick: (op: string) => boolean = () => true) =>
    [...b.requests]
      .filter(([k]) => k.startsWith(`${service}:`) && pick(k.slice(service.length + 1)))
      .reduce((a, [, v]) => a + v, 0) / n;
  const kms = by('kms');
  const s3a = by('s3', (op) => s3Tier(op) === 1);
  const s3b = by('s3', (op) => s3Tier(op) === 2);
  const ddbW = by('dynamodb', isDynamoWrite);
  const ddbR = by('dynamodb', (op) => !isDynamoWrite(op));
  const events = by('events', (op) => op === 'PutEvents');
  const cost = {
    lambda: gbs * USD.lambdaGbSecond + lambdaCalls * USD.lambdaRequest,
    transitions: transitions * USD.stateTransition,
    kms: kms * USD.kmsRequest,
    s3: s3a * USD.s3Tier1Request + s3b * USD.s3Tier2Request,
    dynamodb: ddbW * USD.dynamoWriteUnit + ddbR * USD.dynamoReadUnit,
    events: events * USD.eventBridgeEvent,
  };
  const total = Object.values(cost).reduce((a, c) => a + c, 0);
  const steps = [...perStep]
    .sort((x, y) => y[1].gbs - x[1].gbs)
    .map(([s, e]) => `${s} ${(e.gbs / n).toFixed(3)}`)
    .join(', ');
  report.print(`  Per run (${label}), besides the Bedrock job, at us-east-1 prices:`);
  report.print(`    Lambda GB-s by step: ${steps}`);
  report.figure(section, `cost per run (${label})`, `${usd(total)}`);
  report.print(
    `    = Lambda ${gbs.toFixed(3)} GB-s + ${lambdaCalls.toFixed(1)} invocations (${usd(cost.lambda)}) · ` +
      `${transitions.toFixed(1)} state transitions (${usd(cost.transitions)}) · KMS ${kms.toFixed(1)} requests (${usd(cost.kms)}) · ` +
      `S3 ${s3a.toFixed(1)} PUT/COPY/LIST + ${s3b.toFixed(1)} GET/HEAD (${usd(cost.s3)}) · ` +
      `DynamoDB ${ddbW.toFixed(1)} writes + ${ddbR.toFixed(1)} reads (${usd(cost.dynamodb)}) · ` +
      `EventBridge ${events.toFixed(1)} custom events (${usd(cost.events)})`,
  );
}

export async function throughput(
  report: Report,
  files: number,
  child: { env: NodeJS.ProcessEnv; log: string },
): Promise<void> {
  report.heading(
    `3. Throughput and admission: ${files} datasets at once into a fresh stack, jobs of 0 ms (embedded AWS)`,
  );
  // A first, uncounted burst: after a change, the first process rebuilds the function bundles and
  // reads them cold from disk, which would weigh on whichever path came first.
  await burstInChild('alias-race', Math.min(files, 20), child);
  // ABBA order (lease, alias race, alias race, lease): a machine that gets busier or quieter
  // during the run shifts both paths alike. Every round is a fresh stack in a fresh process.
  const rounds: Record<Path, Burst[]> = { lease: [], 'alias-race': [] };
  for (const path of ['lease', 'alias-race', 'alias-race', 'lease'] as const) {
    const b = await burstInChild(path, files, child);
    rounds[path].push(b);
    describe(report, b);
  }
  report.print();
  const leases = rounds.lease;
  const races = rounds['alias-race'];
  const rate = (bs: Burst[]) => (bs.length * files * 1000) / bs.reduce((a, b) => a + b.elapsedMs, 0);
  const cpu = (bs: Burst[]) => bs.reduce((a, b) => a + b.cpuMs, 0);
  const orphans = (b: Burst) => b.keys.filter((k) => k.tags['tunevault:orphan'] === 'true').length;
  const ratio = rate(leases) / rate(races);
  report.figure(SECTION, 'runs per second (key lease, 2 rounds)', `${rate(leases).toFixed(2)} runs/s`);
  report.figure(SECTION, 'runs per second (alias race, 2 rounds)', `${rate(races).toFixed(2)} runs/s`);
  report.figure(
    SECTION,
    'throughput: key lease ÷ alias race (ABBA, 2 rounds each)',
    `${ratio.toFixed(2)}× (CPU/run ${(cpu(races) / cpu(leases)).toFixed(2)}×)`,
    '≥ 0.90×',
    ratio >= 0.9,
  );
  for (const [label, bs] of [
    ['key lease', leases],
    ['alias race', races],
  ] as const) {
    report.count(
      SECTION,
      `runs SUCCEEDED, 2 × ${files} (${label})`,
      bs.reduce((n, b) => n + b.runs.filter((r) => r.status === 'SUCCEEDED').length, 0),
      2 * files,
    );
  }
  for (const [i, b] of leases.entries()) {
    report.count(SECTION, `CreateKey calls (key lease, round ${i + 1})`, b.createKeys, 1);
    report.count(SECTION, `orphan keys (key lease, round ${i + 1})`, orphans(b), 0);
    report.count(
      SECTION,
      `customer managed keys in use (key lease, round ${i + 1})`,
      b.keys.filter((k) => k.meta.KeyState === 'Enabled').length,
      1,
    );
  }
  report.figure(
    SECTION,
    'CreateKey calls / orphans (alias race, per round)',
    races.map((b) => `${b.createKeys} / ${orphans(b)}`).join(', '),
  );
  const all = [...leases, ...races];
  const peak = Math.max(...all.map((b) => b.maxJobsAtOnce));
  const quota = leases[0]?.quota ?? 0;
  report.figure(
    SECTION,
    'highest number of jobs at once',
    `${peak} (quota ${quota})`,
    `≤ ${quota}`,
    peak <= quota,
  );
  if (peak > quota) report.fail(SECTION, 'more jobs ran at once than the quota allows');
  const waits = leases.flatMap((b) => b.waits);
  report.figure(
    SECTION,
    'queue waits (key lease, 2 rounds)',
    `${waits.length} of ${2 * files}: median ${secs(median(waits))}, longest ${secs(Math.max(0, ...waits))}`,
  );
  report.print();
  costLine(report, SECTION, leases[0] as Burst, `${files} first runs at once`);
}

/** 20 datasets at once under a quota of 3, on a stack whose key exists: the steady state. */
export async function admission(
  report: Report,
  child: { env: NodeJS.ProcessEnv; log: string },
  files = 20,
  quota = 3,
): Promise<void> {
  const S = 'Admission under a quota';
  report.heading(
    `4. Admission: ${files} datasets at once, Bedrock quota ${quota} (maxConcurrentJobs=auto), jobs of 1.5 s`,
  );
  const b = await burstInChild('lease', files, { quota, jobMs: 1_500, ...child });
  describe(report, b);
  const polls = (r: RunView) => r.timeline.filter((s) => s.name === 'CheckCustomizationJob').length;
  const over = b.runs.filter((r) => r.transitions > 12 + 3 * polls(r));
  const worst = Math.max(...b.runs.map((r) => r.transitions - 3 * polls(r)));
  report.count(S, 'runs SUCCEEDED', b.runs.filter((r) => r.status === 'SUCCEEDED').length, files);
  report.count(S, 'models made', b.runs.filter((r) => field(r, 'model', 'modelArn')).length, files);
  report.figure(
    S,
    'highest number of jobs at once',
    `${b.maxJobsAtOnce}`,
    `≤ ${quota}`,
    b.maxJobsAtOnce <= quota,
  );
  if (b.maxJobsAtOnce > quota) report.fail(S, 'more jobs ran at once than the quota allows');
  report.figure(
    S,
    'state transitions per run (max, less 3/poll)',
    `${worst} (${b.runs.reduce((a, r) => a + polls(r), 0)} polls in all)`,
    '≤ 12',
    over.length === 0,
  );
  report.figure(
    S,
    'queue waits',
    `${b.waits.length} of ${files}: median ${secs(median(b.waits))}, longest ${secs(Math.max(0, ...b.waits))}`,
  );
  report.count(
    S,
    'runs put back by a quota refusal',
    b.runs.filter((r) => r.timeline.some((s) => s.name === 'RequeueJob')).length,
    0,
  );
  costLine(report, S, b, `${files} runs, ${quota} at a time, key in place after the first`);
}
