import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { BedrockGateway } from '../../../functions/shared/aws/bedrock';
import { KmsGateway } from '../../../functions/shared/aws/kms';
import { S3Gateway } from '../../../functions/shared/aws/s3';
import { SfnGateway } from '../../../functions/shared/aws/sfn';

function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

const sfnMock = mockClient(SFNClient);
const kmsMock = mockClient(KMSClient);
const s3Mock = mockClient(S3Client);
const bedrockMock = mockClient(BedrockClient);

beforeEach(() => {
  sfnMock.reset();
  kmsMock.reset();
  s3Mock.reset();
  bedrockMock.reset();
});

const SM = 'arn:aws:states:us-east-1:111122223333:stateMachine:tunevault-dev-customization';

describe('SfnGateway', () => {
  it('counts ExecutionAlreadyExists as started, with the existing execution ARN', async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists'));
    const result = await new SfnGateway(new SFNClient({})).startExecution(SM, 'tv-run-1', { a: 1 });
    expect(result).toEqual({
      executionArn: 'arn:aws:states:us-east-1:111122223333:execution:tunevault-dev-customization:tv-run-1',
      alreadyStarted: true,
    });
  });

  it('lets other StartExecution errors bubble with their names', async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError('StateMachineDoesNotExist'));
    await expect(new SfnGateway(new SFNClient({})).startExecution(SM, 'x', {})).rejects.toMatchObject({
      name: 'StateMachineDoesNotExist',
    });
  });

  it('treats a closed or unknown token as already answered, not as failure', async () => {
    sfnMock
      .on(SendTaskSuccessCommand)
      .rejectsOnce(awsError('TaskTimedOut'))
      .rejectsOnce(awsError('TaskDoesNotExist'))
      .resolves({});
    const gw = new SfnGateway(new SFNClient({}));
    await expect(gw.sendTaskSuccess('t', {})).resolves.toBe('closed');
    await expect(gw.sendTaskSuccess('t', {})).resolves.toBe('closed');
    await expect(gw.sendTaskSuccess('t', { ok: true })).resolves.toBe('sent');
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 't',
      output: '{"ok":true}',
    });
  });
});

describe('KmsGateway', () => {
  it('maps NotFoundException to undefined and keeps other errors', async () => {
    kmsMock
      .on(DescribeKeyCommand)
      .rejectsOnce(awsError('NotFoundException'))
      .rejectsOnce(awsError('AccessDeniedException'));
    const gw = new KmsGateway(new KMSClient({}));
    await expect(gw.describeKey('alias/x')).resolves.toBeUndefined();
    await expect(gw.describeKey('alias/x')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('S3Gateway', () => {
  it('reads "no default encryption" as undefined', async () => {
    s3Mock.on(GetBucketEncryptionCommand).rejects(awsError('ServerSideEncryptionConfigurationNotFoundError'));
    await expect(new S3Gateway(new S3Client({})).getDefaultEncryption('b')).resolves.toBeUndefined();
  });

  it('tags an object that may be gone: false only when S3 says it does not exist', async () => {
    const gw = new S3Gateway(new S3Client({}));
    s3Mock.on(GetObjectTaggingCommand).resolves({ TagSet: [{ Key: 'owner', Value: 'ml' }] });
    s3Mock.on(PutObjectTaggingCommand).resolves({});
    await expect(gw.mergeObjectTagsIfPresent('b', 'k', { 'tunevault:status': 'failed' }, 'v1')).resolves.toBe(
      true,
    );
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectTaggingCommand, {
      VersionId: 'v1',
      Tagging: {
        TagSet: [
          { Key: 'tunevault:status', Value: 'failed' },
          { Key: 'owner', Value: 'ml' },
        ],
      },
    });

    for (const gone of ['NoSuchKey', 'NoSuchVersion']) {
      s3Mock.on(GetObjectTaggingCommand).rejects(awsError(gone));
      await expect(gw.mergeObjectTagsIfPresent('b', 'k', {})).resolves.toBe(false);
    }
    // Without s3:ListBucket S3 answers a missing object with AccessDenied: that is not "gone".
    s3Mock.on(GetObjectTaggingCommand).rejects(awsError('AccessDenied'));
    await expect(gw.mergeObjectTagsIfPresent('b', 'k', {})).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('BedrockGateway', () => {
  it('submits the job with the CMK, validators and tags on job and model', async () => {
    bedrockMock
      .on(CreateModelCustomizationJobCommand)
      .resolves({ jobArn: 'arn:aws:bedrock:us-east-1:1:model-customization-job/m/abc' });
    const jobArn = await new BedrockGateway(new BedrockClient({})).createJob({
      jobName: 'j',
      customModelName: 'm',
      clientRequestToken: 't',
      roleArn: 'arn:aws:iam::1:role/r',
      baseModelId: 'amazon.titan-text-express-v1',
      customizationType: 'FINE_TUNING',
      hyperParameters: { epochCount: '2' },
      trainingS3Uri: 's3://b/train.jsonl',
      validationS3Uri: 's3://b/val.jsonl',
      outputS3Uri: 's3://o/out/',
      customModelKmsKeyId: 'arn:aws:kms:us-east-1:1:key/k',
      tags: { 'tunevault:source': 's3://b/train.jsonl' },
    });
    expect(jobArn).toMatch(/model-customization-job/);
    expect(bedrockMock).toHaveReceivedCommandWith(CreateModelCustomizationJobCommand, {
      customModelKmsKeyId: 'arn:aws:kms:us-east-1:1:key/k',
      clientRequestToken: 't',
      validationDataConfig: { validators: [{ s3Uri: 's3://b/val.jsonl' }] },
      jobTags: [{ key: 'tunevault:source', value: 's3://b/train.jsonl' }],
      customModelTags: [{ key: 'tunevault:source', value: 's3://b/train.jsonl' }],
    });
  });

  it('reads a missing job as undefined', async () => {
    bedrockMock.on(GetModelCustomizationJobCommand).rejects(awsError('ResourceNotFoundException'));
    await expect(new BedrockGateway(new BedrockClient({})).getJob('nope')).resolves.toBeUndefined();
  });
});
