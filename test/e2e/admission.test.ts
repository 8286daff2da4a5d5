/**
 * Admission on the embedded AWS: a key-lease holder that dies blocks the next run no longer than its
 * TTL and leaves no untagged key; runs beyond the concurrent-job quota wait in a FIFO list, listed
 * with their places; job-slot holders that die block others no longer than their lease; the
 * embedded Bedrock refuses a job beyond its quota as AWS does. The load cases (many first runs
 * racing for the key, 20 datasets under a quota of 3) are test/load/admission-load.test.ts
 * (`npm run test:load`, run once by CI).
 */
import { CreateModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { formatRuns, listRuns } from '../../cli/commands/runs';
import { field, type RunView } from '../../cli/lib/run-view';
import { LEASE_TAG } from '../../functions/ensure-customer-managed-key/core';
import {
  calls,
  dropOnly,
  dropWithHeldSubmission,
  jobSpans,
  maxRunningAtOnce,
  runKeys,
  startQuotaHarness,
  until,
} from './support/admission';
import { DATA, type Harness, startHarness, startWarmHarness, TEST_PARAMS } from './support/embedded';

const span = (run: RunView, state: string) => run.timeline.find((s) => s.name === state);

/** A promise and the function that settles it: what a held fault waits for (FaultSpec.until). */
function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('key bootstrap under the lease (a fresh stack each)', () => {
  it.each([
    ['after recording its key (stuck in CreateAlias)', 'kms', 'CreateAlias'],
    ['before recording its key (stuck writing it to the lease)', 'dynamodb', 'UpdateItem'],
  ])(
    'a lease holder stuck past its TTL %s does not block the next run, which waits out the lease; its key is adopted, none is left untagged',
    async (_when, service, operation) => {
      const TTL_MS = Number(TEST_PARAMS.shortLeases.keyLeaseSeconds) * 1000;
      const h = await startHarness({ params: TEST_PARAMS.shortLeases });
      try {
        const before = calls(h, 'kms:CreateKey');
        // The holder's call hangs until the successor has finished: as good as dead to the others,
        // however slow the machine (no race between a fixed hang and the lease's TTL).
        const released = deferred();
        h.aws.faults.add({ service, operation, count: 1, until: released.promise });
        const holder = await dropOnly(h, 'lease-holder');
        await until('the holder to hang', () => calls(h, `${service}:${operation}`) >= 1);
        const successor = await dropOnly(h, 'lease-successor');
        let b: RunView;
        try {
          b = await h.finished(successor.executionArn, 60_000);
        } finally {
          released.resolve();
        }
        const a = await h.finished(holder.executionArn, 60_000);

        // The successor finished while the holder was still stuck: it waited for the lease to run
        // out, not for the holder. And not much longer than the lease (5× slack and more for a
        // loaded machine: about one TTL when quiet).
        expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
        expect(span(b, 'EnsureCustomerManagedKey')?.durationMs).toBeLessThan(6 * TTL_MS);
        expect(b.state.key).toMatchObject({ created: true, adopted: true });
        expect(field(a.state, 'key', 'keyArn')).toBe(field(b.state, 'key', 'keyArn'));
        expect(calls(h, 'kms:CreateKey') - before).toBe(1);
        const keys = await runKeys(h);
        expect(keys).toHaveLength(1);
        // Tagged from its creation on (CreateKey carries the tags): never an untagged key.
        expect(keys[0]?.tags).toMatchObject({
          'tunevault:alias': 'alias/tunevault-dev',
          [LEASE_TAG]: expect.any(String),
        });
        expect(keys[0]?.meta.KeyState).toBe('Enabled');
      } finally {
        h.aws.faults.clear();
        await h.stop();
      }
    },
    90_000,
  );
});

describe('admission under a concurrent-job quota of 3, read from Service Quotas (maxConcurrentJobs=auto)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startQuotaHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('tunevault runs shows the queued runs and their places in the list', async () => {
    // Jobs long enough that the listing (a history read per run) sees the waiting runs.
    h.aws.bedrock.setJobDuration(8_000);
    try {
      const drops = await Promise.all(Array.from({ length: 5 }, (_, i) => dropOnly(h, `listed-${i}`)));
      const arns = new Set(drops.map((d) => d.executionArn));
      let queued: Awaited<ReturnType<typeof listRuns>> = [];
      await until('two runs to wait for a slot', async () => {
        const rows = await listRuns(h.c, h.stack.stateMachineArn, 30, h.stack.admissionTable);
        queued = rows.filter((r) => arns.has(r.executionArn) && r.queue !== null);
        return queued.length === 2;
      });
      const places = queued.map((r) => r.queue).sort((x, y) => (x?.position ?? 0) - (y?.position ?? 0));
      expect(places.map((p) => [p?.position, p?.of])).toEqual([
        [1, 2],
        [2, 2],
      ]);
      const text = formatRuns(queued);
      expect(text).toMatch(/QUEUED/);
      expect(text).toMatch(/waiting for a Bedrock job slot: position 1 of 2/);
      expect(queued.every((r) => r.status === 'RUNNING' && r.state === 'AdmitJob')).toBe(true);
      const runs = await Promise.all(drops.map((d) => h.finished(d.executionArn, 90_000)));
      expect(runs.map((r) => r.status)).toEqual(Array(5).fill('SUCCEEDED'));
    } finally {
      h.aws.bedrock.setJobDuration(1_500);
    }
  }, 120_000);
});

