/** One embedded AWS with the stack deployed, and the moves an e2e test makes on it. */
import { ListModelCustomizationJobsCommand } from '@aws-sdk/client-bedrock';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { cliClients } from '../../../cli/lib/clients';
import { loadRun } from '../../../cli/lib/run-view';
import { executionArnFor, executionNameFor } from '../../../functions/shared/naming';
import { EmbeddedAws, type EmbeddedAwsOptions } from '../../../local/embedded';

/**
 * One record in the format of the stack's default model (Nova: bedrock-conversation-2024),
 * written as the prompt/completion the tests have always used: `Customer: … \nAgent:` becomes
 * the user turn, the completion the assistant's.
 */
export function chat(prompt: string, completion: string) {
  const question = prompt.replace(/^Customer:\s*/, '').replace(/\s*Agent:\s*$/, '');
  return {
    schemaVersion: 'bedrock-conversation-2024',
    messages: [
      { role: 'user', content: [{ text: question }] },
      { role: 'assistant', content: [{ text: completion.trim() }] },
    ],
  };
}

/** Plain records that bring a small dataset up to the default model's minimum (8 for Nova). */
export const FILLER = [
  chat('Customer: Do you ship abroad?\nAgent:', ' Yes, to most countries in Europe and North America.'),
  chat('Customer: Can I change my delivery address?\nAgent:', ' Yes, until the parcel leaves our warehouse.'),
  chat('Customer: How long is the warranty?\nAgent:', ' Two years on every device, one year on cables.'),
  chat('Customer: Where do I find my invoice?\nAgent:', ' Under Orders, next to each order.'),
  chat('Customer: Can I pay in instalments?\nAgent:', ' Yes, in three payments at checkout.'),
];

export const DATA = `${[
  chat(
    'Customer: My lamp flickers. What should I do?\nAgent:',
    ' Tighten the bulb and check the dimmer setting.',
  ),
  chat(
    'Customer: How do I reset my router?\nAgent:',
    ' Hold the reset button for ten seconds until the light turns white.',
  ),
  chat(
    'Customer: My order arrived damaged.\nAgent:',
    ' Sorry about that; request a replacement from the Orders page.',
  ),
  ...FILLER,
]
  .map((r) => JSON.stringify(r))
  .join('\n')}\n`;

/** DATA plus one record holding a (fake) AWS access key id, which the guard blocks at 'high'. */
export const LEAKY = `${DATA}${JSON.stringify(chat('Customer: my key is AKIAZ7Q3XK2M4PLN8WRT, is that OK?\nAgent:', ' Please rotate it now.'))}\n`;

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * Stage parameters of the tests, beside the harness's 2 s poll: each set is packaged once before
 * the workers start (test/global-setup.js), so keep their number small.
 */
export const TEST_PARAMS = {
  /** Dying lease and slot holders, quota refusals: leases and the quota cap that end in seconds. */
  shortLeases: { keyLeaseSeconds: '2', slotLeaseSeconds: '2', quotaRetrySeconds: '1' },
  /** The key bootstrap of earlier versions (every first run creates a key), kept for comparison. */
  aliasRace: { keyBootstrap: 'alias-race' },
  /**
   * A 10 s poll for runs that must be resumed by the job's event (dropResumedByEvent, and the
   * event tests of reliability-events): on a loaded machine the harness's 2 s WaitForJob timeout
   * can fire before the event is handled.
   */
  eventPath: { pollIntervalSeconds: '10' },
} as const;

/** The parameters the harness deploys with: its 2 s poll, then the test's own. */
export function harnessParams(params: Record<string, string> = {}): Record<string, string> {
  return { pollIntervalSeconds: '2', ...params };
}

/**
 * Every embedded AWS this test file started and has not stopped, with its start (which may still
 * be running when a hook timed out). The e2e test environment (test/e2e/support/environment.js)
 * stops the leftovers once the file's own hooks have run, so that no server, timer or DynamoDB
 * sweep outlives its test file and fails a later one.
 */
const live = new Map<EmbeddedAws, Promise<unknown>>();

export async function stopLeftoverHarnesses(): Promise<number> {
  const leftovers = [...live.entries()];
  live.clear();
  for (const [aws, started] of leftovers) {
    await started.catch(() => undefined);
    await aws.stop();
  }
  return leftovers.length;
}

(globalThis as Record<string, unknown>).__tunevaultStopLeftoverHarnesses = stopLeftoverHarnesses;

