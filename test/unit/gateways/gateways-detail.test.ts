/**
 * What each gateway sends and how it reads AWS's answers, against aws-sdk-client-mock: which
 * errors mean "absent" or "already done", and that every other error keeps its AWS name.
 */
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  DeleteCustomModelCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  StopModelCustomizationJobCommand,
  TagResourceCommand as BedrockTagResourceCommand,
} from '@aws-sdk/client-bedrock';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand as KmsTagResourceCommand,
} from '@aws-sdk/client-kms';
import {
  CopyObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Readable } from 'node:stream';
import { BedrockGateway, type JobRequest } from '../../../functions/shared/aws/bedrock';
import { EventsGateway } from '../../../functions/shared/aws/events';
import { KmsGateway } from '../../../functions/shared/aws/kms';
import { S3Gateway } from '../../../functions/shared/aws/s3';
import { SfnGateway } from '../../../functions/shared/aws/sfn';
import { TaskTokenStore } from '../../../functions/shared/aws/task-tokens';

const awsError = (name: string, message = `${name} message`) =>
  Object.assign(new Error(message), { name, $metadata: {} });

const bedrock = mockClient(BedrockClient);
const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);
const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  for (const m of [bedrock, kms, s3, sfn, events, ddb]) m.reset();
});

const JOB_ARN = 'arn:aws:bedrock:us-east-1:1:model-customization-job/m/abc';
const MODEL_ARN = 'arn:aws:bedrock:us-east-1:1:custom-model/m/xyz';
const request: JobRequest = {
  jobName: 'j',
  customModelName: 'm',
  clientRequestToken: 't',
  roleArn: 'arn:aws:iam::1:role/r',
  baseModelId: 'amazon.titan-text-express-v1',
  customizationType: 'FINE_TUNING',
  hyperParameters: { epochCount: '2' },
  trainingS3Uri: 's3://b/train.jsonl',
  outputS3Uri: 's3://o/out/',
  customModelKmsKeyId: 'arn:aws:kms:us-east-1:1:key/k',
  tags: { a: '1', b: '2' },
};

