/**
 * Throughput on the embedded AWS: N datasets dropped at once into a fresh stack (no key yet, so
 * every run races to create the customer managed key under the alias) with jobs that end at once.
 * Prints runs per second and the slowest run; the counts — N runs succeeded, N jobs, exactly one
 * key in use — are correctness and fail the benchmark when wrong.
 */
import { GetModelCustomizationJobCommand, ListModelCustomizationJobsCommand } from '@aws-sdk/client-bedrock';
import { DescribeKeyCommand, ListAliasesCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { type ExecutionListItem, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { RunView } from '../cli/lib/run-view';
import { DATA, type Harness, startHarness } from '../test/e2e/support/embedded';
import { median, type Report, secs } from './lib/report';

const SECTION = 'Throughput';

async function executions(h: Harness): Promise<ExecutionListItem[]> {
  const all: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await h.c.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: h.stack.stateMachineArn, maxResults: 100, nextToken }),
    );
    all.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

async function jobs(h: Harness) {
  const all: { jobArn: string; status: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await h.c.bedrock.send(
      new ListModelCustomizationJobsCommand({ maxResults: 100, nextToken }),
    );
    for (const j of page.modelCustomizationJobSummaries ?? [])
      all.push({ jobArn: j.jobArn ?? '', status: j.status ?? '' });
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

async function keys(h: Harness) {
  const arns: string[] = [];
  let marker: string | undefined;
  do {
    const page = await h.c.kms.send(new ListKeysCommand({ Limit: 100, Marker: marker }));
    arns.push(...(page.Keys ?? []).map((k) => k.KeyArn ?? ''));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  const described = await Promise.all(
    arns.map(async (KeyId) => (await h.c.kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata),
  );
  const aliases = (await h.c.kms.send(new ListAliasesCommand({}))).Aliases ?? [];
  return { keys: described.filter((k) => k?.KeyManager === 'CUSTOMER'), aliases };
}

export async function throughput(report: Report, files = 100): Promise<void> {
  report.heading(`3. Throughput: ${files} datasets dropped at once, job duration 0 (embedded AWS)`);
  // A 900 s poll (the production default): a run that lost its job-state event would show here.
  const h = await startHarness({ jobDurationMs: 0, params: { pollIntervalSeconds: '900' } });
  try {
    // The stack's own bucket key exists before any run: only keys the runs create are counted.
    const before = new Set((await keys(h)).keys.map((k) => k?.Arn));
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    const objects = await Promise.all(
      Array.from({ length: files }, (_, i) =>
        h.put(
          `${h.stack.trainingPrefix}load-${String(i).padStart(3, '0')}.jsonl`,
          DATA.replace('lamp', `lamp ${i}`),
        ),
      ),
    );
    const uploadedMs = Date.now() - started;
    const settled = await Promise.allSettled(objects.map((o) => h.finished(h.executionArnOf(o), 180_000)));
    const elapsedMs = Date.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const runs = settled
      .filter((s): s is PromiseFulfilledResult<RunView> => s.status === 'fulfilled')
      .map((s) => s.value);
    for (const s of settled.filter((s) => s.status === 'rejected').slice(0, 3))
      report.print(`  ✗ ${(s as PromiseRejectedResult).reason}`);

    const durations = runs.map((r) => r.durationMs ?? 0);
    const polled = runs.filter((r) => r.timeline.some((s) => s.name === 'CheckCustomizationJob')).length;
    const failedRuns = runs.filter((r) => r.status !== 'SUCCEEDED');
    for (const r of failedRuns.slice(0, 3))
      report.print(`  ✗ ${r.name}: ${r.status} ${r.error ?? ''} ${r.cause ?? ''}`);

    const listed = await executions(h);
    const jobList = await jobs(h);
    const used = new Set<string>();
    for (const j of jobList) {
      const job = await h.c.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: j.jobArn }));
      if (job.outputModelKmsKeyArn) used.add(job.outputModelKmsKeyArn);
    }
    const { keys: all, aliases } = await keys(h);
    const customerKeys = all.filter((k) => !before.has(k?.Arn));
    const aliasTarget = aliases.find((a) => a.AliasName === 'alias/tunevault-dev')?.TargetKeyId;
    const inUse = customerKeys.filter((k) => k && (used.has(k.Arn ?? '') || k.KeyId === aliasTarget));
    const orphans = customerKeys.filter((k) => k?.KeyState === 'PendingDeletion' && !inUse.includes(k));
    const strays = customerKeys.filter((k) => k?.KeyState !== 'PendingDeletion' && !inUse.includes(k));
    const invocations = h.aws.lambda.invocations;
    const errorNames = new Map<string, number>();
    for (const i of invocations)
      if (i.errorName) errorNames.set(i.errorName, (errorNames.get(i.errorName) ?? 0) + 1);

    report.print(
      `  uploads done after ${secs(uploadedMs)}; ${invocations.length} Lambda invocations, ending in an error: ` +
        `${[...errorNames].map(([n, c]) => `${c} ${n}`).join(', ') || 'none'}`,
    );
    report.figure(SECTION, 'runs per second', `${((runs.length * 1000) / elapsedMs).toFixed(1)} runs/s`);
    report.figure(SECTION, 'all runs closed after', secs(elapsedMs));
    // The whole embedded AWS and every handler share this one process: CPU per run is the figure
    // that varies least with what else the machine is doing; wall ÷ CPU shows the contention.
    report.figure(
      SECTION,
      'CPU per run (this process) / wall ÷ CPU',
      `${(cpuMs / Math.max(1, runs.length)).toFixed(0)} ms / ${(elapsedMs / cpuMs).toFixed(2)}×`,
    );
    report.figure(
      SECTION,
      'run time: median / slowest',
      `${secs(median(durations))} / ${secs(Math.max(0, ...durations))}`,
    );
    report.figure(
      SECTION,
      'slowest ÷ median run',
      `${(Math.max(0, ...durations) / Math.max(1, median(durations))).toFixed(1)}×`,
    );
    report.count(
      SECTION,
      'executions SUCCEEDED',
      listed.filter((e) => e.status === 'SUCCEEDED').length,
      files,
    );
    report.count(SECTION, 'executions in all', listed.length, files);
    report.count(SECTION, 'customization jobs', jobList.length, files);
    report.count(SECTION, 'jobs Completed', jobList.filter((j) => j.status === 'Completed').length, files);
    report.count(SECTION, 'customer managed keys in use', Math.max(used.size, inUse.length), 1);
    report.count(SECTION, 'enabled keys not in use (strays)', strays.length, 0);
    report.figure(
      SECTION,
      'orphan keys from the alias race',
      `${orphans.length} of ${customerKeys.length} keys the runs created (scheduled for deletion)`,
    );
    report.figure(SECTION, 'runs that needed a poll', `${polled} of ${runs.length}`);
    const async = h.aws.failedAsyncInvocations();
    report.count(SECTION, 'async Lambda invocations lost', async.length, 0);
    for (const f of async.slice(0, 3)) report.print(`    ${f.functionArn}: ${f.error}`);
  } finally {
    await h.stop();
  }
}
