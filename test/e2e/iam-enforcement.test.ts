/**
 * Green here means green on AWS: the embedded AWS authenticates every request (SigV4) and
 * authorizes it with the stack's own IAM (the roles `serverless package` compiles), so a missing
 * permission fails a run here as it would on a real account. Each test removes one permission
 * (or breaks one trust or resource policy) and checks that the run fails naming the refusal, then
 * puts it back; the untouched stack succeeds (workflow.test.ts and the first test here).
 */
import { Writable } from 'node:stream';
import { ListModelCustomizationJobsCommand } from '@aws-sdk/client-bedrock';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { DeleteObjectCommand, GetObjectTaggingCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { printSummary } from '../../cli/commands/demo';
import { summarizeRun } from '../../cli/lib/drop';
import { DATA, type Harness, LEAKY, startWarmHarness } from './support/embedded';

let h: Harness;

beforeAll(async () => {
  // Every answer the decision cache gives here is checked against the evaluator as well.
  process.env.TUNEVAULT_IAM_CACHE_CHECK = '1';
  h = await startWarmHarness();
  delete process.env.TUNEVAULT_IAM_CACHE_CHECK;
});
afterAll(async () => {
  await h?.stop();
});

const roleOf = (key: string) => {
  const fn = h.stack.functions.find((f) => f.key === key);
  if (!fn?.roleArn) throw new Error(`no role for ${key}`);
  return fn.roleArn;
};

/** Runs FN with ACTION removed from ROLE, then puts it back. */
async function without<T>(roleArn: string, action: string, fn: () => Promise<T>): Promise<T> {
  const undo = h.aws.iam.withoutAction(roleArn, action);
  try {
    return await fn();
  } finally {
    undo();
  }
}

/** What `tunevault run` prints for a run (the same summary and printer). */
async function runOutput(run: Awaited<ReturnType<Harness['drop']>>['run']): Promise<string> {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  printSummary(await summarizeRun(h.c, run), out);
  return text;
}

/** The first asynchronous invocation failure after `before` (S3 → Lambda retries twice, then drops the event). */
async function nextAsyncFailure(before: number, match: RegExp) {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const found = h.aws
      .failedAsyncInvocations()
      .slice(before)
      .find((f) => match.test(f.error));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const lastDenial = (action: string) =>
  h.aws.authorizer
    .recent({ deniedOnly: true })
    .filter((d) => d.action === action)
    .at(-1);

describe('enforcement: each service refuses what the stack does not grant', () => {
  it('the untouched stack runs to a tagged model with enforcement on, and no request was refused', async () => {
    h.aws.authorizer.clear();
    const { run } = await h.drop('iam-clean');
    expect(run.status).toBe('SUCCEEDED');
    expect(h.aws.authorizer.mode).toBe('enforce');
    expect(h.aws.authorizer.recent({ deniedOnly: true }).filter((d) => !d.probe)).toEqual([]);
    expect(h.aws.authorizer.recent().length).toBeGreaterThan(20);
  });

  it('Bedrock: submit without bedrock:CreateModelCustomizationJob fails its run with AccessDenied in `tunevault run` output', async () => {
    const { run } = await without(
      roleOf('submitCustomizationJob'),
      'bedrock:CreateModelCustomizationJob',
      () => h.drop('iam-no-create-job'),
    );
    expect(run.status).toBe('FAILED');
    const output = await runOutput(run);
    expect(output).toMatch(/AccessDenied/);
    expect(output).toContain('is not authorized to perform: bedrock:CreateModelCustomizationJob');
    expect(await h.jobsNamed('iam-no-create-job')).toEqual([]);
  });

  it('KMS: the scanner without kms:Decrypt cannot read SSE-KMS training data (AccessDenied through S3)', async () => {
    const { run } = await without(roleOf('scanTrainingData'), 'kms:Decrypt', () => h.drop('iam-no-decrypt'));
    expect(run.status).toBe('FAILED');
    expect(await runOutput(run)).toMatch(/AccessDenied.*kms:Decrypt/s);
    expect(lastDenial('kms:Decrypt')?.via).toBe(`s3.${h.aws.region}.amazonaws.com`);
  });

  it('S3: the scanner without s3:GetObjectVersion cannot read the version it judges', async () => {
    const { run } = await without(roleOf('scanTrainingData'), 's3:GetObjectVersion', () =>
      h.drop('iam-no-get-version'),
    );
    expect(run.status).toBe('FAILED');
    expect(await runOutput(run)).toMatch(/AccessDenied.*s3:GetObjectVersion/s);
  });

  it('Step Functions: the trigger without states:StartExecution starts no run (the S3 event fails after its retries)', async () => {
    const before = h.aws.failedAsyncInvocations().length;
    const failure = await without(roleOf('startCustomization'), 'states:StartExecution', async () => {
      await h.put(`${h.stack.trainingPrefix}iam-no-start.jsonl`, DATA);
      return nextAsyncFailure(before, /states:StartExecution/);
    });
    expect(failure?.error).toMatch(
      /^AccessDeniedException: .*is not authorized to perform: states:StartExecution/,
    );
  });

  it('DynamoDB: waitForJob without dynamodb:PutItem cannot park its token; the run fails', async () => {
    const { run } = await without(roleOf('waitForJob'), 'dynamodb:PutItem', () => h.drop('iam-no-put-item'));
    expect(run.status).toBe('FAILED');
    expect(await runOutput(run)).toMatch(/AccessDenied.*dynamodb:PutItem/s);
  });

  it('EventBridge: notify without events:PutEvents cannot publish the end of the run (the run itself still ends)', async () => {
    const { run, executionArn } = await without(roleOf('notify'), 'events:PutEvents', () =>
      h.drop('iam-no-put-events'),
    );
    // NotifyCompleted catches its own failure: a lost notification does not fail a trained model.
    expect(run.status).toBe('SUCCEEDED');
    expect(lastDenial('events:PutEvents')?.principal).toContain('notify');
    expect(h.notifications().filter((e) => JSON.stringify(e).includes(executionArn))).toEqual([]);
  });

  it('Lambda invoke: a state machine role without lambda:InvokeFunction fails the task (Lambda.AWSLambdaException)', async () => {
    const { run } = await without(h.stack.stateMachineRoleArn, 'lambda:InvokeFunction', () =>
      h.drop('iam-no-invoke'),
    );
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('Lambda.AWSLambdaException');
    expect(run.cause).toMatch(/not authorized to perform: lambda:InvokeFunction/);
  });

  it('Lambda resource policy: S3 may invoke the trigger only as its permission allows (SourceArn = the bucket)', async () => {
    const trigger = h.stack.functions.find((f) => f.key === 'startCustomization')!;
    const undo = h.aws.iam.withoutLambdaPermissions(trigger.arn);
    try {
      await h.put(`${h.stack.trainingPrefix}iam-no-s3-permission.jsonl`, DATA);
      await h.aws.s3.notificationsSettled();
      await h.aws.lambda.idle();
    } finally {
      undo();
    }
    const denial = lastDenial('lambda:InvokeFunction');
    expect(denial?.principal).toBe('s3.amazonaws.com');
    expect(denial?.reason).toMatch(/no resource-based policy allows/);
  });

  it('PassRole: submit without iam:PassRole on the Bedrock role is refused by CreateModelCustomizationJob', async () => {
    const { run } = await without(roleOf('submitCustomizationJob'), 'iam:PassRole', () =>
      h.drop('iam-no-pass-role'),
    );
    expect(run.status).toBe('FAILED');
    expect(await runOutput(run)).toMatch(/AccessDenied.*iam:PassRole/s);
  });

  it('trust policy: a Bedrock role that does not trust this account is refused ("Could not assume provided IAM role.")', async () => {
    const roleArn = h.stack.functions.find((f) => f.key === 'submitCustomizationJob')!.environment
      .BEDROCK_ROLE_ARN!;
    const undo = h.aws.iam.withTrustPolicy(roleArn, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'bedrock.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
        },
      ],
    });
    try {
      const { run } = await h.drop('iam-untrusted-role');
      expect(run.status).toBe('FAILED');
      expect(await runOutput(run)).toContain('Could not assume provided IAM role.');
    } finally {
      undo();
    }
  });
});