describe('BedrockGateway', () => {
  const gw = () => new BedrockGateway(new BedrockClient({}));

  it('sends the whole request, without validators when there is no validation data', async () => {
    bedrock.on(CreateModelCustomizationJobCommand).resolves({ jobArn: JOB_ARN });
    await expect(gw().createJob(request)).resolves.toBe(JOB_ARN);
    const sent = bedrock.commandCalls(CreateModelCustomizationJobCommand)[0]?.args[0].input;
    expect(sent).toEqual({
      jobName: 'j',
      customModelName: 'm',
      clientRequestToken: 't',
      roleArn: 'arn:aws:iam::1:role/r',
      baseModelIdentifier: 'amazon.titan-text-express-v1',
      customizationType: 'FINE_TUNING',
      hyperParameters: { epochCount: '2' },
      trainingDataConfig: { s3Uri: 's3://b/train.jsonl' },
      outputDataConfig: { s3Uri: 's3://o/out/' },
      customModelKmsKeyId: 'arn:aws:kms:us-east-1:1:key/k',
      jobTags: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
      customModelTags: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
    });
  });

  it('fails loudly when Bedrock answers without a job ARN', async () => {
    bedrock.on(CreateModelCustomizationJobCommand).resolves({});
    await expect(gw().createJob(request)).rejects.toThrow('CreateModelCustomizationJob returned no jobArn');
  });

  it('reads a job with every field it knows, and fills the missing name and status', async () => {
    const creationTime = new Date('2026-01-01T00:00:00Z');
    const endTime = new Date('2026-01-01T01:00:00Z');
    bedrock
      .on(GetModelCustomizationJobCommand)
      .resolvesOnce({
        jobArn: JOB_ARN,
        jobName: 'j',
        status: 'Completed',
        outputModelArn: MODEL_ARN,
        outputModelKmsKeyArn: 'arn:k',
        failureMessage: 'none',
        trainingMetrics: { trainingLoss: 0 },
        outputDataConfig: { s3Uri: 's3://o/out/' },
        creationTime,
        endTime,
      } as never)
      .resolvesOnce({ jobArn: JOB_ARN } as never)
      .resolvesOnce({} as never);
    await expect(gw().getJob('j')).resolves.toEqual({
      jobArn: JOB_ARN,
      jobName: 'j',
      status: 'Completed',
      outputModelArn: MODEL_ARN,
      outputModelKmsKeyArn: 'arn:k',
      failureMessage: 'none',
      trainingLoss: 0,
      outputS3Uri: 's3://o/out/',
      creationTime,
      endTime,
    });
    await expect(gw().getJob('j')).resolves.toEqual({ jobArn: JOB_ARN, jobName: '', status: 'InProgress' });
    await expect(gw().getJob('j')).resolves.toBeUndefined();
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: 'j' });
  });

  it('lets errors other than a missing job bubble from getJob', async () => {
    bedrock.on(GetModelCustomizationJobCommand).rejects(awsError('AccessDeniedException'));
    await expect(gw().getJob('j')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('stopJob: true when stopped, false when there was nothing to stop, other errors bubble', async () => {
    bedrock
      .on(StopModelCustomizationJobCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('ValidationException'))
      .rejectsOnce(awsError('ResourceNotFoundException'))
      .rejectsOnce(awsError('ConflictException'))
      .rejectsOnce(awsError('ThrottlingException'));
    const g = gw();
    await expect(g.stopJob(JOB_ARN)).resolves.toBe(true);
    await expect(g.stopJob(JOB_ARN)).resolves.toBe(false);
    await expect(g.stopJob(JOB_ARN)).resolves.toBe(false);
    await expect(g.stopJob(JOB_ARN)).resolves.toBe(false);
    await expect(g.stopJob(JOB_ARN)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: JOB_ARN });
  });

  it('reads a custom model (its key and job when given), or undefined when missing', async () => {
    bedrock
      .on(GetCustomModelCommand)
      .resolvesOnce({
        modelArn: MODEL_ARN,
        modelName: 'm',
        modelKmsKeyArn: 'arn:k',
        jobArn: JOB_ARN,
      } as never)
      .resolvesOnce({ modelArn: MODEL_ARN } as never)
      .rejectsOnce(awsError('ResourceNotFoundException'))
      .resolvesOnce({} as never);
    const g = gw();
    await expect(g.getCustomModel('m')).resolves.toEqual({
      modelArn: MODEL_ARN,
      modelName: 'm',
      modelKmsKeyArn: 'arn:k',
      jobArn: JOB_ARN,
    });
    await expect(g.getCustomModel('m')).resolves.toEqual({ modelArn: MODEL_ARN, modelName: '' });
    await expect(g.getCustomModel('m')).resolves.toBeUndefined();
    await expect(g.getCustomModel('m')).resolves.toBeUndefined();
    expect(bedrock).toHaveReceivedCommandWith(GetCustomModelCommand, { modelIdentifier: 'm' });
  });

  it('deleteCustomModel: true when deleted, false when already gone, other errors bubble', async () => {
    bedrock
      .on(DeleteCustomModelCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('ResourceNotFoundException'))
      .rejectsOnce(awsError('ConflictException'));
    const g = gw();
    await expect(g.deleteCustomModel(MODEL_ARN)).resolves.toBe(true);
    await expect(g.deleteCustomModel(MODEL_ARN)).resolves.toBe(false);
    await expect(g.deleteCustomModel(MODEL_ARN)).rejects.toMatchObject({ name: 'ConflictException' });
    expect(bedrock).toHaveReceivedCommandWith(DeleteCustomModelCommand, { modelIdentifier: MODEL_ARN });
  });

  it('tags a resource with key/value pairs', async () => {
    bedrock.on(BedrockTagResourceCommand).resolves({});
    await gw().tagResource(MODEL_ARN, { a: '1' });
    expect(bedrock).toHaveReceivedCommandWith(BedrockTagResourceCommand, {
      resourceARN: MODEL_ARN,
      tags: [{ key: 'a', value: '1' }],
    });
  });
});

