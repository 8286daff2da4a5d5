/**
 * Nothing is lost to a transient AWS error, and a persistent one ends the run cleanly. The SDK
 * retries throttling and 5xx answers itself (standard mode: 3 attempts per call); the ASL's
 * capped, jittered Retry covers what the SDK gives up on. Calls are counted at the endpoint.
 */
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { type Harness, startWarmHarness } from './support/embedded';

let h: Harness;

beforeAll(async () => {
  // The first run creates the key and loads every function, so the cases below are quick.
  h = await startWarmHarness();
});
afterAll(async () => {
  h?.aws.faults.clear();
  await h?.stop();
});
afterEach(() => h.aws.faults.clear());

const calls = (id: string) => h.aws.faults.calls.get(id) ?? 0;

async function lambdaAttempts(executionArn: string, state: string) {
  const out = await h.c.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  const events = out.events ?? [];
  const attempts: { failed?: string; at: number }[] = [];
  let current: string | undefined;
  for (const e of events) {
    if (e.stateEnteredEventDetails) current = e.stateEnteredEventDetails.name;
    if (current !== state) continue;
    if (e.type === 'LambdaFunctionScheduled') attempts.push({ at: e.timestamp?.getTime() ?? 0 });
    if (e.type === 'LambdaFunctionFailed') {
      const last = attempts[attempts.length - 1];
      if (last) last.failed = e.lambdaFunctionFailedEventDetails?.error ?? 'unknown';
    }
  }
  return attempts;
}

describe('injected AWS faults', () => {
  it('three ThrottlingException on CreateModelCustomizationJob, then success: one job', async () => {
    const op = 'bedrock:CreateModelCustomizationJob';
    const before = calls(op);
    h.aws.faults.add({
      service: 'bedrock',
      operation: 'CreateModelCustomizationJob',
      count: 3,
      error: 'ThrottlingException',
    });

    const { run } = await h.drop('throttled submit');

    expect(run.status).toBe('SUCCEEDED');
    // The SDK made its 3 attempts inside the first invocation and gave up; the ASL retried the
    // task once, and that invocation's first call went through.
    expect(calls(op) - before).toBe(4);
    const attempts = await lambdaAttempts(run.executionArn, 'SubmitCustomizationJob');
    expect(attempts.map((a) => a.failed ?? 'ok')).toEqual(['ThrottlingException', 'ok']);
    expect(await h.jobsNamed('throttled-submit')).toHaveLength(1);
    expect(h.aws.faults.list()).toEqual([]);
  });

  it('a ServiceQuotaExceededException that persists ends in RunFailed after the six retries of its schedule, with no job', async () => {
    const op = 'bedrock:CreateModelCustomizationJob';
    const before = calls(op);
    h.aws.faults.add({
      service: 'bedrock',
      operation: 'CreateModelCustomizationJob',
      count: 1000,
      error: 'ServiceQuotaExceededException',
      message: 'Simulated: the account has reached its concurrent customization jobs quota',
    });

    const { run, object } = await h.drop('quota exhausted');

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ServiceQuotaExceededException');
    expect(run.cause).toContain('concurrent customization jobs quota');
    expect(h.statesEntered(run).slice(-4)).toEqual([
      'SubmitCustomizationJob',
      'Remediate',
      'NotifyFailed',
      'RunFailed',
    ]);
    // Not retried by the SDK (not a throttling code, 400): 1 attempt + the ASL's MaxAttempts (6).
    const attempts = await lambdaAttempts(run.executionArn, 'SubmitCustomizationJob');
    expect(attempts).toHaveLength(7);
    expect(calls(op) - before).toBe(7);
    expect(attempts.every((a) => a.failed === 'ServiceQuotaExceededException')).toBe(true);
    // The attempts come in order (each retry after the previous failure). How long each wait may
    // be (capped at 60 s, full jitter) is checked on the schedule itself, wait by wait, in
    // test/contract/retry-schedule.test.ts: a wall clock on a shared machine cannot tell.
    expect(attempts.map((a) => a.at)).toEqual([...attempts.map((a) => a.at)].sort((x, y) => x - y));

    expect(await h.jobsNamed('quota-exhausted')).toHaveLength(0);
    const failed = h
      .notifications('TuneVault Run Failed')
      .filter((e) => (e.detail as { executionArn: string }).executionArn === run.executionArn);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.detail).toMatchObject({ error: 'ServiceQuotaExceededException', jobArn: null });
    // The data is kept and says why it did not train.
    const tags = await h.c.s3.send(
      new GetObjectTaggingCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
    );
    expect(tags.TagSet).toEqual(
      expect.arrayContaining([
        { Key: 'tunevault:status', Value: 'failed' },
        { Key: 'tunevault:reason', Value: 'ServiceQuotaExceededException' },
      ]),
    );
  });

  it('500s from KMS and S3 beyond what the SDK retries are retried by the state machine; the run completes', async () => {
    const kmsOp = 'kms:DescribeKey';
    const s3Op = 's3:GetBucketEncryption';
    const kmsBefore = calls(kmsOp);
    const s3Before = calls(s3Op);
    // KMS: 4 failures — the SDK's 3 attempts fail, the task fails, the ASL retries it, and the
    // SDK absorbs the 4th inside the retried invocation. S3: the step reads both buckets'
    // encryption at once, so 6 failures exhaust the SDK's attempts on both.
    h.aws.faults.add({ service: 'kms', operation: 'DescribeKey', count: 4, error: 'KMSInternalException' });
    h.aws.faults.add({ service: 's3', operation: 'GetBucketEncryption', count: 6, error: 'InternalError' });

    const { run } = await h.drop('five hundreds');

    expect(run.status).toBe('SUCCEEDED');
    expect(h.aws.faults.list()).toEqual([]);
    expect(calls(kmsOp) - kmsBefore).toBe(5);
    expect(calls(s3Op) - s3Before).toBeGreaterThanOrEqual(8);
    const keyAttempts = await lambdaAttempts(run.executionArn, 'EnsureCustomerManagedKey');
    expect(keyAttempts.map((a) => a.failed ?? 'ok')).toEqual(['KMSInternalException', 'ok']);
    const bucketAttempts = await lambdaAttempts(run.executionArn, 'ValidateBucketEncryption');
    expect(bucketAttempts[0]?.failed).toBe('InternalError');
    expect(bucketAttempts[bucketAttempts.length - 1]?.failed).toBeUndefined();
    expect(await h.jobsNamed('five-hundreds')).toHaveLength(1);
  });
});
