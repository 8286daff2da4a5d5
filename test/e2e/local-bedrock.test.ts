/** The embedded Bedrock control plane through the real SDK client, backed by the real embedded KMS. */
import {
  BedrockClient,
  CreateCustomModelDeploymentCommand,
  CreateModelCustomizationJobCommand,
  CreateProvisionedModelThroughputCommand,
  DeleteCustomModelDeploymentCommand,
  DeleteProvisionedModelThroughputCommand,
  GetCustomModelDeploymentCommand,
  GetProvisionedModelThroughputCommand,
  ListCustomModelDeploymentsCommand,
  ListProvisionedModelThroughputsCommand,
  type CreateModelCustomizationJobCommandInput,
  DeleteCustomModelCommand,
  GetCustomModelCommand,
  GetFoundationModelCommand,
  GetModelCustomizationJobCommand,
  type GetModelCustomizationJobCommandOutput,
  ListCustomModelsCommand,
  ListFoundationModelsCommand,
  ListModelCustomizationJobsCommand,
  ListTagsForResourceCommand,
  StopModelCustomizationJobCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-bedrock';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import type { LocalEndpoint } from '../../local/core/server';
import { localClientConfig, startTestEndpoint } from '../../local/core/test-endpoint';
import {
  AwsError,
  type BusEntry,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type ObjectStore,
} from '../../local/core/types';
import { BedrockService } from '../../local/services/bedrock';
import { KmsService } from '../../local/services/kms';

/** Just enough S3 for Bedrock: buckets must exist, objects are plain buffers. */
class MemoryStore implements ObjectStore {
  readonly buckets = new Map<string, Map<string, Buffer>>();

  bucket(name: string): Map<string, Buffer> {
    let b = this.buckets.get(name);
    if (!b) {
      b = new Map();
      this.buckets.set(name, b);
    }
    return b;
  }

  async putObject(bucket: string, key: string, body: Buffer) {
    const b = this.buckets.get(bucket);
    if (!b) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    b.set(key, body);
    return { etag: `"${key.length}"` };
  }

  async getObject(bucket: string, key: string) {
    const b = this.buckets.get(bucket);
    if (!b) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    const body = b.get(key);
    if (!body) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404);
    return body;
  }

  async headObject(bucket: string, key: string) {
    const body = this.buckets.get(bucket)?.get(key);
    return body ? { size: body.length, etag: `"${key.length}"` } : undefined;
  }
}

