/**
 * Fidelity: the error names AND HTTP statuses the workflow relies on, through the real SDK
 * clients against one embedded endpoint (EmbeddedAws, no stack deployed: each test builds
 * what it needs). The statuses are AWS's own:
 * - S3, Bedrock, Step Functions, DynamoDB: the `httpError` of each error in the Smithy models
 *   the SDK ships (and the services' API references): S3's NoSuch* are 404; Bedrock's
 *   ResourceNotFoundException 404, ThrottlingException 429, ValidationException /
 *   ConflictException / ServiceQuotaExceededException 400; Step Functions' and DynamoDB's
 *   errors here 400.
 * - KMS (awsJson1_1) answers its client errors with 400 on the wire — NotFoundException
 *   included, although the newest SDK model lists query-compatibility codes of 404/409.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  type CreateModelCustomizationJobCommandInput,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import {
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListStateMachinesCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { localClientConfig } from '../../local/core/test-endpoint';
import { EmbeddedAws } from '../../local/embedded';

jest.setTimeout(20_000);

let aws: EmbeddedAws;
let s3: S3Client;
let kms: KMSClient;
let sfn: SFNClient;
let bedrock: BedrockClient;
let dynamo: DynamoDBClient;

beforeAll(async () => {
  aws = new EmbeddedAws({ port: 0, jobDurationMs: 150, logLevel: 'SILENT' });
  // The services alone, no stack: serve at once instead of holding requests until a deployment.
  await aws.endpoint.listen();
  aws.endpoint.open();
  // No retries: a retried ThrottlingException would hide the first answer's status.
  const cc = { ...localClientConfig(aws.url), maxAttempts: 1 };
  s3 = new S3Client(cc);
  kms = new KMSClient(cc);
  sfn = new SFNClient(cc);
  bedrock = new BedrockClient(cc);
  dynamo = new DynamoDBClient(cc);
}, 20_000);

afterAll(async () => {
  for (const c of [s3, kms, sfn, bedrock, dynamo]) c.destroy();
  await aws.stop();
});

interface Failure {
  name: string;
  status: number | undefined;
  message: string;
}

/** The SDK's error: its name, the HTTP status it came with, its message. Fails when the call succeeds. */
async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail, it succeeded');
}

async function eventually<T>(
  read: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('S3', () => {
  const bucket = 'fidelity-s3';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('NoSuchKey is 404', async () => {
    expect(
      await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing.jsonl' }))),
    ).toMatchObject({ name: 'NoSuchKey', status: 404 });
  });

  it('NoSuchBucket is 404', async () => {
    expect(
      await failure(s3.send(new GetBucketEncryptionCommand({ Bucket: 'fidelity-no-such-bucket' }))),
    ).toMatchObject({ name: 'NoSuchBucket', status: 404 });
    expect(
      await failure(s3.send(new GetObjectCommand({ Bucket: 'fidelity-no-such-bucket', Key: 'k' }))),
    ).toMatchObject({ name: 'NoSuchBucket', status: 404 });
  });

  it('ServerSideEncryptionConfigurationNotFoundError is 404 (a bucket without default encryption)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'fidelity-legacy' }));
    // Since 2023 every new bucket has SSE-S3; only buckets from before have none.
    await s3.send(new GetBucketEncryptionCommand({ Bucket: 'fidelity-legacy' }));
    aws.s3.removeDefaultEncryption('fidelity-legacy');
    expect(
      await failure(s3.send(new GetBucketEncryptionCommand({ Bucket: 'fidelity-legacy' }))),
    ).toMatchObject({
      name: 'ServerSideEncryptionConfigurationNotFoundError',
      status: 404,
    });
  });

  it('NoSuchBucketPolicy is 404', async () => {
    expect(await failure(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchBucketPolicy',
      status: 404,
    });
  });

  it('NoSuchPublicAccessBlockConfiguration is 404 after DeletePublicAccessBlock', async () => {
    // New buckets block public access; the configuration exists until deleted.
    await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    expect(await failure(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchPublicAccessBlockConfiguration',
      status: 404,
    });
  });
});

