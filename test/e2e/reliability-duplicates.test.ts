/**
 * Nothing runs twice: S3 delivers ObjectCreated at least once, so the same event may arrive many
 * times, some at once. One object version must give one execution and one Bedrock job.
 */
import { createHash } from 'node:crypto';
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { field } from '../../cli/lib/run-view';
import type { ObjectCreatedNotice } from '../../local/services/s3/notifications';
import { clientRequestTokenFor, executionNameFor } from '../../functions/shared/naming';
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

/** Uploads the data and returns the object version with the ObjectCreated event S3 delivered for it. */
async function uploadCapturingEvent(key: string, body = DATA) {
  const seen: ObjectCreatedNotice[] = [];
  const stopWatching = h.aws.s3.onObjectCreated((n) => seen.push(n));
  const object = await h.put(key, body);
  stopWatching();
  const event = seen.find((n) => n.key === key && n.versionId === object.versionId)?.deliveries[0]?.event;
  if (!event) throw new Error(`no ObjectCreated event seen for ${key}`);
  return { object, event };
}

type StartAnswer = { outcomes: { key: string; outcome: string; executionArn?: string }[] };

describe('README "Nothing runs twice": duplicate S3 deliveries', () => {
  it('50 deliveries of one ObjectCreated event, 25 during the run (many at once) and 25 after it, start one execution and one job', async () => {
    const key = `${h.stack.trainingPrefix}dup delivery.jsonl`;
    const before = startInvocations().length;
    const allBefore = (await executionsFor(key, [])).all.length;
    const { object, event } = await uploadCapturingEvent(key);

    // While the run is in flight: 1 original delivery + 12 redeliveries by S3 + 12 direct
    // invocations, all concurrent. Step Functions answers a StartExecution with a running
    // execution's name and input with that execution, so these may all read "started".
    const during = Array.from({ length: 12 }, () => h.aws.lambda.invoke(startFunction().arn, event));
    const [redelivered, duringAnswers] = await Promise.all([
      h.aws.s3.redeliver(object.bucket, object.key, 12),
      Promise.all(during),
    ]);
    expect(redelivered).toBe(12);
    const run = await h.finished(h.executionArnOf(object));
    expect(run.status).toBe('SUCCEEDED');
    for (const a of duringAnswers as StartAnswer[])
      expect(a.outcomes).toEqual([
        {
          key,
          outcome: expect.stringMatching(/^(started|already-started)$/),
          executionArn: run.executionArn,
        },
      ]);

    // After it closed: the name is taken (ExecutionAlreadyExists), so the duplicate branch runs.
    const after = await Promise.all(
      Array.from({ length: 13 }, () => h.aws.lambda.invoke(startFunction().arn, event)),
    );
    expect(await h.aws.s3.redeliver(object.bucket, object.key, 12)).toBe(12);
    await h.aws.s3.notificationsSettled();
    await h.aws.lambda.idle();
    for (const a of after as StartAnswer[])
      expect(a.outcomes).toEqual([{ key, outcome: 'already-started', executionArn: run.executionArn }]);

    const invocations = startInvocations().slice(before);
    expect(invocations).toHaveLength(50);
    expect(invocations.filter((i) => i.errorName)).toEqual([]);
    const { ours, all } = await executionsFor(key, [object]);
    expect(ours).toHaveLength(1);
    expect(all.length - allBefore).toBe(1);
    expect(await h.jobsNamed('dup-delivery')).toHaveLength(1);
  });

  it('a replay after the run completed starts nothing new', async () => {
    const key = `${h.stack.trainingPrefix}replayed later.jsonl`;
    const { object, event } = await uploadCapturingEvent(key);
    const run = await h.finished(h.executionArnOf(object));
    expect(run.status).toBe('SUCCEEDED');
    const executionsBefore = (await executionsFor(key, [])).all.length;

    await h.aws.s3.redeliver(object.bucket, object.key, 5);
    const answer = (await h.aws.lambda.invoke(startFunction().arn, event)) as StartAnswer;
    await h.aws.s3.notificationsSettled();
    await h.aws.lambda.idle();

    expect(answer.outcomes).toEqual([{ key, outcome: 'already-started', executionArn: run.executionArn }]);
    expect((await executionsFor(key, [])).all.length).toBe(executionsBefore);
    expect(await h.jobsNamed('replayed-later')).toHaveLength(1);
    expect(startInvocations().filter((i) => i.errorName)).toEqual([]);
  });

  it('two executions forced for one object version make one Bedrock job: the second submission reuses the clientRequestToken', async () => {
    const key = `${h.stack.trainingPrefix}forced twice.jsonl`;
    const op = 'bedrock:CreateModelCustomizationJob';
    const callsBefore = h.aws.faults.calls.get(op) ?? 0;
    const object = await h.put(key, DATA);
    const first = h.executionArnOf(object);
    await h.finished(first);
    // A second execution of the same version under another name, as a manual restart or a
    // lost idempotency key upstream would make: its job must be the first one's.
    const { input } = await h.c.sfn.send(new DescribeExecutionCommand({ executionArn: first }));
    const forced = await h.c.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: h.stack.stateMachineArn,
        name: `${executionNameFor(object).slice(0, 70)}-forced`,
        input,
      }),
    );
    const [a, b] = await Promise.all([h.finished(first), h.finished(forced.executionArn ?? '')]);

    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(field(b.state, 'job', 'jobArn')).toBe(field(a.state, 'job', 'jobArn'));
    const token = clientRequestTokenFor(object);
    expect([
      field(a.state, 'job', 'clientRequestToken'),
      field(b.state, 'job', 'clientRequestToken'),
    ]).toEqual([token, token]);
    // Both runs asked Bedrock; Bedrock answered the second with the first job.
    expect((h.aws.faults.calls.get(op) ?? 0) - callsBefore).toBe(2);
    const jobs = await h.jobsNamed('forced-twice');
    expect(jobs).toHaveLength(1);
    const job = await h.c.bedrock.send(
      new GetModelCustomizationJobCommand({ jobIdentifier: jobs[0]?.jobArn }),
    );
    expect(job.clientRequestToken).toBe(token);
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
