/**
 * Bad input ends in a named outcome a person can read, with nothing half-done: no job, no
 * orphan model, and the data object never deleted by TuneVault.
 */
import { ListCustomModelsCommand } from '@aws-sdk/client-bedrock';
import {
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
} from '@aws-sdk/client-s3';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { field } from '../../cli/lib/run-view';
import { jobNameFor, slugOf } from '../../functions/shared/naming';
import { encodeEventKey } from '../../local/services/s3/notifications';
import { chat, DATA, type Harness, startWarmHarness } from './support/embedded';

let h: Harness;

beforeAll(async () => {
  // The first run creates the key and loads every function, so the cases below are quick.
  h = await startWarmHarness();
});
afterAll(async () => {
  h?.aws.faults.clear();
  await h?.stop();
});

const startFunction = () => h.stack.functions.find((f) => f.key === 'startCustomization')!;

async function executionCount(): Promise<number> {
  const out = await h.c.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: h.stack.stateMachineArn, maxResults: 1000 }),
  );
  return out.executions?.length ?? 0;
}

async function tagsOf(bucket: string, key: string, versionId?: string) {
  const out = await h.c.s3.send(
    new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
  );
  return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key, t.Value]));
}

/** Everything the S3 trigger started has finished. */
async function settled() {
  await h.aws.s3.notificationsSettled();
  await h.aws.lambda.idle();
}

/** No job and no model for this key (any version), and the object version still holds its bytes. */
async function nothingLeftBehind(object: { bucket: string; key: string; versionId?: string }, body: string) {
  const slug = slugOf(object.key, 24);
  expect(await h.jobsNamed(`tunevault-${slug}-`)).toEqual([]);
  const models = await h.c.bedrock.send(
    new ListCustomModelsCommand({ nameContains: `tunevault-${slug}-model` }),
  );
  expect(models.modelSummaries ?? []).toEqual([]);
  const kept = await h.c.s3.send(
    new GetObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
  );
  expect(await kept.Body?.transformToString()).toBe(body);
}

/** An S3 ObjectCreated event for an object, as S3 would send it. */
function s3Event(bucket: string, key: string, size: number, versionId?: string) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: bucket },
          object: { key: encodeEventKey(key), size, ...(versionId ? { versionId } : {}) },
        },
      },
    ],
  };
}

function failedNotificationFor(executionArn: string) {
  return h
    .notifications('TuneVault Run Failed')
    .filter((e) => (e.detail as { executionArn: string }).executionArn === executionArn);
}

