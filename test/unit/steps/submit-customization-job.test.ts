import { createHash } from 'node:crypto';
import type { JobRequest } from '../../../functions/shared/aws/bedrock';
import { JobSubmissionError } from '../../../functions/shared/errors';
import {
  buildJobRequest,
  type SubmitInput,
  type SubmitSettings,
  submitCustomizationJob,
} from '../../../functions/submit-customization-job/core';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/0b3d5c8e-1111-2222-3333-444455556666';
const EXECUTION_ARN = 'arn:aws:states:us-east-1:111122223333:execution:tunevault-dev-customization:tv-run';
const JOB_ARN = 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/amazon.titan/abc123';

const settings: SubmitSettings = {
  roleArn: 'arn:aws:iam::111122223333:role/tunevault-dev-bedrock',
  job: {
    region: 'us-east-1',
    baseModelId: 'amazon.nova-micro-v1:0',
    customizationType: 'FINE_TUNING',
    hyperParameters: { epochCount: '3' },
    rftGraderLambdaArns: [],
    deploy: 'none',
    provisionedModelUnits: 1,
  },
  outputBucket: 'tunevault-dev-output',
  outputPrefix: 'output/',
};

function input(over: Partial<SubmitInput> = {}): SubmitInput {
  return {
    source: { bucket: 'tunevault-dev-training-data', key: 'training/support chat.jsonl', versionId: 'v1' },
    dataset: {},
    key: { keyArn: KEY_ARN },
    scan: {
      trainingS3Uri: 's3://tunevault-dev-output/output/runs/tv-run/training.jsonl',
      sha256: 'f'.repeat(64),
      verdict: 'pass',
      totalFindings: 0,
    },
    executionArn: EXECUTION_ARN,
    ...over,
  };
}

/** The version digest the names are built from: sha256 of bucket, key and version, NUL-separated. */
const digest = (bucket: string, key: string, version: string) =>
  createHash('sha256').update(`${bucket}\u0000${key}\u0000${version}`).digest('hex');