describe('job-slot holders that die (quota 1, slot lease 2 s)', () => {
  const LEASE_MS = Number(TEST_PARAMS.shortLeases.slotLeaseSeconds) * 1000;
  let h: Harness;
  beforeAll(async () => {
    h = await startWarmHarness({
      concurrentJobsQuota: 1,
      jobDurationMs: 300,
      params: TEST_PARAMS.shortLeases,
    });
  });
  afterAll(async () => {
    h?.aws.faults.clear();
    await h?.stop();
  });
  afterEach(() => h.aws.faults.clear());

  it('a run stopped while it holds a slot (no job yet) blocks the next run only until the sweep', async () => {
    // The holder hangs in its submission until it is stopped: its slot has no job and no run.
    // (Held, not delayed: however slowly the waiter gets to the list, the holder is still there.)
    const stopped = deferred();
    const holder = await dropWithHeldSubmission(
      h,
      `${h.stack.trainingPrefix}slot-holder-stopped.jsonl`,
      DATA.replace('lamp', 'lamp slot-holder-stopped'),
      { until: stopped.promise, error: 'AccessDeniedException' },
    );
    let run: RunView;
    try {
      const waiter = await dropOnly(h, 'slot-waiter');
      await until('the waiter to wait', async () => {
        const rows = await listRuns(h.c, h.stack.stateMachineArn, 10, h.stack.admissionTable);
        return rows.some((r) => r.executionArn === waiter.executionArn && r.queue?.position === 1);
      });
      await h.c.sfn.send(new StopExecutionCommand({ executionArn: holder.executionArn }));
      run = await h.finished(waiter.executionArn, 30_000);
    } finally {
      stopped.resolve();
    }

    expect(run.status).toBe('SUCCEEDED');
    expect(run.state.admission).toMatchObject({ admitted: true, by: 'queue' });
    // Reclaimed at the first sweep after the stop (0.6 s here), well within the slot's lease.
    expect(field<number>(run.state, 'admission', 'waitedMs')).toBeLessThan(LEASE_MS + 1_000);
  });

  it('a run stuck in its submission past its lease loses its slot; the job Bedrock then refuses puts it back in the list; both train, one job at a time', async () => {
    h.aws.bedrock.setJobDuration(5_000);
    try {
      const before = new Set((await jobSpans(h)).map((j) => j.jobName));
      // The holder's CreateModelCustomizationJob is held until the next run's job is in Bedrock:
      // its slot's lease (2 s) runs out, the sweep gives the slot to the next run, whose job fills
      // Bedrock's quota of 1; only then does the holder's call go on (however slow the machine).
      const nextJob = deferred();
      const slow = await dropWithHeldSubmission(
        h,
        `${h.stack.trainingPrefix}slot-holder-slow.jsonl`,
        DATA.replace('lamp', 'lamp slot-holder-slow'),
        { until: nextJob.promise },
      );
      let a: RunView;
      let b: RunView;
      try {
        const next = await dropOnly(h, 'slot-next');
        await until('the next run to have its job', async () =>
          (await jobSpans(h)).some((j) => !before.has(j.jobName)),
        );
        nextJob.resolve();
        [a, b] = await Promise.all([
          h.finished(slow.executionArn, 60_000),
          h.finished(next.executionArn, 60_000),
        ]);
      } finally {
        nextJob.resolve();
      }

      expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      expect(b.state.admission).toMatchObject({ by: 'queue' });
      expect(h.statesEntered(a)).toContain('RequeueJob');
      expect(a.state.admission).toMatchObject({ admitted: true, requeued: true });
      const spans = (await jobSpans(h)).filter((j) => !before.has(j.jobName));
      expect(spans).toHaveLength(2);
      expect(maxRunningAtOnce(spans)).toBe(1);
    } finally {
      h.aws.bedrock.setJobDuration(300);
    }
  }, 60_000);

  it("the embedded Bedrock enforces its concurrent-job quota with AWS's error, and Service Quotas reports it", async () => {
    const quotas = new ServiceQuotasClient({
      endpoint: h.aws.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const code = { ServiceCode: 'bedrock', QuotaCode: 'L-0406044C' };
    expect((await quotas.send(new GetServiceQuotaCommand(code))).Quota).toMatchObject({
      QuotaName: '(Model customization) Scheduled customization jobs',
      Value: 1,
      QuotaArn: `arn:aws:servicequotas:us-east-1:${h.aws.accountId}:bedrock/L-0406044C`,
    });
    await expect(
      quotas.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'bedrock', QuotaCode: 'L-00000000' })),
    ).rejects.toMatchObject({ name: 'NoSuchResourceException' });

    h.aws.bedrock.setJobDuration(60_000);
    const job = (i: number) =>
      new CreateModelCustomizationJobCommand({
        jobName: `quota-probe-${i}`,
        customModelName: `quota-probe-model-${i}`,
        // The stack's Bedrock service role: the embedded Bedrock checks PassRole and its trust.
        roleArn: h.stack.functions.find((f) => f.key === 'submitCustomizationJob')?.environment
          .BEDROCK_ROLE_ARN,
        // The stage's base model (a catalog model Bedrock customizes in us-east-1).
        baseModelIdentifier: h.stack.functions.find((f) => f.key === 'submitCustomizationJob')?.environment
          .BASE_MODEL_ID,
        trainingDataConfig: { s3Uri: `s3://${h.stack.outputBucket}/probe.jsonl` },
        outputDataConfig: { s3Uri: `s3://${h.stack.outputBucket}/probe/` },
        hyperParameters: { epochCount: '1' },
      });
    try {
      const first = await h.c.bedrock.send(job(1));
      const refused = await h.c.bedrock.send(job(2)).catch((e: unknown) => e);
      expect(refused).toMatchObject({
        name: 'ServiceQuotaExceededException',
        message: 'The number of requests exceeds the service quota. Resubmit your request later.',
        $metadata: { httpStatusCode: 400 },
      });
      // Raised through the control API, as a quota increase would: Service Quotas follows.
      const res = await fetch(`${h.aws.url}/_tunevault/bedrock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ concurrentJobsQuota: 2 }),
      });
      expect(await res.json()).toMatchObject({ concurrentJobsQuota: 2 });
      expect((await quotas.send(new GetServiceQuotaCommand(code))).Quota?.Value).toBe(2);
      const second = await h.c.bedrock.send(job(3));
      for (const arn of [first.jobArn, second.jobArn]) await h.aws.bedrock.completeNow(arn ?? '');
    } finally {
      h.aws.bedrock.setConcurrentJobsQuota(1);
      h.aws.bedrock.setJobDuration(300);
    }
  });
});
