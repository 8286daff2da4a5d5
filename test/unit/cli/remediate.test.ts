/**
 * `tunevault remediate` deletes and quarantines, so it reads the model's provenance through the
 * workflow's gateways and takes only "there is none" for an answer: any other error (an
 * AccessDenied on the tags or the run) stops it before anything is deleted, saying what it read.
 */
import {
  BedrockClient,
  DeleteCustomModelCommand,
  GetCustomModelCommand,
  ListCustomModelDeploymentsCommand,
  ListProvisionedModelThroughputsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-bedrock';
import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { type Gateways, remediateModel } from '../../../cli/commands/remediate';
import { BedrockGateway } from '../../../functions/shared/aws/bedrock';
import { S3Gateway } from '../../../functions/shared/aws/s3';
import { SfnGateway } from '../../../functions/shared/aws/sfn';

const MODEL = 'arn:aws:bedrock:us-east-1:111122223333:custom-model/amazon.nova-micro-v1:0:128k/abcd1234efgh';
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:tunevault-dev-customization:tv-abc';
const TAGS = [
  { key: 'tunevault:execution-arn', value: EXECUTION },
  { key: 'tunevault:source', value: 's3://training/training/tagged.jsonl' },
  { key: 'tunevault:source-version', value: 'v:tag-version' },
];

const bedrock = mockClient(BedrockClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: {} });

beforeEach(() => {
  bedrock.reset();
  s3.reset();
  sfn.reset();
  bedrock.on(GetCustomModelCommand).resolves({
    modelArn: MODEL,
    modelName: 'chat-model',
    baseModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k',
    trainingDataConfig: { s3Uri: 's3://output/runs/tv-abc/redacted.jsonl' },
  });
  bedrock.on(ListTagsForResourceCommand).resolves({ tags: TAGS });
  bedrock.on(ListCustomModelDeploymentsCommand).resolves({ modelDeploymentSummaries: [] });
  bedrock.on(ListProvisionedModelThroughputsCommand).resolves({ provisionedModelSummaries: [] });
  bedrock.on(DeleteCustomModelCommand).resolves({});
  sfn.on(DescribeExecutionCommand).resolves({
    input: JSON.stringify({
      source: { bucket: 'training', key: 'training/run.jsonl', versionId: 'run-version' },
    }),
  });
  s3.on(HeadObjectCommand).resolves({ ContentLength: 1 });
  s3.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
  s3.on(PutObjectTaggingCommand).resolves({});
});

const gateways = (): Gateways => ({
  bedrock: new BedrockGateway(new BedrockClient({})),
  s3: new S3Gateway(new S3Client({})),
  sfn: new SfnGateway(new SFNClient({})),
});
const remediate = () =>
  remediateModel(gateways(), { model: MODEL, reason: 'trained on PII', retrain: false });

describe('tunevault remediate: finding the dataset', () => {
  it('takes the run’s input, deletes the model and quarantines that object version', async () => {
    const report = await remediate();
    expect(report).toMatchObject({
      model: { arn: MODEL, name: 'chat-model', deleted: true, baseModelId: 'amazon.nova-micro-v1:0:128k' },
      dataset: {
        bucket: 'training',
        key: 'training/run.jsonl',
        versionId: 'run-version',
        foundBy: 'run-input',
      },
      trainedOn: 's3://output/runs/tv-abc/redacted.jsonl',
    });
    expect(bedrock).toHaveReceivedCommandWith(DeleteCustomModelCommand, { modelIdentifier: MODEL });
    expect(s3).toHaveReceivedCommandWith(PutObjectTaggingCommand, {
      Bucket: 'training',
      Key: 'training/run.jsonl',
      VersionId: 'run-version',
    });
  });

  it('falls back to the model’s source tag when AWS no longer keeps the run', async () => {
    sfn.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));
    const report = await remediate();
    expect(report.dataset).toMatchObject({
      key: 'training/tagged.jsonl',
      versionId: 'tag-version',
      foundBy: 'model-tag',
    });
  });

  const DENIED = 'User: arn:aws:iam::111122223333:user/ops is not authorized to perform this action';
  it.each([
    [
      'the tags',
      () => bedrock.on(ListTagsForResourceCommand).rejects(awsError('AccessDeniedException', DENIED)),
      `the tags of ${MODEL}`,
    ],
    [
      'the run',
      () => sfn.on(DescribeExecutionCommand).rejects(awsError('AccessDeniedException', DENIED)),
      `execution ${EXECUTION}`,
    ],
  ])('stops, deleting nothing, when reading %s is denied', async (_what, deny, read) => {
    deny();
    await expect(remediate()).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: `reading ${read} (nothing was deleted): ${DENIED}`,
    });
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectTaggingCommand);
  });

  it('stops when S3 will not say whether the tagged object exists', async () => {
    sfn.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));
    s3.on(HeadObjectCommand).rejects(awsError('Forbidden', 'Forbidden'));
    await expect(remediate()).rejects.toMatchObject({
      name: 'Forbidden',
      message: 'reading s3://training/training/tagged.jsonl (nothing was deleted): Forbidden',
    });
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelCommand);
  });

  it('reports a dataset deleted since as not tagged, and names any other tagging error', async () => {
    s3.on(GetObjectTaggingCommand).rejectsOnce(awsError('NoSuchVersion'));
    const gone = await remediate();
    expect(gone.dataset).toMatchObject({
      quarantined: false,
      note: 'the dataset object no longer exists; there was nothing to tag',
    });

    s3.on(GetObjectTaggingCommand).rejects(awsError('AccessDenied', 'Access Denied'));
    await expect(remediate()).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `quarantining s3://training/training/run.jsonl (the model ${MODEL} was deleted): Access Denied`,
    });
  });
});