describe('KMS', () => {
  async function newKey(description: string): Promise<string> {
    const out = await kms.send(new CreateKeyCommand({ Description: description }));
    return out.KeyMetadata?.KeyId as string;
  }

  it('NotFoundException is 400, for a key id and for an alias', async () => {
    expect(await failure(kms.send(new DescribeKeyCommand({ KeyId: 'alias/fidelity-nope' })))).toMatchObject({
      name: 'NotFoundException',
      status: 400,
    });
    expect(
      await failure(kms.send(new DescribeKeyCommand({ KeyId: '11111111-2222-3333-4444-555555555555' }))),
    ).toMatchObject({ name: 'NotFoundException', status: 400 });
  });

  it('AlreadyExistsException is 400 (an alias created twice)', async () => {
    const key = await newKey('alias twice');
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/fidelity-twice', TargetKeyId: key }));
    expect(
      await failure(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/fidelity-twice', TargetKeyId: key })),
      ),
    ).toMatchObject({ name: 'AlreadyExistsException', status: 400 });
  });

  it('DisabledException is 400 (a disabled key)', async () => {
    const key = await newKey('disabled');
    await kms.send(new DisableKeyCommand({ KeyId: key }));
    expect(
      await failure(kms.send(new GenerateDataKeyCommand({ KeyId: key, KeySpec: 'AES_256' }))),
    ).toMatchObject({ name: 'DisabledException', status: 400 });
  });

  it('KMSInvalidStateException is 400 (a key pending deletion)', async () => {
    const key = await newKey('pending deletion');
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 }));
    expect(
      await failure(kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x') }))),
    ).toMatchObject({ name: 'KMSInvalidStateException', status: 400 });
  });

  it('envelope encryption: data under one key does not decrypt under another', async () => {
    const a = await newKey('envelope a');
    const b = await newKey('envelope b');
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: a, KeySpec: 'AES_256' }));
    const plaintextKey = Buffer.from(dataKey.Plaintext as Uint8Array);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', plaintextKey, iv);
    const sealed = Buffer.concat([cipher.update('training data'), cipher.final()]);
    const tag = cipher.getAuthTag();

    // Asking key b to unwrap a's data key is refused…
    expect(
      await failure(kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, KeyId: b }))),
    ).toMatchObject({ name: 'IncorrectKeyException', status: 400 });
    // …and a's own answer opens the data.
    const unwrapped = await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
    expect(unwrapped.KeyId).toBe(dataKey.KeyId);
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(unwrapped.Plaintext as Uint8Array), iv);
    decipher.setAuthTag(tag);
    expect(Buffer.concat([decipher.update(sealed), decipher.final()]).toString()).toBe('training data');
    // A data key of b cannot open what a's data key sealed.
    const other = await kms.send(new GenerateDataKeyCommand({ KeyId: b, KeySpec: 'AES_256' }));
    const wrong = createDecipheriv('aes-256-gcm', Buffer.from(other.Plaintext as Uint8Array), iv);
    wrong.setAuthTag(tag);
    expect(() => Buffer.concat([wrong.update(sealed), wrong.final()])).toThrow();
  });
});