describe('KmsGateway', () => {
  const gw = () => new KmsGateway(new KMSClient({}));
  const metadata = {
    Arn: 'arn:aws:kms:us-east-1:1:key/k',
    KeyId: 'k',
    KeyState: 'Enabled',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyManager: 'CUSTOMER',
  } as const;

  it('describes a key; missing fields read as Unknown; no ARN or no metadata is no key', async () => {
    kms
      .on(DescribeKeyCommand)
      .resolvesOnce({ KeyMetadata: metadata })
      .resolvesOnce({ KeyMetadata: { Arn: metadata.Arn, KeyId: 'k' } })
      .resolvesOnce({ KeyMetadata: { KeyId: 'k' } })
      .resolvesOnce({});
    const g = gw();
    await expect(g.describeKey('alias/x')).resolves.toEqual({
      keyArn: metadata.Arn,
      keyId: 'k',
      keyState: 'Enabled',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      keyManager: 'CUSTOMER',
    });
    await expect(g.describeKey('alias/x')).resolves.toEqual({
      keyArn: metadata.Arn,
      keyId: 'k',
      keyState: 'Unknown',
      keySpec: 'Unknown',
      keyUsage: 'Unknown',
      keyManager: 'Unknown',
    });
    await expect(g.describeKey('alias/x')).resolves.toBeUndefined();
    await expect(g.describeKey('alias/x')).resolves.toBeUndefined();
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/x' });
  });

  it('creates a symmetric encrypt/decrypt key with the policy and tags given', async () => {
    kms.on(CreateKeyCommand).resolvesOnce({ KeyMetadata: metadata }).resolvesOnce({});
    const g = gw();
    await expect(g.createKey({ description: 'd', policy: '{}', tags: { a: '1' } })).resolves.toMatchObject({
      keyId: 'k',
    });
    expect(kms).toHaveReceivedCommandWith(CreateKeyCommand, {
      Description: 'd',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Policy: '{}',
      Tags: [{ TagKey: 'a', TagValue: '1' }],
    });
    await expect(g.createKey({ description: 'd', policy: '{}', tags: {} })).rejects.toThrow(
      'CreateKey returned no key metadata',
    );
  });

  it("createAlias: 'created', 'exists' when another caller won, other errors bubble", async () => {
    kms
      .on(CreateAliasCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('AlreadyExistsException'))
      .rejectsOnce(awsError('NotFoundException'));
    const g = gw();
    await expect(g.createAlias('alias/x', 'k')).resolves.toBe('created');
    await expect(g.createAlias('alias/x', 'k')).resolves.toBe('exists');
    await expect(g.createAlias('alias/x', 'k')).rejects.toMatchObject({ name: 'NotFoundException' });
    expect(kms).toHaveReceivedCommandWith(CreateAliasCommand, { AliasName: 'alias/x', TargetKeyId: 'k' });
  });

  it('reads and writes the default key policy', async () => {
    kms.on(GetKeyPolicyCommand).resolvesOnce({ Policy: '{"a":1}' }).resolvesOnce({});
    kms.on(PutKeyPolicyCommand).resolves({});
    const g = gw();
    await expect(g.getKeyPolicy('k')).resolves.toBe('{"a":1}');
    await expect(g.getKeyPolicy('k')).resolves.toBe('');
    expect(kms).toHaveReceivedCommandWith(GetKeyPolicyCommand, { KeyId: 'k', PolicyName: 'default' });
    await g.putKeyPolicy('k', '{"b":2}');
    expect(kms).toHaveReceivedCommandWith(PutKeyPolicyCommand, {
      KeyId: 'k',
      PolicyName: 'default',
      Policy: '{"b":2}',
    });
  });

  it('reads rotation as on only when KMS says true, and turns it on', async () => {
    kms
      .on(GetKeyRotationStatusCommand)
      .resolvesOnce({ KeyRotationEnabled: true })
      .resolvesOnce({ KeyRotationEnabled: false })
      .resolvesOnce({});
    kms.on(EnableKeyRotationCommand).resolves({});
    const g = gw();
    await expect(g.isRotationEnabled('k')).resolves.toBe(true);
    await expect(g.isRotationEnabled('k')).resolves.toBe(false);
    await expect(g.isRotationEnabled('k')).resolves.toBe(false);
    expect(kms).toHaveReceivedCommandWith(GetKeyRotationStatusCommand, { KeyId: 'k' });
    await g.enableRotation('k');
    expect(kms).toHaveReceivedCommandWith(EnableKeyRotationCommand, { KeyId: 'k' });
  });

  it('tags a key and schedules its deletion with the window given', async () => {
    kms.on(KmsTagResourceCommand).resolves({});
    kms.on(ScheduleKeyDeletionCommand).resolves({});
    const g = gw();
    await g.tagKey('k', { 'tunevault:orphan': 'true' });
    await g.scheduleDeletion('k', 7);
    expect(kms).toHaveReceivedCommandWith(KmsTagResourceCommand, {
      KeyId: 'k',
      Tags: [{ TagKey: 'tunevault:orphan', TagValue: 'true' }],
    });
    expect(kms).toHaveReceivedCommandWith(ScheduleKeyDeletionCommand, { KeyId: 'k', PendingWindowInDays: 7 });
  });
});