describe('buildJobRequest', () => {
  it('derives jobName, customModelName and clientRequestToken from the object version alone', () => {
    const d = digest('tunevault-dev-training-data', 'training/support chat.jsonl', 'v:v1');
    const request = buildJobRequest(input(), settings);
    expect(request).toMatchObject({
      jobName: `tunevault-support-chat-${d.slice(0, 24)}`,
      customModelName: `tunevault-support-chat-model-${d.slice(0, 18)}`,
      clientRequestToken: `tunevault-${d}`,
    });
  });

  it('README "Nothing runs twice": two submissions for one version (another execution, a retry) carry the same clientRequestToken', () => {
    // A minute apart, as a retry or a second execution would come: the clock must not matter.
    jest.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
    const first = buildJobRequest(input(), settings);
    jest.setSystemTime(Date.parse('2026-01-01T00:01:00Z'));
    const second = buildJobRequest(input({ executionArn: `${EXECUTION_ARN}-2` }), settings);
    jest.useRealTimers();
    expect(second.clientRequestToken).toBe(first.clientRequestToken);
    expect(second.jobName).toBe(first.jobName);
    const next = buildJobRequest(input({ source: { ...input().source, versionId: 'v2' } }), settings);
    expect(next.clientRequestToken).not.toBe(first.clientRequestToken);
  });

  it("sends the stage's job (catalog id, the stage's hyper-parameters over the catalog defaults), the guard copy, the CMK and an output prefix ending in the job name", () => {
    const request = buildJobRequest(input(), settings);
    expect(request).toMatchObject({
      roleArn: settings.roleArn,
      baseModelId: 'amazon.nova-micro-v1:0:128k',
      customizationType: 'FINE_TUNING',
      hyperParameters: { epochCount: '3', learningRate: '0.00001', learningRateWarmupSteps: '10' },
      trainingS3Uri: 's3://tunevault-dev-output/output/runs/tv-run/training.jsonl',
      outputS3Uri: `s3://tunevault-dev-output/output/${request.jobName}/`,
      customModelKmsKeyId: KEY_ARN,
    });
    expect(request).not.toHaveProperty('validationS3Uri');
  });

  it('adds the missing slash to an output prefix and keeps an empty prefix empty', () => {
    const bare = buildJobRequest(input(), { ...settings, outputPrefix: 'jobs' });
    expect(bare.outputS3Uri).toBe(`s3://tunevault-dev-output/jobs/${bare.jobName}/`);
    const none = buildJobRequest(input(), { ...settings, outputPrefix: '' });
    expect(none.outputS3Uri).toBe(`s3://tunevault-dev-output/${none.jobName}/`);
  });

  it("lets the sidecar choose the base model, type and single hyper-parameters (the stage's apply to its own model family only), and sends the guard's validation copy", () => {
    const request = buildJobRequest(
      input({
        dataset: {
          baseModelId: 'amazon.titan-text-express-v1',
          customizationType: 'CONTINUED_PRE_TRAINING',
          hyperParameters: { epochCount: '5' },
          tags: { team: 'support' },
        },
        scan: {
          ...input().scan,
          validation: {
            verdict: 'pass',
            records: 3,
            totalFindings: 0,
            s3Uri: 's3://tunevault-dev-output/output/runs/tv-run/validation.jsonl',
            reportS3Uri: 's3://tunevault-dev-output/output/runs/tv-run/validation-guard-report.json',
          },
        },
      }),
      settings,
    );
    expect(request).toMatchObject({
      baseModelId: 'amazon.titan-text-express-v1:0:8k',
      customizationType: 'CONTINUED_PRE_TRAINING',
      hyperParameters: {
        epochCount: '5',
        batchSize: '1',
        learningRate: '0.00001',
        learningRateWarmupSteps: '5',
      },
      validationS3Uri: 's3://tunevault-dev-output/output/runs/tv-run/validation.jsonl',
    });
    expect(request.tags).toMatchObject({
      team: 'support',
      'tunevault:kms-key-arn': KEY_ARN,
      'tunevault:execution-arn': EXECUTION_ARN,
      'tunevault:guard-verdict': 'pass',
      'tunevault:guard-findings': '0',
      'tunevault:data-sha256': 'f'.repeat(64),
    });
  });
});

describe('submitCustomizationJob', () => {
  function awsError(name: string): Error {
    return Object.assign(new Error(`${name} message`), { name });
  }

  it('returns the job Bedrock answers with the names it was asked for', async () => {
    const sent: JobRequest[] = [];
    const job = await submitCustomizationJob(input(), settings, {
      createJob: async (r) => {
        sent.push(r);
        return JOB_ARN;
      },
    });
    expect(sent).toHaveLength(1);
    expect(job).toEqual({
      jobArn: JOB_ARN,
      jobName: sent[0]?.jobName,
      customModelName: sent[0]?.customModelName,
      clientRequestToken: sent[0]?.clientRequestToken,
      baseModelId: 'amazon.nova-micro-v1:0:128k',
      customizationType: 'FINE_TUNING',
    });
  });

  it.each([
    'ValidationException',
    'AccessDeniedException',
    'ResourceNotFoundException',
    'TooManyTagsException',
    'ConflictException',
  ])(
    'turns %s (retrying cannot fix it) into JobSubmissionError naming the job and the cause',
    async (name) => {
      const attempt = submitCustomizationJob(input(), settings, {
        createJob: async () => {
          throw awsError(name);
        },
      });
      await expect(attempt).rejects.toBeInstanceOf(JobSubmissionError);
      const jobName = buildJobRequest(input(), settings).jobName;
      await expect(attempt).rejects.toThrow(`Bedrock refused job ${jobName}: ${name}: ${name} message`);
    },
  );

  it.each(['ThrottlingException', 'ServiceQuotaExceededException', 'InternalServerException'])(
    'lets %s bubble under its own name for the ASL to retry',
    async (name) => {
      const attempt = submitCustomizationJob(input(), settings, {
        createJob: async () => {
          throw awsError(name);
        },
      });
      await expect(attempt).rejects.toMatchObject({ name });
      await expect(attempt).rejects.not.toBeInstanceOf(JobSubmissionError);
    },
  );
});
