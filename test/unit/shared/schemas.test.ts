/**
 * The run-state and sidecar schemas (functions/shared/types.ts) at their bounds: each accepts a
 * value AWS or the workflow really produces and refuses one just past the documented limit.
 * Bounds: botocore bedrock 2023-04-20 (VpcConfig SubnetIds 1–16, SecurityGroupIds 1–5; Tag key
 * 1–128, value 0–256 characters) and the state the steps hand each other.
 */
import { s3EventSchema } from '../../../functions/start-customization/core';
import {
  datasetOptionsSchema,
  jobRefSchema,
  jobStatusSchema,
  keyResultSchema,
  scanSummarySchema,
} from '../../../functions/shared/types';

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) =>
  schema.safeParse(value).success;

describe('the sidecar schema (datasetOptionsSchema)', () => {
  const distillation = (teacher: Record<string, unknown>) => ({
    customizationType: 'DISTILLATION',
    customizationConfig: { distillationConfig: { teacherModelConfig: teacher } },
  });

  it('takes a distillation teacher by id with a response length, and refuses an empty id or a length of 0', () => {
    const teacher = 'arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-premier-v1:0';
    expect(
      ok(
        datasetOptionsSchema,
        distillation({ teacherModelIdentifier: teacher, maxResponseLengthForInference: 4096 }),
      ),
    ).toBe(true);
    expect(ok(datasetOptionsSchema, distillation({ teacherModelIdentifier: '' }))).toBe(false);
    expect(
      ok(
        datasetOptionsSchema,
        distillation({ teacherModelIdentifier: teacher, maxResponseLengthForInference: 0 }),
      ),
    ).toBe(false);
  });

  it('takes an RFT grader ARN with string and number hyper-parameters, and refuses an empty ARN', () => {
    const lambdaArn = 'arn:aws:lambda:us-east-1:111122223333:function:reward';
    const rft = (arn: string) => ({
      customizationType: 'REINFORCEMENT_FINE_TUNING',
      customizationConfig: {
        rftConfig: {
          graderConfig: { lambdaGrader: { lambdaArn: arn } },
          hyperParameters: { epochCount: 2, learningRate: '0.0001' },
        },
      },
    });
    expect(ok(datasetOptionsSchema, rft(lambdaArn))).toBe(true);
    expect(ok(datasetOptionsSchema, rft(''))).toBe(false);
  });

  it.each([
    [
      'two subnets and two security groups',
      { subnetIds: ['subnet-0a1', 'subnet-0b2'], securityGroupIds: ['sg-0a1', 'sg-0b2'] },
      true,
    ],
    [
      '16 subnets and 5 security groups (the botocore maxima)',
      {
        subnetIds: Array.from({ length: 16 }, (_, i) => `subnet-${i}`),
        securityGroupIds: Array.from({ length: 5 }, (_, i) => `sg-${i}`),
      },
      true,
    ],
    [
      '17 subnets',
      { subnetIds: Array.from({ length: 17 }, (_, i) => `subnet-${i}`), securityGroupIds: ['sg-1'] },
      false,
    ],
    [
      '6 security groups',
      { subnetIds: ['subnet-1'], securityGroupIds: Array.from({ length: 6 }, (_, i) => `sg-${i}`) },
      false,
    ],
    ['no subnet', { subnetIds: [], securityGroupIds: ['sg-1'] }, false],
    ['no security group', { subnetIds: ['subnet-1'], securityGroupIds: [] }, false],
    ['an empty subnet id', { subnetIds: [''], securityGroupIds: ['sg-1'] }, false],
    ['an empty security group id', { subnetIds: ['subnet-1'], securityGroupIds: [''] }, false],
  ])('vpcConfig with %s: accepted = %s', (_what, vpcConfig, accepted) => {
    expect(ok(datasetOptionsSchema, { vpcConfig })).toBe(accepted);
  });

  it.each(['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION', 'REINFORCEMENT_FINE_TUNING'])(
    'takes customizationType %s',
    (customizationType) => {
      expect(ok(datasetOptionsSchema, { customizationType })).toBe(true);
    },
  );

  it('takes provisioned units and an expiry up to 366 days, and refuses 0 units or a longer expiry', () => {
    expect(
      ok(datasetOptionsSchema, { deploy: 'provisioned', provisioned: { modelUnits: 2, expiresInHours: 24 } }),
    ).toBe(true);
    expect(ok(datasetOptionsSchema, { provisioned: { expiresInHours: 24 * 366 } })).toBe(true);
    expect(ok(datasetOptionsSchema, { provisioned: { expiresInHours: 24 * 366 + 1 } })).toBe(false);
    expect(ok(datasetOptionsSchema, { provisioned: { modelUnits: 0 } })).toBe(false);
  });

  it('takes a validation key, each data policy and tags at their limits; refuses an empty key and longer tags', () => {
    expect(ok(datasetOptionsSchema, { validationKey: 'training/val.jsonl' })).toBe(true);
    expect(ok(datasetOptionsSchema, { validationKey: '' })).toBe(false);
    for (const policy of ['block', 'redact', 'report'])
      expect(ok(datasetOptionsSchema, { dataPolicy: { policy } })).toBe(true);
    expect(ok(datasetOptionsSchema, { tags: { team: 'research', ['k'.repeat(128)]: 'v'.repeat(256) } })).toBe(
      true,
    );
    expect(ok(datasetOptionsSchema, { tags: { ['k'.repeat(129)]: 'v' } })).toBe(false);
    expect(ok(datasetOptionsSchema, { tags: { team: 'v'.repeat(257) } })).toBe(false);
    expect(ok(datasetOptionsSchema, { tags: { '': 'v' } })).toBe(false);
  });
});