/** What GetObject's Body offers the gateway: a stream that can also be read whole as text. */
const body = (text: string) =>
  Object.assign(Readable.from([Buffer.from(text)]), {
    transformToString: async (encoding?: string) =>
      Buffer.from(text).toString((encoding ?? 'utf8') as BufferEncoding),
  }) as never;

describe('S3Gateway', () => {
  const gw = () => new S3Gateway(new S3Client({}));

  it('reads the default encryption of the first rule: algorithm, key, bucket key', async () => {
    s3.on(GetBucketEncryptionCommand)
      .resolvesOnce({
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:k' },
              BucketKeyEnabled: true,
            },
          ],
        },
      })
      .resolvesOnce({
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      })
      .resolvesOnce({ ServerSideEncryptionConfiguration: { Rules: [] } });
    const g = gw();
    await expect(g.getDefaultEncryption('b')).resolves.toEqual({
      algorithm: 'aws:kms',
      kmsKeyId: 'arn:k',
      bucketKeyEnabled: true,
    });
    await expect(g.getDefaultEncryption('b')).resolves.toEqual({
      algorithm: 'AES256',
      bucketKeyEnabled: false,
    });
    await expect(g.getDefaultEncryption('b')).resolves.toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(GetBucketEncryptionCommand, { Bucket: 'b' });
  });

  it('reads the four Block Public Access flags (absent = off), or undefined when not configured', async () => {
    s3.on(GetPublicAccessBlockCommand)
      .resolvesOnce({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      })
      .rejectsOnce(awsError('NoSuchPublicAccessBlockConfiguration'))
      .resolvesOnce({});
    const g = gw();
    await expect(g.getPublicAccessBlock('b')).resolves.toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
    await expect(g.getPublicAccessBlock('b')).resolves.toBeUndefined();
    await expect(g.getPublicAccessBlock('b')).resolves.toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(GetPublicAccessBlockCommand, { Bucket: 'b' });
  });

  it('reads the bucket policy, or undefined when there is none', async () => {
    s3.on(GetBucketPolicyCommand).resolvesOnce({ Policy: '{}' }).rejectsOnce(awsError('NoSuchBucketPolicy'));
    const g = gw();
    await expect(g.getBucketPolicy('b')).resolves.toBe('{}');
    await expect(g.getBucketPolicy('b')).resolves.toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(GetBucketPolicyCommand, { Bucket: 'b' });
  });

  it('heads an object version, unquoting the ETag; each not-found answer reads as undefined', async () => {
    s3.on(HeadObjectCommand)
      .resolvesOnce({
        ContentLength: 5,
        ETag: '"e1"',
        VersionId: 'v1',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:k',
      })
      .resolvesOnce({})
      .rejectsOnce(awsError('NotFound'))
      .rejectsOnce(awsError('NoSuchKey'))
      .rejectsOnce(awsError('NoSuchVersion'))
      .rejectsOnce(awsError('Forbidden'));
    const g = gw();
    await expect(g.headObject('b', 'k', 'v1')).resolves.toEqual({
      size: 5,
      etag: 'e1',
      versionId: 'v1',
      sse: 'aws:kms',
      kmsKeyId: 'arn:k',
    });
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'b', Key: 'k', VersionId: 'v1' });
    await expect(g.headObject('b', 'k')).resolves.toEqual({ size: 0 });
    for (let i = 0; i < 3; i++) await expect(g.headObject('b', 'k')).resolves.toBeUndefined();
    await expect(g.headObject('b', 'k')).rejects.toMatchObject({ name: 'Forbidden' });
  });

  it('reads a small text object, or undefined when the key does not exist', async () => {
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: body('{"a":1}') })
      .rejectsOnce(awsError('NoSuchKey'))
      .resolvesOnce({});
    const g = gw();
    await expect(g.getText('b', 'k.job.json')).resolves.toBe('{"a":1}');
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'b', Key: 'k.job.json' });
    await expect(g.getText('b', 'k')).resolves.toBeUndefined();
    await expect(g.getText('b', 'k')).resolves.toBeUndefined();
  });

  it('streams an object version, or undefined when that version or key is gone', async () => {
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: body('line\n') })
      .rejectsOnce(awsError('NoSuchVersion'))
      .rejectsOnce(awsError('NoSuchKey'))
      .rejectsOnce(awsError('AccessDenied'));
    const g = gw();
    const stream = await g.openStream('b', 'k', 'v1');
    expect(stream).toBeDefined();
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'b', Key: 'k', VersionId: 'v1' });
    await expect(g.openStream('b', 'k', 'v1')).resolves.toBeUndefined();
    await expect(g.openStream('b', 'k')).resolves.toBeUndefined();
    await expect(g.openStream('b', 'k')).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('writes text under SSE-KMS with the key given and a bucket key, typed by extension', async () => {
    s3.on(PutObjectCommand).resolves({});
    const g = gw();
    await g.uploadEncrypted('o', 'runs/r/guard-report.json', '{}', 'arn:k');
    await g.uploadEncrypted('o', 'runs/r/validation.jsonl', 'x\n', 'arn:k');
    const calls = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      {
        Bucket: 'o',
        Key: 'runs/r/guard-report.json',
        Body: '{}',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:k',
        BucketKeyEnabled: true,
        ContentType: 'application/json',
      },
      expect.objectContaining({ Key: 'runs/r/validation.jsonl', ContentType: 'application/jsonl' }),
    ]);
  });

  it('streams a body to S3 with the same encryption (lib-storage Upload)', async () => {
    s3.on(PutObjectCommand).resolves({});
    await gw().uploadEncrypted('o', 'runs/r/redacted.jsonl', Readable.from([Buffer.from('a\n')]), 'arn:k');
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'o',
      Key: 'runs/r/redacted.jsonl',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:k',
      BucketKeyEnabled: true,
      ContentType: 'application/jsonl',
    });
  });

  it('copies one version server-side under the CMK, with the key URL-encoded but its slashes kept', async () => {
    s3.on(CopyObjectCommand).resolves({});
    await expect(
      gw().copyVersionEncrypted(
        { bucket: 't', key: 'training/a b+é.jsonl', versionId: 'v 1' },
        'o',
        'runs/r/training.jsonl',
        'arn:k',
      ),
    ).resolves.toBe('copied');
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'o',
      Key: 'runs/r/training.jsonl',
      CopySource: 't/training/a%20b%2B%C3%A9.jsonl?versionId=v%201',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:k',
      BucketKeyEnabled: true,
      MetadataDirective: 'REPLACE',
      ContentType: 'application/jsonl',
      TaggingDirective: 'REPLACE',
    });
  });

  it('pins an unversioned copy to the ETag judged, and reads the answers gone / changed', async () => {
    s3.on(CopyObjectCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('PreconditionFailed'))
      .rejectsOnce(awsError('NoSuchKey'))
      .rejectsOnce(awsError('NoSuchVersion'))
      .rejectsOnce(awsError('AccessDenied'));
    const g = gw();
    const source = { bucket: 't', key: 'k', etag: 'e1' };
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).resolves.toBe('copied');
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toMatchObject({
      CopySource: 't/k',
      CopySourceIfMatch: '"e1"',
    });
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).resolves.toBe('changed');
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).resolves.toBe('gone');
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).resolves.toBe('gone');
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).rejects.toMatchObject({
      name: 'AccessDenied',
    });
  });

  it('merges tags into the version: ours first and replacing, others kept, at most ten', async () => {
    s3.on(GetObjectTaggingCommand).resolves({
      TagSet: [
        { Key: 'tunevault:status', Value: 'old' },
        ...Array.from({ length: 10 }, (_, i) => ({ Key: `owner-${i}`, Value: `${i}` })),
      ],
    });
    s3.on(PutObjectTaggingCommand).resolves({});
    await gw().mergeObjectTags('t', 'k', { 'tunevault:status': 'trained', 'tunevault:model': 'm' }, 'v1');
    expect(s3).toHaveReceivedCommandWith(GetObjectTaggingCommand, { Bucket: 't', Key: 'k', VersionId: 'v1' });
    const put = s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: 't', Key: 'k', VersionId: 'v1' });
    expect(put?.Tagging?.TagSet).toEqual([
      { Key: 'tunevault:status', Value: 'trained' },
      { Key: 'tunevault:model', Value: 'm' },
      ...Array.from({ length: 8 }, (_, i) => ({ Key: `owner-${i}`, Value: `${i}` })),
    ]);
  });

  it('merges into an object without tags', async () => {
    s3.on(GetObjectTaggingCommand).resolves({});
    s3.on(PutObjectTaggingCommand).resolves({});
    await gw().mergeObjectTags('t', 'k', { a: '1' });
    expect(s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input.Tagging?.TagSet).toEqual([
      { Key: 'a', Value: '1' },
    ]);
  });
});

