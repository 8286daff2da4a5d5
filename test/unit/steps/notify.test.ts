import { DETAIL_TYPES, type NotifyInput, notificationDetail, notify } from '../../../functions/notify/core';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:111122223333:execution:sm:tv-run';
const JOB_ARN = 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/x/abc';
const MODEL_ARN = 'arn:aws:bedrock:us-east-1:111122223333:custom-model/x/m1';
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/k1';
const source = { bucket: 'training', key: 'training/a.jsonl', versionId: 'v1' };

describe('notificationDetail', () => {
  it('describes a completed run with its job, model, key and verdict', () => {
    expect(
      notificationDetail({
        outcome: 'completed',
        executionArn: EXECUTION_ARN,
        source,
        job: { jobArn: JOB_ARN },
        model: { modelArn: MODEL_ARN },
        key: { keyArn: KEY_ARN },
        scan: { verdict: 'pass', totalFindings: 0 },
      }),
    ).toEqual({
      outcome: 'completed',
      executionArn: EXECUTION_ARN,
      source: {
        bucket: 'training',
        key: 'training/a.jsonl',
        versionId: 'v1',
        s3Uri: 's3://training/training/a.jsonl',
      },
      jobArn: JOB_ARN,
      modelArn: MODEL_ARN,
      kmsKeyArn: KEY_ARN,
      verdict: 'pass',
      findings: 0,
      error: null,
      failureMessage: null,
      job: null,
      deployment: null,
      remediation: [],
    });
  });

  it('describes a failed run with nulls for what it never reached, and the error and its message', () => {
    expect(
      notificationDetail({
        outcome: 'failed',
        executionArn: EXECUTION_ARN,
        source: { bucket: 'training', key: 'training/a.jsonl' },
        error: { Error: 'BucketNotCompliantError', Cause: 'Bucket not compliant: …' },
      }),
    ).toMatchObject({
      source: { versionId: null },
      jobArn: null,
      modelArn: null,
      kmsKeyArn: null,
      verdict: null,
      findings: null,
      error: 'BucketNotCompliantError',
      failureMessage: 'Bucket not compliant: …',
    });
  });

  it.each([
    ['SensitiveDataError', 'block'],
    ['InvalidTrainingDataError', 'invalid'],
  ])('reads the verdict of a run the guard stopped (%s) from its error', (error, verdict) => {
    const detail = notificationDetail({
      outcome: 'remediated',
      executionArn: EXECUTION_ARN,
      source,
      error: { Error: error },
    });
    expect(detail.verdict).toBe(verdict);
  });

  it("carries Bedrock's account of the job: status, phases, the phase it failed in, its message", () => {
    const detail = notificationDetail({
      outcome: 'failed',
      executionArn: EXECUTION_ARN,
      source,
      error: { Error: 'CustomizationJobFailedError', Cause: 'Job j ended Failed: out of memory' },
      jobInfo: {
        status: 'Failed',
        statusDetails: { validation: 'Completed', dataProcessing: 'Completed', training: 'Failed' },
        failureMessage: 'out of memory',
      },
    });
    expect(detail.job).toEqual({
      status: 'Failed',
      statusDetails: 'validation Completed · data processing Completed · training Failed',
      failedIn: 'training',
      failureMessage: 'out of memory',
    });
    // A job Bedrock has said little about yet: nulls, not missing fields.
    expect(
      notificationDetail({
        outcome: 'failed',
        executionArn: EXECUTION_ARN,
        source,
        jobInfo: { status: 'InProgress' },
      }).job,
    ).toEqual({ status: 'InProgress', statusDetails: null, failedIn: null, failureMessage: null });
  });

  it('carries the deployment FinalizeCustomModel made, and none without one', () => {
    const deployment = (d: NotifyInput['deployment']) =>
      notificationDetail({ outcome: 'completed', executionArn: EXECUTION_ARN, source, deployment: d })
        .deployment;
    const pt = 'arn:aws:bedrock:us-east-1:111122223333:provisioned-model/p1';
    expect(deployment({ mode: 'provisioned', arn: pt, expiresAt: '2026-12-06T12:00:00.000Z' })).toEqual({
      mode: 'provisioned',
      arn: pt,
      expiresAt: '2026-12-06T12:00:00.000Z',
    });
    expect(deployment({ arn: pt })).toEqual({ mode: null, arn: pt, expiresAt: null });
    expect(deployment({ mode: 'none' })).toBeNull();
  });

  it('has no verdict for a run that failed before the guard for another reason', () => {
    const detail = notificationDetail({
      outcome: 'failed',
      executionArn: EXECUTION_ARN,
      source,
      error: { Error: 'BucketNotCompliantError' },
    });
    expect(detail.verdict).toBeNull();
  });

  it('takes the model from the job result when the run stopped before finalizing, and lists the remediation', () => {
    const detail = notificationDetail({
      outcome: 'remediated',
      executionArn: EXECUTION_ARN,
      source,
      jobResult: { outputModelArn: MODEL_ARN },
      remediation: { actions: [{ action: 'deleted-model', target: MODEL_ARN }] },
    });
    expect(detail.modelArn).toBe(MODEL_ARN);
    expect(detail.remediation).toEqual([{ action: 'deleted-model', target: MODEL_ARN }]);
  });
});

describe('notify', () => {
  it.each(Object.entries(DETAIL_TYPES))(
    'publishes a %s run as "%s" naming its ARNs as resources',
    async (outcome, detailType) => {
      const published: { detailType: string; detail: Record<string, unknown>; resources: string[] }[] = [];
      const input: NotifyInput = {
        outcome: outcome as NotifyInput['outcome'],
        executionArn: EXECUTION_ARN,
        source,
        job: { jobArn: JOB_ARN },
      };
      const result = await notify(input, {
        publish: async (type, detail, resources) => {
          published.push({ detailType: type, detail, resources });
          return 'event-1';
        },
      });
      expect(result).toEqual({ eventId: 'event-1', detailType });
      expect(published).toEqual([
        { detailType, detail: notificationDetail(input), resources: [EXECUTION_ARN, JOB_ARN] },
      ]);
    },
  );

  it('has a detail type for each outcome', () => {
    expect(DETAIL_TYPES).toEqual({
      completed: 'TuneVault Run Completed',
      failed: 'TuneVault Run Failed',
      remediated: 'TuneVault Run Remediated',
    });
  });
});
