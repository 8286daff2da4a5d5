/**
 * Bedrock's job-state events are best effort: they may be lost, repeated or out of order. A lost
 * event costs at most one poll interval; a repeated or late one resumes nothing twice and
 * surfaces no error anywhere (no failed Lambda invocation, no failed execution).
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { field } from '../../cli/lib/run-view';
import { DATA, type Harness, startWarmHarness, TEST_PARAMS } from './support/embedded';

/**
 * 10 s: longer than a job of EVENT_JOB_MS plus its event's way to the run (Lambda, DynamoDB claim,
 * SendTaskSuccess) on a busy machine — with 2 s, a full suite under load saw the poll win.
 */
const POLL_INTERVAL_MS = Number(TEST_PARAMS.eventPath.pollIntervalSeconds) * 1000;
const BEDROCK = { source: 'aws.bedrock', detailType: 'Model Customization Job State Change' };

let h: Harness;

beforeAll(async () => {
  // The first run creates the key and loads every function, so the cases below are quick.
  h = await startWarmHarness({ params: TEST_PARAMS.eventPath });
});
afterAll(async () => {
  await h?.stop();
});
afterEach(() => h.aws.bedrock.setJobDuration(JOB_MS));

/**
 * Job lengths. The harness's is 300 ms. On a busy machine the steps between the job's submission
 * and WaitForJob took longer than that, and a job that has ended when the wait begins is answered
 * at once, by neither path under test. EVENT_JOB_MS ends early in the first wait, so its event
 * ends the wait; LOST_JOB_MS outlasts the steps before the wait, so the run must poll.
 */
const JOB_MS = 300;
const EVENT_JOB_MS = 1_500;
const LOST_JOB_MS = 5_000;

/** Lambda invocations and async deliveries from here on must all succeed. */
function watchErrors() {
  const invocations = h.aws.lambda.invocations.length;
  const asyncFailures = h.aws.failedAsyncInvocations().length;
  const deliveries = h.aws.events.deliveries().length;
  return () => ({
    failedInvocations: h.aws.lambda.invocations.slice(invocations).filter((i) => i.errorName),
    failedAsync: h.aws.failedAsyncInvocations().slice(asyncFailures),
    failedDeliveries: h.aws.events
      .deliveries()
      .slice(deliveries)
      .filter((d) => d.status !== 'delivered'),
  });
}

const noErrors = { failedInvocations: [], failedAsync: [], failedDeliveries: [] };

async function taskEvents(executionArn: string) {
  const out = await h.c.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return (out.events ?? []).map((e) => e.type);
}

const jobEventsOf = (jobName: string) =>
  h.aws.events
    .history()
    .filter(
      (r) =>
        r.envelope.source === BEDROCK.source &&
        (r.envelope.detail as { jobName?: string }).jobName === jobName,
    );