describe('the state the steps hand each other', () => {
  it('a key result carries a KMS key ARN, not an alias', () => {
    const key = {
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      created: true,
      policyChanged: false,
      statementsAdded: [],
    };
    expect(
      ok(keyResultSchema, { ...key, keyArn: `arn:aws:kms:us-east-1:111122223333:key/${key.keyId}` }),
    ).toBe(true);
    expect(ok(keyResultSchema, { ...key, keyArn: 'alias/tunevault-dev' })).toBe(false);
  });

  it('a scan summary points at s3:// URIs for its training data, report and validation data', () => {
    const summary = {
      verdict: 'pass',
      records: 10,
      bytes: 2048,
      sha256: 'a'.repeat(64),
      totalFindings: 0,
      bySeverity: {},
      byType: {},
      trainingS3Uri: 's3://tunevault-dev-training-data/training/a.jsonl',
      reportS3Uri: 's3://tunevault-dev-output/reports/a.json',
      validation: {
        verdict: 'pass',
        records: 2,
        totalFindings: 0,
        s3Uri: 's3://tunevault-dev-training-data/training/val.jsonl',
        reportS3Uri: 's3://tunevault-dev-output/reports/val.json',
      },
    };
    expect(ok(scanSummarySchema, summary)).toBe(true);
    for (const field of ['trainingS3Uri', 'reportS3Uri'] as const)
      expect(ok(scanSummarySchema, { ...summary, [field]: 'https://example.com/s3://x' })).toBe(false);
    for (const field of ['s3Uri', 'reportS3Uri'] as const)
      expect(
        ok(scanSummarySchema, {
          ...summary,
          validation: { ...summary.validation, [field]: 'training/val.jsonl' },
        }),
      ).toBe(false);
  });

  it.each(['pass', 'redact', 'block', 'invalid'])('a scan summary may have the verdict %s', (verdict) => {
    const summary = {
      verdict,
      records: 1,
      bytes: 1,
      sha256: 'a',
      totalFindings: 0,
      bySeverity: {},
      byType: {},
    };
    const uris = { trainingS3Uri: 's3://b/t.jsonl', reportS3Uri: 's3://b/r.json' };
    expect(ok(scanSummarySchema, { ...summary, ...uris })).toBe(true);
  });

  it('a job reference carries the job ARN Bedrock returned', () => {
    const ref = {
      jobName: 'j',
      customModelName: 'm',
      clientRequestToken: 't',
      baseModelId: 'amazon.nova-micro-v1:0:128k',
    };
    expect(
      ok(jobRefSchema, {
        ...ref,
        jobArn: 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/abc',
      }),
    ).toBe(true);
    expect(ok(jobRefSchema, { ...ref, jobArn: 'model-customization-job/abc' })).toBe(false);
  });

  it.each(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'])(
    "knows Bedrock's job status %s (GetModelCustomizationJob's ModelCustomizationJobStatus)",
    (status) => {
      expect(jobStatusSchema.parse(status)).toBe(status);
    },
  );
});

describe("S3's ObjectCreated event (start-customization's s3EventSchema)", () => {
  const record = (eventName: string, bucket: string, key: string) => ({
    eventName,
    s3: { bucket: { name: bucket }, object: { key, size: 10 } },
  });

  it('takes several ObjectCreated records, and refuses none, an ObjectRemoved record, a short bucket name or an empty key', () => {
    const put = record('ObjectCreated:Put', 'tunevault-dev-training-data', 'training/a.jsonl');
    expect(
      ok(s3EventSchema, { Records: [put, record('ObjectCreated:CompleteMultipartUpload', 'abc', 'b')] }),
    ).toBe(true);
    expect(ok(s3EventSchema, { Records: [] })).toBe(false);
    expect(ok(s3EventSchema, { Records: [record('ObjectRemoved:Delete', 'abc', 'k')] })).toBe(false);
    expect(ok(s3EventSchema, { Records: [record('Put:ObjectCreated:', 'abc', 'k')] })).toBe(false);
    expect(ok(s3EventSchema, { Records: [record('ObjectCreated:Put', 'ab', 'k')] })).toBe(false);
    expect(ok(s3EventSchema, { Records: [record('ObjectCreated:Put', 'abc', '')] })).toBe(false);
  });
});