const ROLE = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/TuneVaultBedrockRole`;
const BASE = 'amazon.nova-micro-v1:0:128k';
const TRAINING = Array.from({ length: 8 }, (_, i) =>
  JSON.stringify({
    schemaVersion: 'bedrock-conversation-2024',
    messages: [
      { role: 'user', content: [{ text: `q${i}` }] },
      { role: 'assistant', content: [{ text: `a${i}` }] },
    ],
  }),
).join('\n');
const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

let endpoint: LocalEndpoint;
let store: MemoryStore;
let kms: KmsService;
let bedrock: BedrockService;
let client: BedrockClient;
let events: BusEntry[];
let seq = 0;
/** What the RFT grader Lambda does when Bedrock invokes it (per test). */
let grader: (arn: string, payload: unknown) => Promise<unknown> = async () => {
  throw Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' });
};

// Other suites may load the machine; the jobs themselves take 50 ms.
jest.setTimeout(20_000);

beforeAll(async () => {
  store = new MemoryStore();
  store.bucket('training').set('data/train.jsonl', Buffer.from(TRAINING));
  store.bucket('training').set('data/valid.jsonl', Buffer.from(TRAINING.split('\n').slice(0, 3).join('\n')));
  store.bucket('output');
  store.bucket('training').set(
    'data/rft.jsonl',
    Buffer.from(
      [
        { id: 'p1', messages: [{ role: 'user', content: '2+2?' }], reference_answer: '4', unit: 'none' },
        { id: 'p2', messages: [{ role: 'user', content: '3+3?' }], reference_answer: '6' },
        { id: 'p3', messages: [{ role: 'user', content: '1+1?' }], reference_answer: '2' },
        { id: 'p4', messages: [{ role: 'user', content: '5+5?' }], reference_answer: '10' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    ),
  );
  kms = new KmsService({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
  bedrock = new BedrockService({
    accountId: LOCAL_ACCOUNT_ID,
    region: LOCAL_REGION,
    s3: store,
    kms,
    putEvents: async (entries) => {
      events.push(...entries);
    },
    jobDurationMs: 50,
    invokeLambda: (arn, payload) => grader(arn, payload),
  });
  endpoint = await startTestEndpoint([kms, bedrock]);
  client = new BedrockClient({ ...localClientConfig(endpoint.url), maxAttempts: 1 });
});

beforeEach(() => {
  events = [];
});

afterAll(async () => {
  bedrock.close();
  client.destroy();
  await endpoint.close();
});

function jobInput(
  overrides: Partial<CreateModelCustomizationJobCommandInput> = {},
): CreateModelCustomizationJobCommandInput {
  seq += 1;
  return {
    jobName: `tunevault-job-${seq}`,
    customModelName: `tunevault-model-${seq}`,
    roleArn: ROLE,
    baseModelIdentifier: BASE,
    trainingDataConfig: { s3Uri: 's3://training/data/train.jsonl' },
    outputDataConfig: { s3Uri: 's3://output/runs/' },
    hyperParameters: { epochCount: '2', learningRate: '0.00001' },
    ...overrides,
  };
}

/** KMS setup through the SDK client, signed like every request the endpoint serves. */
async function createKey(): Promise<{ keyId: string; keyArn: string }> {
  const kmsClient = new KMSClient(localClientConfig(endpoint.url));
  const md = (await kmsClient.send(new CreateKeyCommand({}))).KeyMetadata;
  return { keyId: md?.KeyId ?? '', keyArn: md?.Arn ?? '' };
}

async function kmsCall(
  op: 'CreateAlias' | 'DisableKey' | 'ScheduleKeyDeletion',
  body: { KeyId?: string; AliasName?: string; TargetKeyId?: string; PendingWindowInDays?: number },
): Promise<void> {
  const kmsClient = new KMSClient(localClientConfig(endpoint.url));
  const keyId = body.KeyId ?? '';
  if (op === 'CreateAlias')
    await kmsClient.send(
      new CreateAliasCommand({ AliasName: body.AliasName ?? '', TargetKeyId: body.TargetKeyId ?? '' }),
    );
  else if (op === 'DisableKey') await kmsClient.send(new DisableKeyCommand({ KeyId: keyId }));
  else
    await kmsClient.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: body.PendingWindowInDays }),
    );
}

async function waitForTerminal(
  jobIdentifier: string,
  timeoutMs = 5000,
): Promise<GetModelCustomizationJobCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await client.send(new GetModelCustomizationJobCommand({ jobIdentifier }));
    if (TERMINAL.has(job.status ?? '')) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobIdentifier} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
    return { name: 'no error', message: '' };
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
}

function eventDetails(jobArn: string): Array<Record<string, unknown>> {
  return events
    .filter((e) => e.Resources?.includes(jobArn))
    .map((e) => {
      expect(e.Source).toBe('aws.bedrock');
      expect(e.DetailType).toBe('Model Customization Job State Change');
      return JSON.parse(e.Detail) as Record<string, unknown>;
    });
}

describe('foundation models', () => {
  it('lists the models the catalog says can be fine-tuned in us-east-1 (custom-model-fine-tuning)', async () => {
    const list = await client.send(new ListFoundationModelsCommand({ byCustomizationType: 'FINE_TUNING' }));
    const ids = (list.modelSummaries?.map((m) => m.modelId) ?? []).sort();
    expect(ids).toEqual(
      [
        'amazon.nova-2-lite-v1:0:256k',
        'amazon.nova-canvas-v1:0',
        'amazon.nova-lite-v1:0:300k',
        'amazon.nova-micro-v1:0:128k',
        'amazon.nova-pro-v1:0:300k',
        'amazon.titan-embed-image-v1:0',
        'amazon.titan-image-generator-v2:0',
      ].sort(),
    );
    // Claude 3 Haiku and Llama are fine-tuned in us-west-2 only; Titan Text Express only takes CPT.
    const cpt = await client.send(
      new ListFoundationModelsCommand({ byCustomizationType: 'CONTINUED_PRE_TRAINING' }),
    );
    expect(cpt.modelSummaries?.map((m) => m.modelId)).toEqual(['amazon.titan-text-express-v1:0:8k']);
    const distillation = await client.send(
      new ListFoundationModelsCommand({ byCustomizationType: 'DISTILLATION' }),
    );
    expect(distillation.modelSummaries?.map((m) => m.modelId).sort()).toEqual([
      'amazon.nova-lite-v1:0:300k',
      'amazon.nova-micro-v1:0:128k',
      'amazon.nova-pro-v1:0:300k',
    ]);
    // botocore ModelCustomization has no REINFORCEMENT_FINE_TUNING: the filter refuses it.
    expect(
      (
        await errorOf(
          client.send(
            new ListFoundationModelsCommand({
              byCustomizationType: 'REINFORCEMENT_FINE_TUNING' as 'FINE_TUNING',
            }),
          ),
        )
      ).name,
    ).toBe('ValidationException');
  });

  it('gets a model by its customization id and its on-demand id', async () => {
    const got = await client.send(
      new GetFoundationModelCommand({ modelIdentifier: 'amazon.nova-micro-v1:0:128k' }),
    );
    expect(got.modelDetails).toMatchObject({
      modelArn: `arn:aws:bedrock:${LOCAL_REGION}::foundation-model/amazon.nova-micro-v1:0:128k`,
      customizationsSupported: ['FINE_TUNING', 'DISTILLATION'],
      inferenceTypesSupported: ['PROVISIONED'],
    });
    const onDemand = await client.send(
      new GetFoundationModelCommand({ modelIdentifier: 'amazon.nova-micro-v1:0' }),
    );
    expect(onDemand.modelDetails).toMatchObject({
      customizationsSupported: [],
      inferenceTypesSupported: ['ON_DEMAND'],
    });
    expect(
      (await errorOf(client.send(new GetFoundationModelCommand({ modelIdentifier: 'nope.model-v9' })))).name,
    ).toBe('ValidationException');
  });
});

describe('job lifecycle', () => {
  it('runs InProgress → Completed with a CMK-encrypted, tagged model, metrics CSVs and events', async () => {
    const { keyArn, keyId } = await createKey();
    await kmsCall('CreateAlias', { AliasName: 'alias/tunevault-bedrock', TargetKeyId: keyId });
    const input = jobInput({
      customModelKmsKeyId: 'alias/tunevault-bedrock',
      validationDataConfig: { validators: [{ s3Uri: 's3://training/data/valid.jsonl' }] },
      hyperParameters: {
        epochCount: '3',
        learningRate: '0.00001',
        learningRateWarmupSteps: '0',
      },
      jobTags: [{ key: 'run', value: 'r-1' }],
      customModelTags: [{ key: 'source', value: 's3://training/data/train.jsonl' }],
    });
    // A long job makes the InProgress view deterministic; completeNow then runs the same phases the
    // timers would (the timer path is covered by the other tests, which wait for the 50 ms jobs).
    bedrock.setJobDuration(60_000);
    const created = await client.send(new CreateModelCustomizationJobCommand(input)).finally(() => {
      bedrock.setJobDuration(50);
    });
    expect(created.$metadata.httpStatusCode).toBe(201);
    const jobArn = created.jobArn as string;
    expect(jobArn).toMatch(
      new RegExp(
        `^arn:aws:bedrock:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:model-customization-job/${BASE}/[a-z0-9]{12}$`,
      ),
    );
    const jobId = jobArn.split('/').pop() as string;

    const running = await client.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    expect(running.status).toBe('InProgress');
    expect(running.statusDetails?.validationDetails?.status).toBe('InProgress');
    expect(running.statusDetails?.trainingDetails?.status).toBe('NotStarted');
    expect(running.outputModelName).toBe(input.customModelName);
    expect(running.outputModelArn).toBeUndefined();
    expect(running.creationTime).toBeInstanceOf(Date);

    await bedrock.completeNow(input.jobName as string);
    const done = await waitForTerminal(input.jobName as string);
    expect(done.status).toBe('Completed');
    expect(done.failureMessage).toBeUndefined();
    expect(done.statusDetails?.trainingDetails?.status).toBe('Completed');
    expect(done.outputModelKmsKeyArn).toBe(keyArn);
    expect(done.outputModelArn).toMatch(
      new RegExp(`^arn:aws:bedrock:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:custom-model/${BASE}/[a-z0-9]{12}$`),
    );
    expect(done.endTime).toBeInstanceOf(Date);
    expect(done.trainingMetrics?.trainingLoss).toBeGreaterThan(0);
    expect(done.validationMetrics?.[0]?.validationLoss).toBeGreaterThan(0);
    expect(done.hyperParameters?.['epochCount']).toBe('3');
    expect(done.validationDataConfig?.validators?.[0]?.s3Uri).toBe('s3://training/data/valid.jsonl');

    const model = await client.send(new GetCustomModelCommand({ modelIdentifier: done.outputModelArn }));
    expect(model).toMatchObject({
      modelName: input.customModelName,
      modelArn: done.outputModelArn,
      jobArn,
      jobName: input.jobName,
      baseModelArn: `arn:aws:bedrock:${LOCAL_REGION}::foundation-model/${BASE}`,
      customizationType: 'FINE_TUNING',
      modelKmsKeyArn: keyArn,
      modelStatus: 'Active',
      trainingMetrics: { trainingLoss: done.trainingMetrics?.trainingLoss },
    });
    expect(
      (await client.send(new GetCustomModelCommand({ modelIdentifier: input.customModelName }))).modelArn,
    ).toBe(done.outputModelArn);
    const modelTags = await client.send(new ListTagsForResourceCommand({ resourceARN: done.outputModelArn }));
    expect(modelTags.tags).toEqual([{ key: 'source', value: 's3://training/data/train.jsonl' }]);
    const jobTags = await client.send(new ListTagsForResourceCommand({ resourceARN: jobArn }));
    expect(jobTags.tags).toEqual([{ key: 'run', value: 'r-1' }]);

    // 8 records, batch 2 → 4 steps per epoch, 3 epochs.
    const out = store.bucket('output');
    const training = out.get(
      `runs/model-customization-job-${jobId}/training_artifacts/step_wise_training_metrics.csv`,
    );
    expect(training).toBeDefined();
    const rows = (training as Buffer).toString().trim().split('\n');
    expect(rows[0]).toBe('step_number,epoch_number,training_loss,perplexity');
    // 3 epochs of 8 records (Nova takes no batchSize: one record a step).
    expect(rows).toHaveLength(1 + 24);
    expect(rows[1]?.startsWith('0,0,')).toBe(true);
    expect(rows[24]?.startsWith('23,2,')).toBe(true);
    const losses = rows.slice(1).map((r) => Number(r.split(',')[2]));
    expect(losses[0] as number).toBeGreaterThan(losses[losses.length - 1] as number);
    expect(losses[losses.length - 1]).toBe(done.trainingMetrics?.trainingLoss);
    const validation = out.get(
      `runs/model-customization-job-${jobId}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`,
    );
    const vrows = (validation as Buffer).toString().trim().split('\n');
    expect(vrows[0]).toBe('step_number,epoch_number,validation_loss,validation_perplexity');
    expect(vrows).toHaveLength(1 + 3);

    const details = eventDetails(jobArn);
    expect(details.map((d) => d['jobStatus'])).toEqual(['InProgress', 'Completed']);
    const final = details[1] as Record<string, unknown>;
    expect(final).toEqual({
      version: '0.0',
      jobName: input.jobName,
      jobArn,
      outputModelName: input.customModelName,
      outputModelArn: done.outputModelArn,
      roleArn: ROLE,
      jobStatus: 'Completed',
      creationTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      lastModifiedTime: expect.stringMatching(/Z$/),
      endTime: expect.stringMatching(/Z$/),
      baseModelArn: `arn:aws:bedrock:${LOCAL_REGION}::foundation-model/${BASE}`,
      hyperParameters: input.hyperParameters,
      trainingDataConfig: { s3Uri: 's3://training/data/train.jsonl' },
      validationDataConfig: { s3Uri: 's3://training/data/valid.jsonl' },
      outputDataConfig: { s3Uri: 's3://output/runs/' },
    });
    expect(details[0]?.['endTime']).toBeUndefined();
  });

  it('derives the same loss curve from the same training bytes', async () => {
    const a = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
    const b = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
    const [ja, jb] = await Promise.all([
      waitForTerminal(a.jobArn as string),
      waitForTerminal(b.jobArn as string),
    ]);
    expect(ja.status).toBe('Completed');
    expect(ja.trainingMetrics?.trainingLoss).toBe(jb.trainingMetrics?.trainingLoss);
    const csv = (arn: string) =>
      store
        .bucket('output')
        .get(
          `runs/model-customization-job-${arn.split('/').pop()}/training_artifacts/step_wise_training_metrics.csv`,
        )
        ?.toString();
    expect(csv(a.jobArn as string)).toBe(csv(b.jobArn as string));
    expect(ja.outputModelKmsKeyArn).toBeUndefined();
    const model = await client.send(new GetCustomModelCommand({ modelIdentifier: ja.outputModelArn }));
    expect(model.modelKmsKeyArn).toBeUndefined();
  });

  it('completeNow finishes a job at once', async () => {
    bedrock.setJobDuration(60_000);
    try {
      const input = jobInput();
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
      await bedrock.completeNow(jobArn as string);
      const job = await client.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      expect(job.status).toBe('Completed');
    } finally {
      bedrock.setJobDuration(50);
    }
  });

  it('stops a running job: Stopping then Stopped', async () => {
    bedrock.setJobDuration(60_000);
    try {
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      await client.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      const stopping = await client.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      expect(stopping.status).toBe('Stopping');
      await bedrock.completeNow(jobArn as string);
      const stopped = await client.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      expect(stopped.status).toBe('Stopped');
      expect(stopped.statusDetails?.validationDetails?.status).toBe('Stopped');
      expect(stopped.outputModelArn).toBeUndefined();
      expect(eventDetails(jobArn as string).map((d) => d['jobStatus'])).toEqual(['InProgress', 'Stopped']);
      const again = await errorOf(
        client.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn })),
      );
      expect(again.name).toBe('ValidationException');
    } finally {
      bedrock.setJobDuration(50);
    }
  });

  it('lists jobs with filters', async () => {
    const input = jobInput({ jobName: 'listing-probe-job' });
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
    await waitForTerminal(jobArn as string);
    const found = await client.send(new ListModelCustomizationJobsCommand({ nameContains: 'listing-probe' }));
    expect(found.modelCustomizationJobSummaries).toHaveLength(1);
    expect(found.modelCustomizationJobSummaries?.[0]).toMatchObject({
      jobArn,
      jobName: 'listing-probe-job',
      status: 'Completed',
      customModelName: input.customModelName,
    });
    const failed = await client.send(
      new ListModelCustomizationJobsCommand({ statusEquals: 'Failed', nameContains: 'listing-probe' }),
    );
    expect(failed.modelCustomizationJobSummaries).toEqual([]);
    const models = await client.send(new ListCustomModelsCommand({ nameContains: input.customModelName }));
    expect(models.modelSummaries?.[0]).toMatchObject({
      modelName: input.customModelName,
      baseModelName: 'Nova Micro',
    });
  });
});

describe('create semantics', () => {
  it('is idempotent on clientRequestToken', async () => {
    const input = jobInput({ clientRequestToken: 'exec-0123456789abcdef' });
    const first = await client.send(new CreateModelCustomizationJobCommand(input));
    const second = await client.send(new CreateModelCustomizationJobCommand(input));
    expect(second.$metadata.httpStatusCode).toBe(201);
    expect(second.jobArn).toBe(first.jobArn);
    const list = await client.send(new ListModelCustomizationJobsCommand({ nameContains: input.jobName }));
    expect(list.modelCustomizationJobSummaries).toHaveLength(1);
    const job = await client.send(new GetModelCustomizationJobCommand({ jobIdentifier: first.jobArn }));
    expect(job.clientRequestToken).toBe('exec-0123456789abcdef');
    await waitForTerminal(first.jobArn as string);
  });

  it('refuses a job name in use with the documented message', async () => {
    const input = jobInput();
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
    const err = await errorOf(
      client.send(
        new CreateModelCustomizationJobCommand({ ...input, customModelName: `${input.customModelName}-b` }),
      ),
    );
    expect(err).toMatchObject({
      name: 'ValidationException',
      message: 'The provided job name is currently in use.',
      status: 400,
    });
    await waitForTerminal(jobArn as string);
  });

  it('refuses a custom model name already taken', async () => {
    const input = jobInput();
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
    await waitForTerminal(jobArn as string);
    const err = await errorOf(
      client.send(new CreateModelCustomizationJobCommand({ ...input, jobName: `${input.jobName}-again` })),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain(input.customModelName);
  });

  it.each([
    ['bad job name', { jobName: '-starts-with-dash' }, 'jobName'],
    ['long job name', { jobName: 'a'.repeat(64) }, 'jobName'],
    ['bad model name', { customModelName: 'has space' }, 'customModelName'],
    ['bad token', { clientRequestToken: 'bad_token' }, 'clientRequestToken'],
    ['missing role', { roleArn: undefined }, 'roleArn'],
    ['missing training data', { trainingDataConfig: undefined }, 'trainingDataConfig'],
    ['missing output', { outputDataConfig: undefined }, 'outputDataConfig'],
    ['bad output uri', { outputDataConfig: { s3Uri: 'https://bucket/x' } }, 'outputDataConfig.s3Uri'],
    ['unknown base model', { baseModelIdentifier: 'amazon.titan-unknown-v9' }, 'amazon.titan-unknown-v9'],
    [
      'non-ASCII tag value',
      { customModelTags: [{ key: 'source', value: 'données.jsonl' }] },
      'customModelTags',
    ],
    ['long tag key', { jobTags: [{ key: 'k'.repeat(129), value: 'v' }] }, 'jobTags'],
    ['unknown KMS key', { customModelKmsKeyId: 'alias/does-not-exist' }, 'alias/does-not-exist'],
    ['bad hyperparameter', { hyperParameters: { epochCount: 'two' } }, 'epochCount'],
    [
      'Titan hyperparameter on Nova',
      { hyperParameters: { batchSize: '1' } },
      'epochCount, learningRate, learningRateWarmupSteps',
    ],
    ['out-of-range hyperparameter', { hyperParameters: { epochCount: '6' } }, 'between 1 and 5'],
    [
      'Claude 3 Haiku in us-east-1',
      { baseModelIdentifier: 'anthropic.claude-3-haiku-20240307-v1:0:200k' },
      'us-east-1',
    ],
    ['the on-demand id', { baseModelIdentifier: 'amazon.nova-micro-v1:0' }, 'amazon.nova-micro-v1:0:128k'],
    [
      'distillation without a teacher',
      { customizationType: 'DISTILLATION', hyperParameters: undefined },
      'distillationConfig',
    ],
    [
      'a teacher for fine-tuning',
      {
        customizationConfig: {
          distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0' } },
        },
      },
      'FINE_TUNING',
    ],
    [
      'bad subnet id',
      { vpcConfig: { subnetIds: ['subnet 1'], securityGroupIds: ['sg-1'] } },
      'vpcConfig.subnetIds',
    ],
  ] as Array<[string, Partial<CreateModelCustomizationJobCommandInput>, string]>)(
    'ValidationException: %s',
    async (_label, overrides, mention) => {
      const err = await errorOf(client.send(new CreateModelCustomizationJobCommand(jobInput(overrides))));
      expect(err.name).toBe('ValidationException');
      expect(err.message).toContain(mention);
    },
  );
});

describe('failures', () => {
  it('fails the job when the model key is disabled', async () => {
    const { keyId, keyArn } = await createKey();
    await kmsCall('DisableKey', { KeyId: keyId });
    const input = jobInput({ customModelKmsKeyId: keyArn });
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
    const job = await waitForTerminal(jobArn as string);
    expect(job.status).toBe('Failed');
    expect(job.failureMessage).toContain(keyArn);
    expect(job.failureMessage).toContain('DisabledException');
    expect(job.outputModelArn).toBeUndefined();
    expect(job.statusDetails?.validationDetails?.status).toBe('Failed');
    const details = eventDetails(jobArn as string);
    expect(details.map((d) => d['jobStatus'])).toEqual(['InProgress', 'Failed']);
    expect(details[1]?.['failureMessage']).toBe(job.failureMessage);
    expect(
      (await errorOf(client.send(new GetCustomModelCommand({ modelIdentifier: input.customModelName }))))
        .name,
    ).toBe('ResourceNotFoundException');
  });

  it('fails the job when the key is scheduled for deletion mid-job', async () => {
    bedrock.setJobDuration(60_000);
    try {
      const { keyId, keyArn } = await createKey();
      const { jobArn } = await client.send(
        new CreateModelCustomizationJobCommand(jobInput({ customModelKmsKeyId: keyId })),
      );
      await kmsCall('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 });
      await bedrock.completeNow(jobArn as string);
      const job = await client.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      expect(job.status).toBe('Failed');
      expect(job.failureMessage).toContain(keyArn);
      expect(job.failureMessage).toContain('KMSInvalidStateException');
    } finally {
      bedrock.setJobDuration(50);
    }
  });

  it('fails the job when the training object is missing, naming its URI', async () => {
    const uri = 's3://training/data/missing.jsonl';
    const { jobArn } = await client.send(
      new CreateModelCustomizationJobCommand(jobInput({ trainingDataConfig: { s3Uri: uri } })),
    );
    const job = await waitForTerminal(jobArn as string);
    expect(job.status).toBe('Failed');
    expect(job.failureMessage).toContain(uri);
    expect(job.failureMessage).toContain('NoSuchKey');
  });

  it('setNextOutcome forces the next job to fail, then jobs complete again', async () => {
    bedrock.setNextOutcome({ status: 'Failed', failureMessage: 'Simulated capacity failure.' });
    const a = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
    const b = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
    const ja = await waitForTerminal(a.jobArn as string);
    const jb = await waitForTerminal(b.jobArn as string);
    expect(ja.status).toBe('Failed');
    expect(ja.failureMessage).toBe('Simulated capacity failure.');
    expect(eventDetails(a.jobArn as string)[1]?.['failureMessage']).toBe('Simulated capacity failure.');
    expect(jb.status).toBe('Completed');
  });

  it('answers injected faults by operation name (ThrottlingException is 429)', async () => {
    endpoint.faults.add({
      service: 'bedrock',
      operation: 'CreateModelCustomizationJob',
      count: 1,
      error: 'ThrottlingException',
    });
    const err = await errorOf(client.send(new CreateModelCustomizationJobCommand(jobInput())));
    expect(err).toMatchObject({ name: 'ThrottlingException', status: 429 });
  });
});

describe('custom models and tags', () => {
  it('DeleteCustomModel, then GetCustomModel answers ResourceNotFoundException', async () => {
    const input = jobInput();
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
    const job = await waitForTerminal(jobArn as string);
    await client.send(new DeleteCustomModelCommand({ modelIdentifier: job.outputModelArn }));
    const err = await errorOf(
      client.send(new GetCustomModelCommand({ modelIdentifier: job.outputModelArn })),
    );
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    expect(
      (await errorOf(client.send(new DeleteCustomModelCommand({ modelIdentifier: input.customModelName }))))
        .name,
    ).toBe('ResourceNotFoundException');
  });

  it('tags, lists and untags jobs and models; unknown ARNs are not found', async () => {
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
    const job = await waitForTerminal(jobArn as string);
    const arn = job.outputModelArn as string;
    await client.send(
      new TagResourceCommand({
        resourceARN: arn,
        tags: [
          { key: 'tunevault:run', value: 'r-42' },
          { key: 'owner', value: 'ml-team' },
        ],
      }),
    );
    await client.send(
      new TagResourceCommand({ resourceARN: arn, tags: [{ key: 'owner', value: 'platform' }] }),
    );
    await client.send(new UntagResourceCommand({ resourceARN: arn, tagKeys: ['tunevault:run'] }));
    expect((await client.send(new ListTagsForResourceCommand({ resourceARN: arn }))).tags).toEqual([
      { key: 'owner', value: 'platform' },
    ]);
    await client.send(new TagResourceCommand({ resourceARN: jobArn, tags: [{ key: 'k', value: 'v' }] }));
    expect((await client.send(new ListTagsForResourceCommand({ resourceARN: jobArn }))).tags).toEqual([
      { key: 'k', value: 'v' },
    ]);

    const bad = await errorOf(
      client.send(new TagResourceCommand({ resourceARN: arn, tags: [{ key: 'x', value: 'é' }] })),
    );
    expect(bad.name).toBe('ValidationException');
    const missing = await errorOf(
      client.send(
        new ListTagsForResourceCommand({
          resourceARN: `arn:aws:bedrock:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:custom-model/${BASE}/aaaaaaaaaaaa`,
        }),
      ),
    );
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });
});

describe('customization types', () => {
  const GRADER = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:reward-exact-match`;
  const rftInput = () =>
    jobInput({
      baseModelIdentifier: 'amazon.nova-2-lite-v1:0:256k',
      customizationType: 'REINFORCEMENT_FINE_TUNING',
      hyperParameters: undefined,
      trainingDataConfig: { s3Uri: 's3://training/data/rft.jsonl' },
      customizationConfig: {
        rftConfig: {
          graderConfig: { lambdaGrader: { lambdaArn: GRADER } },
          hyperParameters: { epochCount: 2 },
        },
      },
    });

  it('DISTILLATION: the job carries its teacher, visible through GetModelCustomizationJob', async () => {
    const teacher = { teacherModelIdentifier: 'amazon.nova-pro-v1:0', maxResponseLengthForInference: 1000 };
    const { jobArn } = await client.send(
      new CreateModelCustomizationJobCommand(
        jobInput({
          customizationType: 'DISTILLATION',
          hyperParameters: undefined,
          customizationConfig: { distillationConfig: { teacherModelConfig: teacher } },
        }),
      ),
    );
    const job = await waitForTerminal(jobArn as string);
    expect(job.status).toBe('Completed');
    expect(job.customizationType).toBe('DISTILLATION');
    expect(job.customizationConfig).toEqual({ distillationConfig: { teacherModelConfig: teacher } });
    const model = await client.send(new GetCustomModelCommand({ modelIdentifier: job.outputModelArn }));
    expect(model.customizationType).toBe('DISTILLATION');
  });

  it('DISTILLATION: refuses a teacher the student is not paired with', async () => {
    const err = await errorOf(
      client.send(
        new CreateModelCustomizationJobCommand(
          jobInput({
            baseModelIdentifier: 'amazon.nova-pro-v1:0:300k',
            customizationType: 'DISTILLATION',
            hyperParameters: undefined,
            customizationConfig: {
              distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0' } },
            },
          }),
        ),
      ),
    );
    expect(err).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(err.message).toContain('amazon.nova-premier-v1:0');
  });

  it('REINFORCEMENT_FINE_TUNING: invokes the grader on a few records and records its rewards', async () => {
    const calls: Array<{ arn: string; payload: unknown }> = [];
    grader = async (arn, payload) => {
      calls.push({ arn, payload });
      const items = payload as Array<{
        id: string;
        messages: Array<{ role: string; content: string }>;
        metadata: { reference_answer: string };
      }>;
      return items.map((i) => ({
        id: i.id,
        aggregate_reward_score: i.messages.at(-1)?.content === i.metadata.reference_answer ? 1 : 0,
      }));
    };
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(rftInput()));
    const job = await waitForTerminal(jobArn as string);
    expect(job.status).toBe('Completed');
    expect(job.customizationConfig).toEqual({
      rftConfig: {
        graderConfig: { lambdaGrader: { lambdaArn: GRADER } },
        hyperParameters: { epochCount: 2 },
      },
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.arn).toBe(GRADER);
    // The Bedrock guide's payload: the model's answer appended, the other fields under metadata.
    expect(calls[0]?.payload).toEqual([
      {
        id: 'p1',
        messages: [
          { role: 'user', content: '2+2?' },
          { role: 'assistant', content: '4' },
        ],
        metadata: { reference_answer: '4', unit: 'none' },
      },
      {
        id: 'p2',
        messages: [
          { role: 'user', content: '3+3?' },
          { role: 'assistant', content: 'I do not know.' },
        ],
        metadata: { reference_answer: '6' },
      },
      expect.objectContaining({ id: 'p3' }),
    ]);
    expect(bedrock.rewards(jobArn as string)).toEqual({
      graderArn: GRADER,
      ids: ['p1', 'p2', 'p3'],
      scores: [1, 0, 1],
      meanReward: 0.666667,
    });
  });

  it('REINFORCEMENT_FINE_TUNING: fails the job when the grader cannot be invoked or answers badly', async () => {
    grader = async () => {
      throw Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' });
    };
    const missing = await waitForTerminal(
      (await client.send(new CreateModelCustomizationJobCommand(rftInput()))).jobArn as string,
    );
    expect(missing.status).toBe('Failed');
    expect(missing.failureMessage).toMatch(/could not invoke the reward function .*reward-exact-match/);
    expect(missing.statusDetails?.trainingDetails?.status).toBe('Failed');
    grader = async () => [{ id: 'p1', score: 1 }];
    const bad = await waitForTerminal(
      (await client.send(new CreateModelCustomizationJobCommand(rftInput()))).jobArn as string,
    );
    expect(bad.failureMessage).toMatch(/no numeric aggregate_reward_score for record p1/);
  });

  it('REINFORCEMENT_FINE_TUNING: refuses a grader that is not a Lambda ARN, and RFT hyper-parameters out of range', async () => {
    const notArn = rftInput();
    notArn.customizationConfig = {
      rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: 'reward-exact-match' } } },
    };
    expect((await errorOf(client.send(new CreateModelCustomizationJobCommand(notArn)))).message).toContain(
      'lambdaArn',
    );
    const big = rftInput();
    big.customizationConfig = {
      rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: GRADER } }, hyperParameters: { batchSize: 8 } },
    };
    expect((await errorOf(client.send(new CreateModelCustomizationJobCommand(big)))).message).toContain(
      'between 16 and 512',
    );
  });

  it('CONTINUED_PRE_TRAINING: Titan Text Express takes it, Nova does not', async () => {
    const { jobArn } = await client.send(
      new CreateModelCustomizationJobCommand(
        jobInput({
          baseModelIdentifier: 'amazon.titan-text-express-v1:0:8k',
          customizationType: 'CONTINUED_PRE_TRAINING',
          hyperParameters: { epochCount: '1', batchSize: '1' },
        }),
      ),
    );
    expect((await waitForTerminal(jobArn as string)).status).toBe('Completed');
    const nova = await errorOf(
      client.send(
        new CreateModelCustomizationJobCommand(jobInput({ customizationType: 'CONTINUED_PRE_TRAINING' })),
      ),
    );
    expect(nova.message).toContain('does not support customization type CONTINUED_PRE_TRAINING');
  });

  it('echoes vpcConfig on the job', async () => {
    const vpcConfig = { subnetIds: ['subnet-0a1b2c'], securityGroupIds: ['sg-0a1b2c'] };
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ vpcConfig })));
    expect(
      (await client.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).vpcConfig,
    ).toEqual(vpcConfig);
  });
});

