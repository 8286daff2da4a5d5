/**
 * Nothing is lost to a transient AWS error, and a persistent one ends the run cleanly. The SDK
 * retries throttling and 5xx answers itself (standard mode: 3 attempts per call); the ASL's
 * capped, jittered Retry covers what the SDK gives up on. Calls are counted at the endpoint.
 */
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { type Harness, startWarmHarness, TEST_PARAMS } from './support/embedded';

let h: Harness;

beforeAll(async () => {
  // The first run creates the key and loads every function, so the cases below are quick.
  // A quota refusal caps the job slots for quotaRetrySeconds: 1 s here.
  h = await startWarmHarness({ params: TEST_PARAMS.shortLeases });
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

  it('a ServiceQuotaExceededException puts the run back in the wait list instead of failing it; it trains once Bedrock has room', async () => {
    const op = 'bedrock:CreateModelCustomizationJob';
    const before = calls(op);
    // Bedrock refuses twice (jobs outside this stack fill the quota), then has room.
    h.aws.faults.add({
      service: 'bedrock',
      operation: 'CreateModelCustomizationJob',
      count: 2,
      error: 'ServiceQuotaExceededException',
      message: 'Simulated: the account has reached its concurrent customization jobs quota',
    });

    const { run } = await h.drop('quota exhausted');

    expect(run.status).toBe('SUCCEEDED');
    // Not retried in place (neither by the SDK: a 400 that is not throttling, nor by the ASL):
    // each refusal sends the run back to the list, and it is admitted again when the cap
    // (nothing of ours runs: 0) lifts after quotaRetrySeconds.
    expect(h.statesEntered(run).slice(3, 9)).toEqual([
      'AdmitJob',
      'SubmitCustomizationJob',
      'RequeueJob',
      'SubmitCustomizationJob',
      'RequeueJob',
      'SubmitCustomizationJob',
    ]);
    expect(calls(op) - before).toBe(3);
    expect(run.state.admission).toMatchObject({ admitted: true, by: 'queue', requeued: true });
    expect(await h.jobsNamed('quota-exhausted')).toHaveLength(1);
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
