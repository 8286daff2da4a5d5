/**
 * Nothing runs twice: S3 delivers ObjectCreated at least once, so the same event may arrive many
 * times, some at once. One object version must give one execution and one Bedrock job.
 */
import { createHash } from 'node:crypto';
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { field } from '../../cli/lib/run-view';
import type { ObjectCreatedNotice } from '../../local/services/s3/notifications';
import { executionNameFor } from '../../functions/shared/naming';
import { chat, DATA, type Harness, startHarness } from './support/embedded';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const startFunction = () => {
  const fn = h.stack.functions.find((f) => f.key === 'startCustomization');
  if (!fn) throw new Error('no startCustomization function in the stack');
  return fn;
};

/** Executions of the state machine whose name was derived from this key (any version). */
async function executionsFor(key: string, versions: { versionId?: string; etag?: string }[]) {
  const names = new Set(versions.map((v) => executionNameFor({ bucket: h.stack.trainingBucket, key, ...v })));
  const out = await h.c.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: h.stack.stateMachineArn, maxResults: 1000 }),
  );
  const all = out.executions ?? [];
  return { ours: all.filter((e) => names.has(e.name ?? '')), all };
}

const startInvocations = () =>
  h.aws.lambda.invocations.filter((i) => i.functionName === startFunction().name);