describe('Step Functions', () => {
  // One Task parked on a task token (delivered through EventBridge) for up to timeoutSeconds.
  const parked = (timeoutSeconds: number) => ({
    StartAt: 'Park',
    States: {
      Park: {
        Type: 'Task',
        Resource: 'arn:aws:states:::events:putEvents.waitForTaskToken',
        Parameters: {
          Entries: [{ Source: 'fidelity', DetailType: 'parked', Detail: { 'token.$': '$$.Task.Token' } }],
        },
        TimeoutSeconds: timeoutSeconds,
        End: true,
      },
    },
  });
  let stateMachineArn: string;
  let shortLivedArn: string;

  beforeAll(async () => {
    const create = async (name: string, timeoutSeconds: number) =>
      (
        await sfn.send(
          new CreateStateMachineCommand({
            name,
            definition: JSON.stringify(parked(timeoutSeconds)),
            roleArn: `arn:aws:iam::${aws.accountId}:role/fidelity`,
          }),
        )
      ).stateMachineArn as string;
    stateMachineArn = await create('fidelity-parked', 60);
    shortLivedArn = await create('fidelity-parked-1s', 1);
  });

  async function tokenOf(executionArn: string): Promise<string> {
    return eventually(async () => {
      const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
      const scheduled = history.events?.find((e) => e.type === 'TaskScheduled');
      const params = scheduled?.taskScheduledEventDetails?.parameters;
      if (!params) return undefined;
      return (JSON.parse(params) as { Entries: { Detail: { token: string } }[] }).Entries[0]?.Detail.token;
    }, `the task token of ${executionArn}`);
  }

  async function closed(executionArn: string) {
    return eventually(async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    }, `${executionArn} to close`);
  }

  it('same name and input while running → the same execution; other input → ExecutionAlreadyExists (400)', async () => {
    const input = JSON.stringify({ dataset: 'a.jsonl' });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input }));
    expect(again.$metadata.httpStatusCode).toBe(200);
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());
    expect(
      await failure(
        sfn.send(
          new StartExecutionCommand({
            stateMachineArn,
            name: 'run-1',
            input: JSON.stringify({ dataset: 'b.jsonl' }),
          }),
        ),
      ),
    ).toMatchObject({ name: 'ExecutionAlreadyExists', status: 400 });

    // Closed, the same name and input is refused too.
    const token = await tokenOf(first.executionArn as string);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"done":true}' }));
    expect((await closed(first.executionArn as string)).status).toBe('SUCCEEDED');
    expect(
      await failure(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input }))),
    ).toMatchObject({ name: 'ExecutionAlreadyExists', status: 400 });

    // The task is over: its token answers TaskTimedOut.
    expect(
      await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toMatchObject({ name: 'TaskTimedOut', status: 400 });
  });

  it('TaskTimedOut (400) for the token of a task that timed out', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: shortLivedArn, name: 'run-2', input: '{}' }),
    );
    const token = await tokenOf(executionArn as string);
    const end = await closed(executionArn as string);
    expect(end).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(
      await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toMatchObject({ name: 'TaskTimedOut', status: 400 });
  });

  it('TaskDoesNotExist (400) for a token no task ever had', async () => {
    expect(
      await failure(
        sfn.send(
          new SendTaskSuccessCommand({ taskToken: randomBytes(48).toString('base64url'), output: '{}' }),
        ),
      ),
    ).toMatchObject({ name: 'TaskDoesNotExist', status: 400 });
  });
});

