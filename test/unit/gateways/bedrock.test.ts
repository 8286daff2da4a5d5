/** BedrockGateway: what the gateway sends and how it reads AWS's answers (aws-sdk-client-mock); which errors mean "absent" or "already done", and that every other error keeps its AWS name. One file per gateway, so a mutant in one loads only its own SDK client. */
import {
  BedrockClient,
  CreateCustomModelDeploymentCommand,
  CreateModelCustomizationJobCommand,
  CreateProvisionedModelThroughputCommand,
  DeleteCustomModelCommand,
  DeleteCustomModelDeploymentCommand,
  DeleteProvisionedModelThroughputCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  ListCustomModelDeploymentsCommand,
  ListProvisionedModelThroughputsCommand,
  ListTagsForResourceCommand,
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

  it('sends a distillation teacher and the stage VPC as Bedrock takes them', async () => {
    bedrock.on(CreateModelCustomizationJobCommand).resolves({ jobArn: JOB_ARN });
    const customizationConfig = {
      distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0' } },
    };
    const vpcConfig = { subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'] };
    await gw().createJob({ ...request, customizationType: 'DISTILLATION', customizationConfig, vpcConfig });
    expect(bedrock).toHaveReceivedCommandWith(CreateModelCustomizationJobCommand, {
      customizationType: 'DISTILLATION',
      customizationConfig,
      vpcConfig,
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
        customizationType: 'FINE_TUNING',
        trainingDataConfig: { s3Uri: 's3://t/runs/x/training.jsonl' },
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
      customizationType: 'FINE_TUNING',
      trainingS3Uri: 's3://t/runs/x/training.jsonl',
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

  it("reads the job's phases (validation, data processing, training), leaving out those Bedrock did not report", async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({
      jobArn: JOB_ARN,
      jobName: 'j',
      status: 'Failed',
      statusDetails: {
        validationDetails: { status: 'Completed' },
        dataProcessingDetails: { status: 'Completed' },
        trainingDetails: { status: 'Failed' },
      },
    } as never);
    await expect(gw().getJob('j')).resolves.toMatchObject({
      statusDetails: { validation: 'Completed', dataProcessing: 'Completed', training: 'Failed' },
    });
    bedrock.on(GetModelCustomizationJobCommand).resolves({
      jobArn: JOB_ARN,
      statusDetails: { validationDetails: { status: 'InProgress' }, trainingDetails: {} },
    } as never);
    expect((await gw().getJob('j'))?.statusDetails).toEqual({ validation: 'InProgress' });
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

  it('reads the tags of a resource as a record', async () => {
    bedrock
      .on(ListTagsForResourceCommand)
      .resolvesOnce({
        tags: [
          { key: 'tunevault:expires-at', value: '2026-12-06T12:00:00.000Z' },
          { key: 'flag' },
          { value: 'orphan' },
        ],
      } as never)
      .resolvesOnce({} as never);
    await expect(gw().listTags('arn:pt')).resolves.toEqual({
      'tunevault:expires-at': '2026-12-06T12:00:00.000Z',
      flag: '',
      '': 'orphan',
    });
    await expect(gw().listTags('arn:pt')).resolves.toEqual({});
    expect(bedrock).toHaveReceivedCommandWith(ListTagsForResourceCommand, { resourceARN: 'arn:pt' });
  });
});

describe('BedrockGateway: deployments', () => {
  const gw = () => new BedrockGateway(new BedrockClient({}));
  const DEPLOYMENT_ARN = 'arn:aws:bedrock:us-east-1:1:custom-model-deployment/d1';
  const PROVISIONED_ARN = 'arn:aws:bedrock:us-east-1:1:provisioned-model/p1';
  const deploy = { name: 'tv-deploy', modelArn: MODEL_ARN, clientRequestToken: 'tok', tags: { a: '1' } };

  it('creates an on-demand deployment named, tokened and tagged as asked; its ARN', async () => {
    bedrock
      .on(CreateCustomModelDeploymentCommand)
      .resolvesOnce({ customModelDeploymentArn: DEPLOYMENT_ARN })
      .resolvesOnce({});
    await expect(gw().createDeployment(deploy)).resolves.toBe(DEPLOYMENT_ARN);
    expect(bedrock.commandCalls(CreateCustomModelDeploymentCommand)[0]?.args[0].input).toEqual({
      modelDeploymentName: 'tv-deploy',
      modelArn: MODEL_ARN,
      clientRequestToken: 'tok',
      tags: [{ key: 'a', value: '1' }],
    });
    await expect(gw().createDeployment(deploy)).rejects.toThrow(
      'CreateCustomModelDeployment returned no ARN',
    );
  });

  it('provisions throughput for the model with its units, token and tags; its ARN', async () => {
    bedrock
      .on(CreateProvisionedModelThroughputCommand)
      .resolvesOnce({ provisionedModelArn: PROVISIONED_ARN })
      .resolvesOnce({} as never);
    await expect(gw().createProvisioned({ ...deploy, modelUnits: 2 })).resolves.toBe(PROVISIONED_ARN);
    expect(bedrock.commandCalls(CreateProvisionedModelThroughputCommand)[0]?.args[0].input).toEqual({
      provisionedModelName: 'tv-deploy',
      modelId: MODEL_ARN,
      modelUnits: 2,
      clientRequestToken: 'tok',
      tags: [{ key: 'a', value: '1' }],
    });
    await expect(gw().createProvisioned({ ...deploy, modelUnits: 1 })).rejects.toThrow(
      'CreateProvisionedModelThroughput returned no ARN',
    );
  });

  it("lists a model's deployments across pages", async () => {
    bedrock
      .on(ListCustomModelDeploymentsCommand)
      .resolvesOnce({
        modelDeploymentSummaries: [
          { customModelDeploymentArn: DEPLOYMENT_ARN, customModelDeploymentName: 'd1', status: 'Active' },
        ],
        nextToken: 'page-2',
      } as never)
      .resolvesOnce({ modelDeploymentSummaries: [{}] } as never);
    await expect(gw().listDeployments(MODEL_ARN)).resolves.toEqual([
      { arn: DEPLOYMENT_ARN, name: 'd1', status: 'Active' },
      { arn: '', name: '', status: '' },
    ]);
    expect(bedrock.commandCalls(ListCustomModelDeploymentsCommand).map((c) => c.args[0].input)).toEqual([
      { modelArnEquals: MODEL_ARN },
      { modelArnEquals: MODEL_ARN, nextToken: 'page-2' },
    ]);
  });

  it("lists Provisioned Throughput across pages, a model's or all of them", async () => {
    bedrock
      .on(ListProvisionedModelThroughputsCommand)
      .resolvesOnce({
        provisionedModelSummaries: [
          { provisionedModelArn: PROVISIONED_ARN, provisionedModelName: 'p1', status: 'InService' },
        ],
        nextToken: 'page-2',
      } as never)
      .resolvesOnce({} as never)
      .resolvesOnce({ provisionedModelSummaries: [{}] } as never);
    await expect(gw().listProvisioned(MODEL_ARN)).resolves.toEqual([
      { arn: PROVISIONED_ARN, name: 'p1', status: 'InService' },
    ]);
    await expect(gw().listProvisioned()).resolves.toEqual([{ arn: '', name: '', status: '' }]);
    expect(bedrock.commandCalls(ListProvisionedModelThroughputsCommand).map((c) => c.args[0].input)).toEqual([
      { modelArnEquals: MODEL_ARN },
      { modelArnEquals: MODEL_ARN, nextToken: 'page-2' },
      {},
    ]);
  });

  it.each([
    [
      'deleteDeployment',
      DeleteCustomModelDeploymentCommand,
      { customModelDeploymentIdentifier: DEPLOYMENT_ARN },
    ],
    ['deleteProvisioned', DeleteProvisionedModelThroughputCommand, { provisionedModelId: DEPLOYMENT_ARN }],
  ] as const)(
    '%s: true when deleted, false when already gone, other errors bubble',
    async (method, command, input) => {
      bedrock
        .on(command as never)
        .resolvesOnce({})
        .rejectsOnce(awsError('ResourceNotFoundException'))
        .rejectsOnce(awsError('ConflictException'));
      const g = gw();
      await expect(g[method](DEPLOYMENT_ARN)).resolves.toBe(true);
      await expect(g[method](DEPLOYMENT_ARN)).resolves.toBe(false);
      await expect(g[method](DEPLOYMENT_ARN)).rejects.toMatchObject({ name: 'ConflictException' });
      expect(bedrock).toHaveReceivedCommandWith(command as never, input as never);
    },
  );
});
