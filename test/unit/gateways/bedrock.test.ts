/** BedrockGateway: what the gateway sends and how it reads AWS's answers (aws-sdk-client-mock); which errors mean "absent" or "already done", and that every other error keeps its AWS name. One file per gateway, so a mutant in one loads only its own SDK client. */
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  DeleteCustomModelCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  StopModelCustomizationJobCommand,
  TagResourceCommand as BedrockTagResourceCommand,
} from '@aws-sdk/client-bedrock';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { BedrockGateway, type JobRequest } from '../../../functions/shared/aws/bedrock';

const awsError = (name: string, message = `${name} message`) =>
  Object.assign(new Error(message), { name, $metadata: {} });
const bedrock = mockClient(BedrockClient);
beforeEach(() => bedrock.reset());

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

  it("sends the guard's validation copy as the one validator", async () => {
    bedrock.on(CreateModelCustomizationJobCommand).resolves({ jobArn: JOB_ARN });
    await gw().createJob({ ...request, validationS3Uri: 's3://o/runs/r/validation.jsonl' });
    expect(bedrock).toHaveReceivedCommandWith(CreateModelCustomizationJobCommand, {
      trainingDataConfig: { s3Uri: 's3://b/train.jsonl' },
      validationDataConfig: { validators: [{ s3Uri: 's3://o/runs/r/validation.jsonl' }] },
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

  it('reads a missing job (ResourceNotFoundException) as undefined', async () => {
    bedrock.on(GetModelCustomizationJobCommand).rejects(awsError('ResourceNotFoundException'));
    await expect(gw().getJob('nope')).resolves.toBeUndefined();
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