describe('Bedrock', () => {
  const training = 'fidelity-training';
  const output = 'fidelity-output';
  let bedrockRole: string;
  let keyArn: string;
  let seq = 0;

  beforeAll(async () => {
    // Jobs run as a service role Bedrock may assume (trust guarded as the stack's is) that reads
    // the training bucket and writes the output bucket.
    bedrockRole = aws.iam.putRole({
      name: 'fidelity-bedrock',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'bedrock.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': aws.accountId } },
          },
        ],
      },
      policies: [
        {
          name: 'data',
          document: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${training}/*` },
              { Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${output}/*` },
            ],
          },
        },
      ],
    }).arn;
    await s3.send(new CreateBucketCommand({ Bucket: training }));
    await s3.send(new CreateBucketCommand({ Bucket: output }));
    const rows = Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({ prompt: `q${i}`, completion: `a${i}` }),
    );
    await s3.send(new PutObjectCommand({ Bucket: training, Key: 'data.jsonl', Body: rows.join('\n') }));
    keyArn = (await kms.send(new CreateKeyCommand({ Description: 'model key' }))).KeyMetadata?.Arn as string;
  });

  function jobInput(
    overrides: Partial<CreateModelCustomizationJobCommandInput> = {},
  ): CreateModelCustomizationJobCommandInput {
    seq += 1;
    return {
      jobName: `fidelity-job-${seq}`,
      customModelName: `fidelity-model-${seq}`,
      roleArn: bedrockRole,
      baseModelIdentifier: 'amazon.nova-micro-v1:0:128k',
      trainingDataConfig: { s3Uri: `s3://${training}/data.jsonl` },
      outputDataConfig: { s3Uri: `s3://${output}/runs/` },
      hyperParameters: { epochCount: '1', learningRate: '0.00001' },
      customModelKmsKeyId: keyArn,
      ...overrides,
    };
  }

  async function finished(jobIdentifier: string) {
    return eventually(async () => {
      const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier }));
      return ['Completed', 'Failed', 'Stopped'].includes(job.status ?? '') ? job : undefined;
    }, `job ${jobIdentifier}`);
  }

  it('a repeated clientRequestToken returns the same job; a job name in use is a ValidationException (400)', async () => {
    const input = jobInput({ clientRequestToken: 'fidelity-token-1' });
    const first = await bedrock.send(new CreateModelCustomizationJobCommand(input));
    const repeat = await bedrock.send(new CreateModelCustomizationJobCommand(input));
    expect(repeat.$metadata.httpStatusCode).toBe(201);
    expect(repeat.jobArn).toBe(first.jobArn);
    expect(
      await failure(
        bedrock.send(
          new CreateModelCustomizationJobCommand({
            ...input,
            clientRequestToken: 'fidelity-token-2',
            customModelName: `${input.customModelName}-b`,
          }),
        ),
      ),
    ).toEqual({
      name: 'ValidationException',
      status: 400,
      message: 'The provided job name is currently in use.',
    });
    expect((await finished(first.jobArn as string)).status).toBe('Completed');
  });

  it('ResourceNotFoundException is 404', async () => {
    expect(
      await failure(
        bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: 'fidelity-no-such-job' })),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    expect(
      await failure(bedrock.send(new GetCustomModelCommand({ modelIdentifier: 'fidelity-no-such-model' }))),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('StopModelCustomizationJob: ConflictException (400) while a stop is under way, ValidationException (400) once ended', async () => {
    aws.bedrock.setJobDuration(60_000);
    const { jobArn } = await bedrock.send(new CreateModelCustomizationJobCommand(jobInput()));
    aws.bedrock.setJobDuration(150);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    expect((await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).status).toBe(
      'Stopping',
    );
    expect(
      await failure(bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }))),
    ).toMatchObject({ name: 'ConflictException', status: 400 });
    expect((await finished(jobArn as string)).status).toBe('Stopped');
    expect(
      await failure(bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }))),
    ).toMatchObject({ name: 'ValidationException', status: 400 });
  });

  it.each([
    ['ThrottlingException', 429],
    ['ServiceQuotaExceededException', 400],
  ])('%s through the control API answers %i', async (error, status) => {
    const res = await fetch(`${aws.url}/_tunevault/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'bedrock', operation: 'CreateModelCustomizationJob', count: 1, error }),
    });
    expect(res.status).toBe(200);
    const input = jobInput();
    expect(await failure(bedrock.send(new CreateModelCustomizationJobCommand(input)))).toMatchObject({
      name: error,
      status,
    });
    // Only the next call: the one after goes through.
    const { jobArn } = await bedrock.send(new CreateModelCustomizationJobCommand(input));
    await finished(jobArn as string);
  });
});

describe('faults from the control API take the status of the service they hit', () => {
  it('Step Functions answers ServiceQuotaExceededException with 402, ThrottlingException with 400', async () => {
    for (const [error, status] of [
      ['ServiceQuotaExceededException', 402],
      ['ThrottlingException', 400],
    ] as const) {
      await fetch(`${aws.url}/_tunevault/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'states', operation: 'ListStateMachines', count: 1, error }),
      });
      expect(await failure(sfn.send(new ListStateMachinesCommand({})))).toMatchObject({
        name: error,
        status,
      });
    }
    await sfn.send(new ListStateMachinesCommand({}));
  });
});

describe('DynamoDB', () => {
  it('ConditionalCheckFailedException is 400', async () => {
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'fidelity-tokens',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'jobName', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'jobName', KeyType: 'HASH' }],
      }),
    );
    const put: PutItemCommandInput = {
      TableName: 'fidelity-tokens',
      Item: { jobName: { S: 'job-1' }, token: { S: 't' } },
      ConditionExpression: 'attribute_not_exists(jobName)',
    };
    await dynamo.send(new PutItemCommand(put));
    expect(await failure(dynamo.send(new PutItemCommand(put)))).toMatchObject({
      name: 'ConditionalCheckFailedException',
      status: 400,
    });
  });
});