describe('duplicate S3 deliveries', () => {
  const key = () => `${h.stack.trainingPrefix}dup delivery.jsonl`;
  let first: { versionId?: string | undefined; etag?: string | undefined };
  let event: unknown;

  it('50 deliveries of one ObjectCreated event, many at once, start one execution and one job', async () => {
    const seen: ObjectCreatedNotice[] = [];
    const stopWatching = h.aws.s3.onObjectCreated((n) => seen.push(n));
    const before = startInvocations().length;
    const allBefore = (await executionsFor(key(), [])).all.length;

    const object = await h.put(key(), DATA);
    first = object;
    stopWatching();
    event = seen.find((n) => n.key === key())?.deliveries[0]?.event;
    expect(event).toBeDefined();

    // 1 original delivery + 24 redeliveries by S3 + 25 direct invocations, all concurrent.
    const direct = Array.from({ length: 25 }, () => h.aws.lambda.invoke(startFunction().arn, event));
    const [redelivered, answers] = await Promise.all([
      h.aws.s3.redeliver(object.bucket, object.key, 24),
      Promise.all(direct),
    ]);
    expect(redelivered).toBe(24);
    await h.aws.s3.notificationsSettled();
    await h.aws.lambda.idle();

    const run = await h.finished(h.executionArnOf(object));
    expect(run.status).toBe('SUCCEEDED');

    const invocations = startInvocations().slice(before);
    expect(invocations).toHaveLength(50);
    expect(invocations.filter((i) => i.errorName)).toEqual([]);
    // Every direct answer names the one execution, whether it started it or found it running.
    for (const a of answers as { outcomes: { outcome: string; executionArn?: string }[] }[]) {
      expect(a.outcomes).toEqual([
        {
          key: key(),
          outcome: expect.stringMatching(/^(started|already-started)$/),
          executionArn: run.executionArn,
        },
      ]);
    }

    const { ours, all } = await executionsFor(key(), [object]);
    expect(ours).toHaveLength(1);
    expect(all.length - allBefore).toBe(1);
    expect(await h.jobsNamed('dup-delivery')).toHaveLength(1);
  });

  it('a replay after the run completed starts nothing new', async () => {
    const object = { bucket: h.stack.trainingBucket, key: key(), ...first };
    const jobsBefore = await h.jobsNamed('dup-delivery');
    const executionsBefore = (await executionsFor(key(), [])).all.length;
    await h.aws.s3.redeliver(object.bucket, object.key, 5);
    const answer = (await h.aws.lambda.invoke(startFunction().arn, event)) as {
      outcomes: { outcome: string; executionArn: string }[];
    };
    await h.aws.s3.notificationsSettled();
    await h.aws.lambda.idle();

    expect(answer.outcomes[0]).toMatchObject({
      outcome: 'already-started',
      executionArn: h.executionArnOf(object),
    });
    expect((await executionsFor(key(), [])).all.length).toBe(executionsBefore);
    expect(await h.jobsNamed('dup-delivery')).toHaveLength(jobsBefore.length);
    expect(startInvocations().filter((i) => i.errorName)).toEqual([]);
  });

  it('a new version of the same key (same bytes) is a new run with its own job', async () => {
    const second = await h.put(key(), DATA);
    expect(second.versionId).toBeDefined();
    expect(second.versionId).not.toBe(first.versionId);
    const run = await h.finished(h.executionArnOf(second));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.executionArn).not.toBe(h.executionArnOf({ bucket: second.bucket, key: key(), ...first }));
    const { ours } = await executionsFor(key(), [first, second]);
    expect(ours).toHaveLength(2);
    const jobs = await h.jobsNamed('dup-delivery');
    expect(jobs).toHaveLength(2);
    expect(new Set(jobs.map((j) => j.customModelName)).size).toBe(2);
  });

  it('a new version uploaded while a run is in flight: each job trains on exactly the version its guard judged', async () => {
    const key = `${h.stack.trainingPrefix}swapped under the run.jsonl`;
    const secrets = `${JSON.stringify(chat('Customer: What key do you use?\nAgent:', ' Our deploy key is AKIAQ7XW3PLMN5RTK2VB with aws_secret_access_key=Zq8vN2rT5yW1xK4mP7sL0dF3gH6jB9cV2nM5qR8t'))}\n${DATA}`;
    // The first version's job is submitted only once the second version has replaced it.
    h.aws.faults.add({
      service: 'bedrock',
      operation: 'CreateModelCustomizationJob',
      count: 1,
      delayMs: 800,
    });
    let cleanArn = '';
    const submitting = new Promise<void>((resolve) => {
      const stop = h.aws.onHistoryEvent((arn, e) => {
        if (arn === cleanArn && e.stateEnteredEventDetails?.name === 'SubmitCustomizationJob') {
          stop();
          resolve();
        }
      });
    });
    const clean = await h.put(key, DATA);
    cleanArn = h.executionArnOf(clean);
    await submitting;
    const dirty = await h.put(key, secrets);

    const [first, second] = await Promise.all([h.finished(cleanArn), h.finished(h.executionArnOf(dirty))]);

    // The second version is blocked by its own run...
    expect(second.status).toBe('FAILED');
    expect(second.error).toBe('SensitiveDataError');
    // ...and the first run's job trained on the first version's bytes, not on the key's current ones.
    expect(first.status).toBe('SUCCEEDED');
    const trainedOn = String(field(first.state, 'scan', 'trainingS3Uri'));
    expect(trainedOn.startsWith(`s3://${h.stack.outputBucket}/`)).toBe(true);
    const jobs = await h.jobsNamed('swapped-under-the-run');
    expect(jobs).toHaveLength(1);
    const job = await h.c.bedrock.send(
      new GetModelCustomizationJobCommand({ jobIdentifier: jobs[0]?.jobArn }),
    );
    expect(job.trainingDataConfig?.s3Uri).toBe(trainedOn);
    const bytes = await (
      await h.c.s3.send(
        new GetObjectCommand({ Bucket: h.stack.outputBucket, Key: trainedOn.split('/').slice(3).join('/') }),
      )
    ).Body?.transformToString();
    expect(bytes).toBe(DATA);
    expect(
      createHash('sha256')
        .update(bytes ?? '')
        .digest('hex'),
    ).toBe(field(first.state, 'scan', 'sha256'));
  });

  it("the sidecar's validation data reaches Bedrock only as the guard's copy of what it judged", async () => {
    const validationKey = 'validation/judged validation.jsonl';
    await h.put(validationKey, DATA);
    const { run } = await h.drop('judged validation', DATA, { validationKey });
    expect(run.status).toBe('SUCCEEDED');
    const copy = String(field(run.state, 'scan', 'validation', 's3Uri'));
    expect(copy).toBe(
      `s3://${h.stack.outputBucket}/${h.stack.outputPrefix}runs/${run.name}/validation.jsonl`,
    );
    const job = await h.c.bedrock.send(
      new GetModelCustomizationJobCommand({ jobIdentifier: field(run.state, 'job', 'jobArn') }),
    );
    expect(job.validationDataConfig?.validators?.map((v) => v.s3Uri)).toEqual([copy]);
    expect(job.trainingDataConfig?.s3Uri?.startsWith(`s3://${h.stack.outputBucket}/`)).toBe(true);
    // A later change to the validation object does not reach this job's copy.
    await h.put(validationKey, 'changed\n');
    const kept = await h.c.s3.send(
      new GetObjectCommand({ Bucket: h.stack.outputBucket, Key: copy.split('/').slice(3).join('/') }),
    );
    expect(await kept.Body?.transformToString()).toBe(DATA);
  });
});