describe('the stack fixes regress as tests (issue 10, items 1–3), enforcement on', () => {
  it('item 1: an upload without a sidecar runs (S3 answers NoSuchKey for the sidecar because the trigger may list the bucket)', async () => {
    const { run } = await h.drop('iam-no-sidecar');
    expect(run.status).toBe('SUCCEEDED');
  });

  it('item 1: without s3:ListBucket the missing sidecar is a 403, and no run starts', async () => {
    const before = h.aws.failedAsyncInvocations().length;
    const failure = await without(roleOf('startCustomization'), 's3:ListBucket', async () => {
      await h.put(`${h.stack.trainingPrefix}iam-no-list.jsonl`, DATA);
      return nextAsyncFailure(before, /AccessDenied/);
    });
    expect(failure?.error).toBe('AccessDenied: Access Denied');
    const probe = h.aws.authorizer
      .recent()
      .filter((d) => d.action === 's3:ListBucket' && d.probe)
      .at(-1);
    expect(probe?.result).toBe('ImplicitlyDenied');
  });

  it('item 2: an upload with a sidecar runs (the trigger decrypts the SSE-KMS sidecar through S3)', async () => {
    const { run } = await h.drop('iam-with-sidecar', DATA, { hyperParameters: { epochCount: '1' } });
    expect(run.status).toBe('SUCCEEDED');
  });

  it('item 1: an object deleted before the run reads it ends InvalidInputError, not AccessDenied', async () => {
    const key = `${h.stack.trainingPrefix}iam-deleted.jsonl`;
    const object = await h.put(key, DATA);
    await h.c.s3.send(
      new DeleteObjectCommand({ Bucket: object.bucket, Key: key, VersionId: object.versionId }),
    );
    await h.aws.s3.notificationsSettled();
    await h.aws.lambda.idle();
    const run = await h.finished(h.executionArnOf(object));
    expect(run.error).toBe('InvalidInputError');
    expect(run.cause).toContain('was deleted before the run could read it');
  });

  it('item 1: a sidecar naming a validationKey that does not exist ends InvalidInputError', async () => {
    const { run } = await h.drop('iam-missing-validation', DATA, { validationKey: 'validation/none.jsonl' });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InvalidInputError');
  });

  it('item 3: blocked data is tagged quarantined on its version (s3:GetObjectVersionTagging)', async () => {
    const { object, run } = await h.drop('iam-leaky', LEAKY);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('SensitiveDataError');
    const tags = await h.c.s3.send(
      new GetObjectTaggingCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
    );
    expect(tags.TagSet?.find((t) => t.Key === 'tunevault:status')?.Value).toBe('quarantined');
  });
});