describe('deployments', () => {
  async function completedModel(
    overrides: Partial<CreateModelCustomizationJobCommandInput> = {},
  ): Promise<string> {
    const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput(overrides)));
    const job = await waitForTerminal(jobArn as string);
    return job.outputModelArn as string;
  }

  it('deploys a custom Nova model on demand: Creating, then Active; listed by model; deleted', async () => {
    const modelArn = await completedModel();
    const { customModelDeploymentArn: arn } = await client.send(
      new CreateCustomModelDeploymentCommand({
        modelDeploymentName: `deploy-${seq}`,
        modelArn,
        clientRequestToken: `deploy-token-${seq}`,
        tags: [{ key: 'tunevault:deploy', value: 'on-demand' }],
      }),
    );
    expect(arn).toMatch(
      new RegExp(
        `^arn:aws:bedrock:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:custom-model-deployment/[a-z0-9]{12}$`,
      ),
    );
    // The same token answers the same deployment.
    const again = await client.send(
      new CreateCustomModelDeploymentCommand({
        modelDeploymentName: `deploy-${seq}`,
        modelArn,
        clientRequestToken: `deploy-token-${seq}`,
      }),
    );
    expect(again.customModelDeploymentArn).toBe(arn);
    // Creating lasts a tenth of the job duration (at most 1 s): long here, then none.
    bedrock.setJobDuration(60_000);
    try {
      const first = await client.send(
        new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }),
      );
      expect(first).toMatchObject({ modelArn, status: 'Creating' });
      bedrock.setJobDuration(0);
      const later = await client.send(
        new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }),
      );
      expect(later.status).toBe('Active');
    } finally {
      bedrock.setJobDuration(50);
    }
    const listed = await client.send(new ListCustomModelDeploymentsCommand({ modelArnEquals: modelArn }));
    expect(listed.modelDeploymentSummaries?.map((d) => d.customModelDeploymentArn)).toEqual([arn]);
    expect((await client.send(new ListTagsForResourceCommand({ resourceARN: arn }))).tags).toEqual([
      { key: 'tunevault:deploy', value: 'on-demand' },
    ]);
    await client.send(new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }));
    const gone = await errorOf(
      client.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn })),
    );
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('refuses on-demand deployment for a base model Bedrock does not deploy on demand', async () => {
    const modelArn = await completedModel({
      baseModelIdentifier: 'amazon.titan-text-express-v1:0:8k',
      customizationType: 'CONTINUED_PRE_TRAINING',
      hyperParameters: undefined,
    });
    const err = await errorOf(
      client.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: `deploy-${seq}`, modelArn })),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain('amazon.titan-text-express-v1:0:8k');
  });

  it('provisions throughput (Creating, then InService), lists it, deletes it', async () => {
    const modelArn = await completedModel();
    const { provisionedModelArn: arn } = await client.send(
      new CreateProvisionedModelThroughputCommand({
        provisionedModelName: `pt-${seq}`,
        modelId: modelArn,
        modelUnits: 1,
      }),
    );
    expect(arn).toMatch(/:provisioned-model\/[a-z0-9]{12}$/);
    bedrock.setJobDuration(0);
    expect(
      await client.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: arn })),
    ).toMatchObject({
      status: 'InService',
      modelUnits: 1,
      modelArn,
      foundationModelArn: `arn:aws:bedrock:${LOCAL_REGION}::foundation-model/${BASE}`,
    });
    const listed = await client.send(
      new ListProvisionedModelThroughputsCommand({ modelArnEquals: modelArn }),
    );
    expect(listed.provisionedModelSummaries?.map((p) => p.provisionedModelArn)).toEqual([arn]);
    bedrock.setJobDuration(50);
    await client.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: arn }));
    expect(
      (await client.send(new ListProvisionedModelThroughputsCommand({ modelArnEquals: modelArn })))
        .provisionedModelSummaries,
    ).toEqual([]);
  });
});