describe('SfnGateway', () => {
  const gw = () => new SfnGateway(new SFNClient({}));

  it('starts an execution with the input as JSON and returns its ARN', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: 'arn:e', startDate: new Date() })
      .resolvesOnce({} as never);
    const g = gw();
    await expect(g.startExecution('arn:sm', 'n', { a: 1 })).resolves.toEqual({
      executionArn: 'arn:e',
      alreadyStarted: false,
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: 'arn:sm',
      name: 'n',
      input: '{"a":1}',
    });
    await expect(g.startExecution('arn:sm', 'n', {})).resolves.toEqual({
      executionArn: '',
      alreadyStarted: false,
    });
  });

  it('sends a task failure with the cause cut to the 32 768 characters Step Functions accepts', async () => {
    sfn
      .on(SendTaskFailureCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('TaskDoesNotExist'))
      .rejectsOnce(awsError('InvalidToken'));
    const g = gw();
    await expect(g.sendTaskFailure('t', 'E', 'c'.repeat(40_000))).resolves.toBe('sent');
    const sent = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(sent).toEqual({ taskToken: 't', error: 'E', cause: 'c'.repeat(32_768) });
    await expect(g.sendTaskFailure('t', 'E', 'c')).resolves.toBe('closed');
    await expect(g.sendTaskFailure('t', 'E', 'c')).rejects.toMatchObject({ name: 'InvalidToken' });
  });
});