describe('Bedrock job-state events', () => {
  it('lost: the poll completes the run within one poll interval of the job ending', async () => {
    const errors = watchErrors();
    // The job's two events (InProgress at creation, Completed at the end) never arrive.
    h.aws.events.dropNext(2, BEDROCK);
    h.aws.bedrock.setJobDuration(LOST_JOB_MS);

    const { run } = await h.drop('events lost');

    expect(run.status).toBe('SUCCEEDED');
    expect(h.statesEntered(run)).toContain('CheckCustomizationJob');
    expect(field(run.state, 'jobResult', 'resumedBy')).toBe('poll');
    const jobArn = field(run.state, 'job', 'jobArn');
    const job = await h.c.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    // "At most one poll interval", by the run's structure rather than a stopwatch: WaitForJob
    // times out after the poll interval, and the poll that completed the run is the first one
    // after the job ended (every earlier poll, if any, came before the end and saw it running).
    // The wait's timeout as the execution ran it: the TaskScheduled event of WaitForJob carries
    // it (TaskScheduledEventDetails.timeoutInSeconds, Step Functions API reference).
    const history = await h.c.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: run.executionArn, maxResults: 1000 }),
    );
    let state: string | undefined;
    const waitTimeouts: (number | undefined)[] = [];
    for (const e of history.events ?? []) {
      if (e.stateEnteredEventDetails?.name) state = e.stateEnteredEventDetails.name;
      if (e.type === 'TaskScheduled' && state === 'WaitForJob')
        waitTimeouts.push(e.taskScheduledEventDetails?.timeoutInSeconds);
    }
    expect(waitTimeouts.length).toBeGreaterThan(0);
    expect(waitTimeouts.every((t) => t === POLL_INTERVAL_MS / 1000)).toBe(true);
    const endedAt = job.endTime?.getTime() ?? Number.NaN;
    const polls = run.timeline.filter((s) => s.name === 'CheckCustomizationJob').map((s) => s.enteredAt);
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.slice(0, -1).every((at) => at < endedAt)).toBe(true);
    expect(polls[polls.length - 1]).toBeGreaterThanOrEqual(endedAt);
    const jobEvents = jobEventsOf(field(run.state, 'job', 'jobName') ?? '');
    expect(jobEvents.map((r) => r.dropped)).toEqual([true, true]);
    expect(errors()).toEqual(noErrors);
  });

  it('delivered twice: one resume, no error surfaced', async () => {
    const errors = watchErrors();
    h.aws.events.duplicateNext(2, BEDROCK);
    h.aws.bedrock.setJobDuration(EVENT_JOB_MS);
    const onJobStateChange = h.stack.functions.find((f) => f.key === 'onJobStateChange')?.name;
    const invocationsBefore = h.aws.lambda.invocations.length;

    const { run } = await h.drop('events twice');
    await h.aws.events.idle();

    expect(run.status).toBe('SUCCEEDED');
    expect(field(run.state, 'jobResult', 'resumedBy')).toBe('event');
    expect(h.statesEntered(run).filter((s) => s === 'WaitForJob')).toHaveLength(1);
    const history = await taskEvents(run.executionArn);
    // Each task token was answered once: AdmitJob's (its job slot) and WaitForJob's (the job).
    expect(history.filter((t) => t === 'TaskSucceeded')).toHaveLength(2);
    expect(history.filter((t) => t === 'TaskFailed')).toHaveLength(0);
    const jobEvents = jobEventsOf(field(run.state, 'job', 'jobName') ?? '');
    expect(
      jobEvents.map((r) => [(r.envelope.detail as { jobStatus: string }).jobStatus, r.duplicated]),
    ).toEqual([
      ['InProgress', true],
      ['Completed', true],
    ]);
    // Each event reached the function twice, and every invocation succeeded.
    const handled = h.aws.lambda.invocations
      .slice(invocationsBefore)
      .filter((i) => i.functionName === onJobStateChange);
    expect(handled).toHaveLength(4);
    expect(errors()).toEqual(noErrors);
  });

  it('InProgress arriving after Completed: ignored, one resume, no error surfaced', async () => {
    const errors = watchErrors();
    // Hold the job's first event back, then deliver it just after the Completed one.
    h.aws.events.dropNext(1, BEDROCK);
    h.aws.bedrock.setJobDuration(EVENT_JOB_MS);
    const jobName = (key: string) =>
      h.aws.events.history().find((r) => (r.envelope.detail as { jobName?: string }).jobName?.includes(key));
    const replayLate = (async () => {
      for (;;) {
        const held = jobName('late-in-progress');
        const completed = held
          ? jobEventsOf((held.envelope.detail as { jobName: string }).jobName).find(
              (r) => (r.envelope.detail as { jobStatus: string }).jobStatus === 'Completed',
            )
          : undefined;
        if (held && completed) {
          await h.aws.events.putEvents([
            {
              Source: held.envelope.source,
              DetailType: held.envelope['detail-type'],
              Detail: JSON.stringify(held.envelope.detail),
              Resources: held.envelope.resources,
            },
          ]);
          return held;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const { run } = await h.drop('late in progress', DATA);
    const held = await replayLate;
    await h.aws.events.idle();
    await h.aws.lambda.idle();

    expect((held.envelope.detail as { jobStatus: string }).jobStatus).toBe('InProgress');
    expect(run.status).toBe('SUCCEEDED');
    expect(field(run.state, 'jobResult', 'resumedBy')).toBe('event');
    expect(h.statesEntered(run).filter((s) => s === 'WaitForJob')).toHaveLength(1);
    const statuses = jobEventsOf(field(run.state, 'job', 'jobName') ?? '')
      .filter((r) => !r.dropped)
      .map((r) => (r.envelope.detail as { jobStatus: string }).jobStatus);
    expect(statuses).toEqual(['Completed', 'InProgress']);
    expect(errors()).toEqual(noErrors);
  });
});