describe('snapshot', () => {
  it('restores jobs and models and resumes in-flight jobs', async () => {
    bedrock.setJobDuration(60_000);
    let runningArn: string;
    let doneArn: string;
    try {
      const done = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      await bedrock.completeNow(done.jobArn as string);
      doneArn = done.jobArn as string;
      const running = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      runningArn = running.jobArn as string;
    } finally {
      bedrock.setJobDuration(50);
    }
    const state = JSON.parse(JSON.stringify(bedrock.snapshot())) as {
      jobs: Array<{ jobArn: string; durationMs: number }>;
    };
    // Make the restored in-flight job due soon, as if the embedded AWS had been down for a while.
    for (const j of state.jobs) if (j.jobArn === runningArn) j.durationMs = 30;

    const restoredEvents: BusEntry[] = [];
    const restored = new BedrockService({
      accountId: LOCAL_ACCOUNT_ID,
      region: LOCAL_REGION,
      s3: store,
      kms,
      putEvents: async (e) => {
        restoredEvents.push(...e);
      },
    });
    try {
      restored.restore(state);
      const second = await startTestEndpoint([restored]);
      const client2 = new BedrockClient({ ...localClientConfig(second.url), maxAttempts: 1 });
      try {
        const done = await client2.send(new GetModelCustomizationJobCommand({ jobIdentifier: doneArn }));
        expect(done.status).toBe('Completed');
        await client2.send(new GetCustomModelCommand({ modelIdentifier: done.outputModelArn }));
        const deadline = Date.now() + 5000;
        let status: string | undefined;
        while (Date.now() < deadline) {
          status = (await client2.send(new GetModelCustomizationJobCommand({ jobIdentifier: runningArn })))
            .status;
          if (status === 'Completed') break;
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(status).toBe('Completed');
        expect(restoredEvents.map((e) => JSON.parse(e.Detail).jobStatus)).toEqual(['Completed']);
      } finally {
        client2.destroy();
        await second.close();
      }
    } finally {
      restored.close();
    }
  });
});