describe('authentication', () => {
  it('a wrong secret: S3 answers SignatureDoesNotMatch, KMS InvalidSignatureException', async () => {
    const credentials = { accessKeyId: 'test', secretAccessKey: 'not-the-secret' };
    const config = { endpoint: h.aws.url, region: h.aws.region, credentials, maxAttempts: 1 };
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    await expect(
      s3.send(new PutObjectCommand({ Bucket: h.stack.trainingBucket, Key: 'x.txt', Body: 'x' })),
    ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    await expect(new KMSClient(config).send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
    });
  });

  it('an unknown access key: InvalidAccessKeyId (S3), UnrecognizedClientException (KMS)', async () => {
    const credentials = { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' };
    const config = { endpoint: h.aws.url, region: h.aws.region, credentials, maxAttempts: 1 };
    await expect(
      new S3Client({ ...config, forcePathStyle: true }).send(
        new PutObjectCommand({ Bucket: h.stack.trainingBucket, Key: 'x.txt', Body: 'x' }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    await expect(new KMSClient(config).send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
  });

  it("a function's own credentials act as its role: the notify role may not list Bedrock jobs", async () => {
    const notify = h.stack.functions.find((f) => f.key === 'notify')!;
    const { BedrockClient } = await import('@aws-sdk/client-bedrock');
    const client = new BedrockClient({
      endpoint: h.aws.url,
      region: h.aws.region,
      credentials: {
        accessKeyId: notify.credentials!.accessKeyId,
        secretAccessKey: notify.credentials!.secretAccessKey,
        sessionToken: notify.credentials!.sessionToken,
      },
      maxAttempts: 1,
    });
    await expect(client.send(new ListModelCustomizationJobsCommand({}))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /^User: arn:aws:sts::000000000000:assumed-role\/[^/]+notify[^/]*\/[^ ]+ is not authorized to perform: bedrock:ListModelCustomizationJobs on resource: \* because no identity-based policy allows the bedrock:ListModelCustomizationJobs action$/,
      ),
    });
  });
});