describe('bad input', () => {
  it.each([
    [
      'outside the training prefix',
      'elsewhere/outside.jsonl',
      "key is outside the training prefix 'training/'",
    ],
    ['with another suffix', 'training/records.csv', "key does not end with '.jsonl'"],
  ])('an object %s: skipped, never run', async (_case, key, reason) => {
    const before = await executionCount();
    const object = await h.put(key, DATA);
    await settled();
    // S3's own filter keeps the event from the function; delivered anyway, the function skips it.
    const answer = (await h.aws.lambda.invoke(
      startFunction().arn,
      s3Event(object.bucket, key, DATA.length, object.versionId),
    )) as { outcomes: unknown[] };
    expect(answer.outcomes).toEqual([{ key, outcome: 'skipped', reason }]);
    expect(await executionCount()).toBe(before);
    expect(await tagsOf(object.bucket, key, object.versionId)).toEqual({});
    await nothingLeftBehind(object, DATA);
  });

  it('a zero-byte file: rejected before any run, tagged with the reason', async () => {
    const before = await executionCount();
    const object = await h.put(`${h.stack.trainingPrefix}empty.jsonl`, Buffer.alloc(0));
    await settled();
    expect(await executionCount()).toBe(before);
    expect(await tagsOf(object.bucket, object.key, object.versionId)).toEqual({
      'tunevault:status': 'rejected',
      'tunevault:reason': 'the file is empty - 0 bytes',
    });
    await nothingLeftBehind(object, '');
  });

  it('a file with no records: InvalidTrainingDataError, no job submitted', async () => {
    const body = '\n\n   \n';
    const { run, object } = await h.drop('no records', body);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InvalidTrainingDataError');
    expect(run.cause).toMatch(
      /is not valid bedrock-conversation-2024 \(Converse API messages\) training data for Nova Micro \(FINE_TUNING\): .*0 records/,
    );
    expect(h.statesEntered(run)).not.toContain('SubmitCustomizationJob');
    expect(h.statesEntered(run).slice(-3)).toEqual(['Remediate', 'NotifyFailed', 'RunFailed']);
    expect(failedNotificationFor(run.executionArn)).toHaveLength(1);
    expect(await tagsOf(object.bucket, object.key, object.versionId)).toMatchObject({
      'tunevault:status': 'failed',
      'tunevault:reason': 'InvalidTrainingDataError',
    });
    await nothingLeftBehind(object, body);
  });

  it('a sidecar with unknown fields: rejected before any run, the reason names the fields', async () => {
    const before = await executionCount();
    const sidecarKey = `${h.stack.trainingPrefix}bad sidecar.job.json`;
    await h.put(sidecarKey, JSON.stringify({ epochs: 3, dataPolicy: { policy: 'redact', level: 'x' } }));
    const object = await h.put(`${h.stack.trainingPrefix}bad sidecar.jsonl`, DATA);
    await settled();
    expect(await executionCount()).toBe(before);
    const tags = await tagsOf(object.bucket, object.key, object.versionId);
    expect(tags['tunevault:status']).toBe('rejected');
    // The reason is readable as a tag (S3 refuses quotes, commas and brackets in tag values).
    expect(tags['tunevault:reason']).toContain('bad sidecar.job.json is not a valid dataset sidecar');
    expect(tags['tunevault:reason']).toContain('unknown fields dataPolicy.level');
    expect(tags['tunevault:reason']).toContain('unknown fields epochs');
    expect(tags['tunevault:reason']).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
    await nothingLeftBehind(object, DATA);
  });

  it.each([
    ['spaces', 'training/customer chats 2024.jsonl'],
    ['unicode', 'training/Kundengespräche-März-日本語.jsonl'],
    ['a plus sign', 'training/q1+q2 chats.jsonl'],
    ['a percent sign', 'training/100% clean.jsonl'],
  ])('a key with %s: decoded exactly, and the run completes', async (_case, key) => {
    const object = await h.put(key, DATA);
    const run = await h.finished(h.executionArnOf(object));
    expect(run.status).toBe('SUCCEEDED');
    expect(field(run.input, 'source', 'key')).toBe(key);
    expect(await tagsOf(object.bucket, key, object.versionId)).toMatchObject({
      'tunevault:status': 'trained',
    });
    const jobs = await h.jobsNamed(jobNameFor(object));
    expect(jobs).toHaveLength(1);
  });

  it('a bucket without default encryption: BucketNotCompliantError, no job submitted', async () => {
    const bucket = h.stack.trainingBucket;
    const saved = await h.c.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    h.aws.s3.removeDefaultEncryption(bucket);
    try {
      const { run, object } = await h.drop('unencrypted bucket');
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('BucketNotCompliantError');
      expect(run.cause).toContain(`[default-encryption] s3://${bucket}: no default encryption`);
      expect(run.cause).toContain('[object-encryption]');
      expect(h.statesEntered(run)).not.toContain('EnsureCustomerManagedKey');
      expect(failedNotificationFor(run.executionArn)).toHaveLength(1);
      await nothingLeftBehind(object, DATA);
    } finally {
      await h.c.s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: saved.ServerSideEncryptionConfiguration,
        }),
      );
    }
  });

  it("validation data with a secret (the sidecar's validationKey): SensitiveDataError, no job submitted", async () => {
    const validationKey = 'validation/leaky validation.jsonl';
    const leaky = `${JSON.stringify(chat('Customer: Which key?\nAgent:', ' Use AKIAQ7XW3PLMN5RTK2VB with aws_secret_access_key=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'))}\n`;
    await h.put(validationKey, leaky);
    const { run, object } = await h.drop('clean but leaky validation', DATA, { validationKey });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('SensitiveDataError');
    expect(run.cause).toContain(`validation data s3://${object.bucket}/${validationKey}`);
    expect(h.statesEntered(run)).not.toContain('SubmitCustomizationJob');
    expect(await tagsOf(object.bucket, validationKey)).toMatchObject({ 'tunevault:status': 'quarantined' });
    await nothingLeftBehind(object, DATA);
  });

  it('an object deleted before the run reads it: InvalidInputError, no job submitted', async () => {
    // Hold the execution's start back so the delete lands first, as a slow trigger would.
    h.aws.faults.add({ service: 'states', operation: 'StartExecution', count: 1, delayMs: 500 });
    const object = await h.put(`${h.stack.trainingPrefix}deleted early.jsonl`, DATA);
    await h.c.s3.send(new DeleteObjectCommand({ Bucket: object.bucket, Key: object.key }));

    const run = await h.finished(h.executionArnOf(object));

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InvalidInputError');
    expect(run.cause).toContain('was deleted before the run could read it');
    expect(h.statesEntered(run)).not.toContain('ScanTrainingData');
    expect(failedNotificationFor(run.executionArn)).toHaveLength(1);
    // The user's delete stands (the key is gone), and TuneVault removed nothing: the version is kept.
    await expect(
      h.c.s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key })),
    ).rejects.toThrow();
    await nothingLeftBehind(object, DATA);
  });
});