export async function startHarness(options: EmbeddedAwsOptions = {}) {
  const jobDurationMs = options.jobDurationMs ?? 300;
  const aws = new EmbeddedAws({
    port: 0,
    jobDurationMs,
    timeScale: 0.01,
    logLevel: 'SILENT',
    ...options,
    params: harnessParams(options.params),
  });
  const starting = aws.start();
  live.set(aws, starting);
  const stack = await starting;
  const c = cliClients(aws.url);

  async function put(key: string, body: string | Buffer, bucket = stack.trainingBucket) {
    await c.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const head = await c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { bucket, key, versionId: head.VersionId, etag: head.ETag };
  }

  function executionArnOf(o: {
    bucket: string;
    key: string;
    versionId?: string | undefined;
    etag?: string | undefined;
  }) {
    return executionArnFor(stack.stateMachineArn, executionNameFor(o));
  }

  /**
   * Waits for the execution to exist (the S3 trigger is asynchronous), then for it to close.
   * 90 s: a run takes seconds here, but a full `npm test` on a 2-core machine shared with other
   * work took more than 30 s for some (jest's testTimeout, 120 s, still ends a hung one).
   */
  async function finished(executionArn: string, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        aws.sfn.describeExecution(executionArn);
        break;
      } catch {
        if (Date.now() > deadline)
          throw new Error(
            `no execution ${executionArn}; async failures: ${JSON.stringify(aws.failedAsyncInvocations())}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await aws.sfn.waitForExecution(executionArn, timeoutMs);
    return loadRun(c.sfn, executionArn);
  }

  /** Drops a dataset (and its sidecar first) into the training prefix; resolves with its closed run. */
  async function drop(name: string, body = DATA, sidecar?: Record<string, unknown>) {
    const key = `${stack.trainingPrefix}${name}.jsonl`;
    if (sidecar) await put(`${stack.trainingPrefix}${name}.job.json`, JSON.stringify(sidecar));
    const object = await put(key, body);
    const executionArn = executionArnOf(object);
    return { object, executionArn, run: await finished(executionArn) };
  }

  /**
   * Drops a dataset whose Bedrock job ends only once the run is parked in WaitForJob (its task
   * token submitted, so registered): the job's end event then resumes the run, on a machine of
   * any speed. With a timed job, a loaded machine can take longer to reach the wait than the job
   * takes (the wait then finds it ended: `resumedBy: 'register'`). Needs a poll interval longer
   * than the wait's own way there (TEST_PARAMS.eventPath), or the first WaitForJob times out.
   */
  async function dropResumedByEvent(name: string, body = DATA, sidecar?: Record<string, unknown>) {
    aws.bedrock.setJobDuration(24 * 3600_000);
    try {
      const key = `${stack.trainingPrefix}${name}.jsonl`;
      if (sidecar) await put(`${stack.trainingPrefix}${name}.job.json`, JSON.stringify(sidecar));
      const object = await put(key, body);
      const executionArn = executionArnOf(object);
      const deadline = Date.now() + 90_000;
      for (let jobArn: string | undefined; ; await new Promise((r) => setTimeout(r, 50))) {
        const history = (() => {
          try {
            return aws.sfn.historyOf(executionArn);
          } catch {
            return []; // the S3 trigger has not started it yet
          }
        })();
        const wait = history.findLastIndex(
          (e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'WaitForJob',
        );
        // Not in WaitForJob yet (slice(-1) would read the last event of another state).
        const since = wait < 0 ? [] : history.slice(wait);
        const scheduled = since.find((e) => e.type === 'TaskScheduled');
        jobArn ??= scheduled
          ? (
              JSON.parse(scheduled.taskScheduledEventDetails?.parameters ?? '{}') as {
                Payload?: { jobArn?: string };
              }
            ).Payload?.jobArn
          : undefined;
        if (jobArn && since.some((e) => e.type === 'TaskSubmitted')) {
          await aws.bedrock.completeNow(jobArn);
          break;
        }
        const started = history.length > 0;
        if (
          (started && aws.sfn.describeExecution(executionArn).status !== 'RUNNING') ||
          Date.now() > deadline
        )
          break;
      }
      return { object, executionArn, run: await finished(executionArn) };
    } finally {
      aws.bedrock.setJobDuration(jobDurationMs);
    }
  }

  async function jobsNamed(fragment: string) {
    const out = await c.bedrock.send(new ListModelCustomizationJobsCommand({ nameContains: fragment }));
    return out.modelCustomizationJobSummaries ?? [];
  }

  return {
    aws,
    stack,
    c,
    put,
    drop,
    dropResumedByEvent,
    finished,
    executionArnOf,
    jobsNamed,
    notifications: (detailType?: string) =>
      aws.events.events({ source: 'tunevault', ...(detailType ? { detailType } : {}) }),
    statesEntered: (run: { timeline: { name: string }[] }) => run.timeline.map((s) => s.name),
    stop: async () => {
      if (!live.delete(aws)) return;
      await aws.stop();
    },
  };
}

export type ExecutionStatus = DescribeExecutionCommandOutput['status'];

/** A harness whose first run has created the key and loaded every function. */
export async function startWarmHarness(options: EmbeddedAwsOptions = {}): Promise<Harness> {
  const h = await startHarness(options);
  const { run } = await h.drop('warm up');
  if (run.status !== 'SUCCEEDED')
    throw new Error(`warm-up run ended ${run.status}: ${run.error ?? ''} ${run.cause ?? ''}`);
  return h;
}