describe('EventsGateway', () => {
  const gw = () => new EventsGateway(new EventBridgeClient({}));

  it('publishes one tunevault event with only ARNs as resources, and returns its id', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });
    await expect(gw().publish('TuneVault Run Completed', { a: 1 }, ['arn:x', 'not-an-arn'])).resolves.toBe(
      'ev-1',
    );
    expect(events).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        {
          Source: 'tunevault',
          DetailType: 'TuneVault Run Completed',
          Detail: '{"a":1}',
          Resources: ['arn:x'],
        },
      ],
    });
  });

  it('fails with the entry error when EventBridge refuses the event, or gives no id', async () => {
    events
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{}] })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'ev-2' }] });
    const g = gw();
    await expect(g.publish('t', {}, [])).rejects.toThrow(
      'PutEvents rejected the notification: InternalFailure try again',
    );
    await expect(g.publish('t', {}, [])).rejects.toThrow('PutEvents rejected the notification: unknown ');
    await expect(g.publish('t', {}, [])).rejects.toThrow('PutEvents rejected the notification');
  });
});

describe('TaskTokenStore (requests)', () => {
  const store = () => new TaskTokenStore('tokens', DynamoDBDocumentClient.from(new DynamoDBClient({})));

  it('puts the waiting task as the item, and reads with a consistent read', async () => {
    ddb.on(PutCommand).resolves({});
    ddb
      .on(GetCommand)
      .resolves({ Item: { jobName: 'j', taskToken: 't', executionArn: 'arn:e', expiresAt: 5 } });
    await store().put({ jobName: 'j', taskToken: 't', expiresAt: 5 });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'tokens',
      Item: { jobName: 'j', taskToken: 't', expiresAt: 5 },
    });
    await expect(store().get('j')).resolves.toEqual({
      jobName: 'j',
      taskToken: 't',
      executionArn: 'arn:e',
      expiresAt: 5,
    });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'tokens',
      Key: { jobName: 'j' },
      ConsistentRead: true,
    });
  });

  it('reads an item without a string token as no waiting task, and fills what is missing', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { jobName: 'j', taskToken: 7 } })
      .resolvesOnce({})
      .resolvesOnce({ Item: { jobName: 'j', taskToken: 't', executionArn: 3 } });
    const s = store();
    await expect(s.get('j')).resolves.toBeUndefined();
    await expect(s.get('j')).resolves.toBeUndefined();
    await expect(s.get('j')).resolves.toEqual({ jobName: 'j', taskToken: 't', expiresAt: 0 });
  });

  it('claims with a delete conditioned on the token', async () => {
    ddb.on(DeleteCommand).resolves({});
    await expect(store().claim('j', 't')).resolves.toBe(true);
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      TableName: 'tokens',
      Key: { jobName: 'j' },
      ConditionExpression: 'taskToken = :t',
      ExpressionAttributeValues: { ':t': 't' },
    });
  });
});
