/** The embedded Step Functions through the real SFN client: ASL semantics, task tokens, idempotency, history. */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { LocalEndpoint } from '../../local/core/server';
import { localClientConfig, startTestEndpoint } from '../../local/core/test-endpoint';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/core/types';
import { StepFunctionsService } from '../../local/services/stepfunctions';

const fn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
const ROLE = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/sfn`;

class ThrottledError extends Error {
  override name = 'ThrottledError';
}
class BucketNotCompliantError extends Error {
  override name = 'BucketNotCompliantError';
}

type Handler = (event: unknown) => Promise<unknown>;
const lambdas = new Map<string, Handler>();
const calls: Array<{ name: string; event: unknown }> = [];
const live: Array<{ arn: string; type: string | undefined }> = [];

let endpoint: LocalEndpoint;
let sfnService: StepFunctionsService;
let sfn: SFNClient;

beforeAll(async () => {
  sfnService = new StepFunctionsService({
    accountId: LOCAL_ACCOUNT_ID,
    region: LOCAL_REGION,
    timeScale: 0.001,
    invokeLambda: async (arn, event) => {
      const name = arn.split(':').pop() ?? '';
      calls.push({ name, event });
      const handler = lambdas.get(name);
      if (!handler) throw new Error(`no lambda ${name}`);
      return handler(event);
    },
    onHistoryEvent: (arn, e) => live.push({ arn, type: e.type }),
  });
  endpoint = await startTestEndpoint([sfnService]);
  sfn = new SFNClient(localClientConfig(endpoint.url));
});

afterAll(async () => {
  sfnService.close();
  sfn.destroy();
  await endpoint.close();
});

async function createMachine(name: string, definition: object): Promise<string> {
  const out = await sfn.send(
    new CreateStateMachineCommand({
      name,
      definition: JSON.stringify(definition),
      roleArn: ROLE,
      type: 'STANDARD',
    }),
  );
  return out.stateMachineArn!;
}

async function runToEnd(stateMachineArn: string, input: object, name?: string) {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), name }),
  );
  await sfnService.waitForExecution(executionArn!, 5000);
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

async function historyTypes(executionArn: string, reverseOrder = false): Promise<string[]> {
  const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder }));
  return (events ?? []).map((e: HistoryEvent) => e.type ?? '?');
}

/** Resolves once `predicate` holds (polled; the lambdas answer asynchronously). */
async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Lambda tasks: Retry on a named error, Catch into remediation, Fail', () => {
  let arn: string;
  beforeAll(async () => {
    arn = await createMachine('validate', {
      StartAt: 'Validate',
      States: {
        Validate: {
          Type: 'Task',
          Resource: fn('validate'),
          ResultPath: '$.validation',
          Retry: [
            {
              ErrorEquals: ['ThrottledError'],
              IntervalSeconds: 2,
              MaxAttempts: 3,
              BackoffRate: 2,
              MaxDelaySeconds: 5,
              JitterStrategy: 'FULL',
            },
          ],
          Catch: [{ ErrorEquals: ['BucketNotCompliantError'], ResultPath: '$.error', Next: 'Remediate' }],
          Next: 'Normalize',
        },
        // `"ResultPath": "$"` is mishandled by the library; the service strips it (same meaning on AWS).
        Normalize: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'normalize', 'Payload.$': '$' },
          ResultSelector: { 'n.$': '$.Payload.n', 'status.$': '$.StatusCode' },
          ResultPath: '$',
          Next: 'Pause',
        },
        // 60 s on AWS; timeScale 0.001 makes it 60 ms here.
        Pause: { Type: 'Wait', Seconds: 60, Next: 'Done' },
        Done: { Type: 'Succeed' },
        Remediate: { Type: 'Task', Resource: fn('remediate'), ResultPath: null, Next: 'Rejected' },
        Rejected: { Type: 'Fail', Error: 'BucketRejected', Cause: 'the training bucket is not compliant' },
      },
    });
    let throttles = 0;
    lambdas.set('validate', async (event) => {
      const bucket = (event as { bucket: string }).bucket;
      if (bucket === 'bad')
        throw new BucketNotCompliantError(`bucket ${bucket}: default encryption is not SSE-KMS`);
      if (throttles++ < 2) throw new ThrottledError('slow down');
      return { compliant: true };
    });
    lambdas.set('normalize', async () => ({ n: 42 }));
    lambdas.set('remediate', async () => ({ done: true }));
  });

  it('retries the named error with backoff and succeeds', async () => {
    calls.length = 0;
    const out = await runToEnd(arn, { bucket: 'good' });
    expect(out.status).toBe('SUCCEEDED');
    expect(JSON.parse(out.output!)).toEqual({ n: 42, status: 200 });
    expect(calls.filter((c) => c.name === 'validate')).toHaveLength(3);
    expect(calls.find((c) => c.name === 'normalize')?.event).toEqual({
      bucket: 'good',
      validation: { compliant: true },
    });
  });

  it('catches a handler error by its class name, the Lambda error JSON as Cause (as on AWS), then fails', async () => {
    calls.length = 0;
    const out = await runToEnd(arn, { bucket: 'bad' });
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('BucketRejected');
    expect(out.cause).toBe('the training bucket is not compliant');
    // The Node.js Lambda runtime answers a thrown error with {errorType, errorMessage, trace}, and
    // Step Functions keeps that JSON, as a string, as the Cause (Step Functions developer guide,
    // "Handling errors in Step Functions workflows": Lambda's error output).
    const remediated = calls.find((c) => c.name === 'remediate')?.event as {
      bucket: string;
      error: { Error: string; Cause: string };
    };
    expect(remediated.bucket).toBe('bad');
    expect(remediated.error.Error).toBe('BucketNotCompliantError');
    expect(JSON.parse(remediated.error.Cause)).toEqual({
      errorType: 'BucketNotCompliantError',
      errorMessage: 'bucket bad: default encryption is not SSE-KMS',
      trace: expect.arrayContaining([expect.stringContaining('BucketNotCompliantError')]),
    });
    const types = await historyTypes(out.executionArn!);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'TaskStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
  });

  it('records AWS-shaped history, newest first on request, and reports it live', async () => {
    const out = await runToEnd(arn, { bucket: 'good' });
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: out.executionArn }));
    const all = events ?? [];
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(all[0]?.previousEventId).toBe(0);
    expect(all[0]?.executionStartedEventDetails?.input).toBe('{"bucket":"good"}');
    expect(all[1]?.stateEnteredEventDetails).toMatchObject({ name: 'Validate', input: '{"bucket":"good"}' });
    const scheduled = all.find((e) => e.type === 'TaskScheduled');
    expect(scheduled?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
    });
    expect(all.map((e) => e.type)).toContain('WaitStateExited');
    expect(all.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(all.at(-1)?.executionSucceededEventDetails?.output).toBe('{"n":42,"status":200}');
    expect(all.every((e) => e.timestamp instanceof Date)).toBe(true);

    const reversed = await historyTypes(out.executionArn!, true);
    expect(reversed[0]).toBe('ExecutionSucceeded');
    expect(reversed.at(-1)).toBe('ExecutionStarted');
    expect(live.filter((l) => l.arn === out.executionArn).map((l) => l.type)).toEqual(all.map((e) => e.type));
  });
});

describe('.waitForTaskToken', () => {
  let arn: string;
  let flakyFailures = 0;
  const tokens: string[] = [];
  beforeAll(async () => {
    arn = await createMachine('wait-for-job', {
      StartAt: 'WaitForJob',
      States: {
        WaitForJob: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: {
            FunctionName: fn('waitForJob'),
            Payload: { 'token.$': '$$.Task.Token', 'mode.$': '$.mode', 'execution.$': '$$.Execution.Id' },
          },
          TimeoutSeconds: 1,
          ResultPath: '$.job',
          Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 1, MaxAttempts: 1 }],
          Catch: [
            { ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'Poll' },
            { ErrorEquals: ['CustomizationJobFailedError'], ResultPath: '$.failure', Next: 'JobFailed' },
          ],
          Next: 'Done',
        },
        Poll: { Type: 'Pass', Result: 'polled', ResultPath: '$.poll', Next: 'Done' },
        Done: { Type: 'Succeed' },
        JobFailed: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' },
      },
    });
    // The "waitForJob" lambda stores the token; another "lambda" (onJobStateChange) answers through the API.
    lambdas.set('waitForJob', async (event) => {
      const { token, mode } = event as { token: string; mode: string };
      tokens.push(token);
      const answer = async () => {
        if (mode === 'complete')
          await sfn.send(
            new SendTaskSuccessCommand({
              taskToken: token,
              output: JSON.stringify({ jobStatus: 'Completed' }),
            }),
          );
        if (mode === 'fail')
          await sfn.send(
            new SendTaskFailureCommand({
              taskToken: token,
              error: 'CustomizationJobFailedError',
              cause: 'loss diverged',
            }),
          );
        if (mode === 'flaky') {
          if (flakyFailures++ === 0)
            await sfn.send(
              new SendTaskFailureCommand({ taskToken: token, error: 'TransientError', cause: 'try again' }),
            );
          else
            await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '"second time lucky"' }));
        }
      };
      setTimeout(() => void answer(), 10);
      return { accepted: true };
    });
  });

  it('SendTaskSuccess completes the task with its output', async () => {
    const out = await runToEnd(arn, { mode: 'complete' });
    expect(out.status).toBe('SUCCEEDED');
    expect(JSON.parse(out.output!)).toEqual({ mode: 'complete', job: { jobStatus: 'Completed' } });
    const payload = calls.filter((c) => c.name === 'waitForJob').at(-1)?.event as Record<string, string>;
    expect(payload.execution).toBe(out.executionArn);
    expect(payload.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const types = await historyTypes(out.executionArn!);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    // The task is closed: its token now answers TaskTimedOut.
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: payload.token, output: '{}' })),
    ).rejects.toMatchObject({ name: 'TaskTimedOut', $metadata: { httpStatusCode: 400 } });
  });

  it('SendTaskFailure raises the named error into Catch', async () => {
    const out = await runToEnd(arn, { mode: 'fail' });
    expect(out).toMatchObject({
      status: 'FAILED',
      error: 'CustomizationJobFailedError',
      cause: 'loss diverged',
    });
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: out.executionArn }));
    expect(events?.find((e) => e.type === 'TaskFailed')?.taskFailedEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      error: 'CustomizationJobFailedError',
      cause: 'loss diverged',
    });
  });

  it('Retry gets a fresh token per attempt', async () => {
    tokens.length = 0;
    const out = await runToEnd(arn, { mode: 'flaky' });
    expect(out.status).toBe('SUCCEEDED');
    expect(JSON.parse(out.output!).job).toBe('second time lucky');
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(2);
  });

  it('TimeoutSeconds raises States.Timeout; the token then answers TaskTimedOut', async () => {
    tokens.length = 0;
    const started = Date.now();
    const out = await runToEnd(arn, { mode: 'silent' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(out.status).toBe('SUCCEEDED');
    expect(JSON.parse(out.output!)).toMatchObject({ poll: 'polled', timeout: { Error: 'States.Timeout' } });
    expect(await historyTypes(out.executionArn!)).toContain('TaskTimedOut');
    const [token] = tokens;
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    ).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('unknown tokens answer TaskDoesNotExist; non-JSON output answers InvalidOutput', async () => {
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: 'bm9wZQ', output: '{}' })),
    ).rejects.toMatchObject({ name: 'TaskDoesNotExist', $metadata: { httpStatusCode: 400 } });
    await expect(
      sfn.send(new SendTaskFailureCommand({ taskToken: 'bm9wZQ', error: 'X' })),
    ).rejects.toMatchObject({ name: 'TaskDoesNotExist' });

    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{"mode":"manual"}' }),
    );
    const payloadOf = () =>
      calls
        .map((c) => c.event as { execution?: string; token?: string })
        .find((e) => e.execution === executionArn);
    await until(() => payloadOf() !== undefined);
    const token = payloadOf()?.token ?? '';
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: 'not json' })),
    ).rejects.toMatchObject({ name: 'InvalidOutput' });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"late":false}' }));
    expect((await sfnService.waitForExecution(executionArn!, 2000)).status).toBe('SUCCEEDED');
  });
});

describe('less common task behaviour', () => {
  it('HeartbeatSeconds: a task that hears nothing in time raises States.HeartbeatTimeout', async () => {
    const arn = await createMachine('heartbeat', {
      StartAt: 'Train',
      States: {
        Train: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'beat', Payload: { 'token.$': '$$.Task.Token' } },
          HeartbeatSeconds: 1,
          TimeoutSeconds: 10,
          End: true,
        },
      },
    });
    lambdas.set('beat', async () => ({}));
    const started = Date.now();
    const out = await runToEnd(arn, {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(out).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
    expect(await historyTypes(out.executionArn!)).toContain('TaskTimedOut');
  });

  it('a Lambda may answer its own token before it returns', async () => {
    const arn = await createMachine('self-answer', {
      StartAt: 'Check',
      States: {
        Check: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'selfAnswer', Payload: { 'token.$': '$$.Task.Token', 'ok.$': '$.ok' } },
          End: true,
        },
      },
    });
    lambdas.set('selfAnswer', async (event) => {
      const { token, ok } = event as { token: string; ok: boolean };
      // e.g. WaitForJob finding the job already terminal answers at once, then returns.
      if (ok)
        await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"jobStatus":"Completed"}' }));
      else
        await sfn.send(
          new SendTaskFailureCommand({
            taskToken: token,
            error: 'CustomizationJobFailedError',
            cause: 'already failed',
          }),
        );
      return { answered: true };
    });
    const good = await runToEnd(arn, { ok: true });
    expect(good).toMatchObject({ status: 'SUCCEEDED', output: '{"jobStatus":"Completed"}' });
    const bad = await runToEnd(arn, { ok: false });
    expect(bad).toMatchObject({
      status: 'FAILED',
      error: 'CustomizationJobFailedError',
      cause: 'already failed',
    });
    expect(await historyTypes(bad.executionArn!)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskFailed',
      'ExecutionFailed',
    ]);
  });

  it("lambdaErrorCause 'message' keeps only the message as Cause (the default is AWS's JSON)", async () => {
    const svc = new StepFunctionsService({
      accountId: LOCAL_ACCOUNT_ID,
      region: LOCAL_REGION,
      lambdaErrorCause: 'message',
      invokeLambda: async () => {
        throw new BucketNotCompliantError('no bucket key');
      },
    });
    const ep = await startTestEndpoint([svc]);
    const client = new SFNClient(localClientConfig(ep.url));
    try {
      const { stateMachineArn } = await client.send(
        new CreateStateMachineCommand({
          name: 'aws-cause',
          roleArn: ROLE,
          definition: JSON.stringify({
            StartAt: 'V',
            States: { V: { Type: 'Task', Resource: fn('validate'), End: true } },
          }),
        }),
      );
      const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
      const out = await svc.waitForExecution(executionArn!, 2000);
      expect(out.error).toBe('BucketNotCompliantError');
      expect(out.cause).toBe('no bucket key');
    } finally {
      client.destroy();
      await ep.close();
    }
  });
});

describe('executions: idempotent names, stop, listing, restore', () => {
  const hold = {
    StartAt: 'Hold',
    States: {
      Hold: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'hold', Payload: { 'token.$': '$$.Task.Token' } },
        End: true,
      },
    },
  };
  let arn: string;
  beforeAll(async () => {
    arn = await createMachine('hold', hold);
    lambdas.set('hold', async () => ({}));
  });

  it('same name + same input while RUNNING returns the same execution; otherwise ExecutionAlreadyExists', async () => {
    const first = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'file-abc123', input: '{"key":"a.jsonl"}' }),
    );
    const again = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'file-abc123', input: '{"key":"a.jsonl"}' }),
    );
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());
    await expect(
      sfn.send(
        new StartExecutionCommand({ stateMachineArn: arn, name: 'file-abc123', input: '{"key":"b.jsonl"}' }),
      ),
    ).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
      $metadata: { httpStatusCode: 400 },
    });

    await sfn.send(
      new StopExecutionCommand({
        executionArn: first.executionArn,
        error: 'Operator',
        cause: 'stopped by test',
      }),
    );
    const stopped = await sfn.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by test' });
    expect(stopped.stopDate).toBeInstanceOf(Date);
    await expect(
      sfn.send(
        new StartExecutionCommand({ stateMachineArn: arn, name: 'file-abc123', input: '{"key":"a.jsonl"}' }),
      ),
    ).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
  });

  it('validates names and state machines', async () => {
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'has space' })),
    ).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{' })),
    ).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
    await expect(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:nope`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:hold:nope`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    const auto = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    expect(auto.executionArn).toMatch(/:execution:hold:[0-9a-f-]{36}$/);
  });

  it('CreateStateMachine is idempotent, rejects a conflicting definition and invalid ASL', async () => {
    const definition = JSON.stringify(hold);
    const same = await sfn.send(new CreateStateMachineCommand({ name: 'hold', definition, roleArn: ROLE }));
    expect(same.stateMachineArn).toBe(arn);
    await expect(
      sfn.send(
        new CreateStateMachineCommand({
          name: 'hold',
          definition: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}',
          roleArn: ROLE,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'StateMachineAlreadyExists',
    });
    await expect(
      sfn.send(new CreateStateMachineCommand({ name: 'broken', definition: '{"StartAt":', roleArn: ROLE })),
    ).rejects.toMatchObject({ name: 'InvalidDefinition' });
    await expect(
      sfn.send(
        new CreateStateMachineCommand({
          name: 'broken',
          definition: '{"StartAt":"Nowhere","States":{}}',
          roleArn: ROLE,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidDefinition',
    });
  });

  it('lists executions newest first with a status filter and pagination', async () => {
    const a = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'list-a' }));
    await new Promise((r) => setTimeout(r, 5));
    const b = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'list-b' }));
    const running = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING' }),
    );
    const arns = running.executions?.map((e) => e.executionArn) ?? [];
    expect(arns.indexOf(b.executionArn)).toBeLessThan(arns.indexOf(a.executionArn));
    expect(running.executions?.every((e) => e.status === 'RUNNING')).toBe(true);
    const aborted = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'ABORTED' }),
    );
    expect(aborted.executions?.map((e) => e.name)).toEqual(['file-abc123']);
    const page1 = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 1 }));
    expect(page1.executions).toHaveLength(1);
    const page2 = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 1, nextToken: page1.nextToken }),
    );
    expect(page2.executions?.[0]?.executionArn).not.toBe(page1.executions?.[0]?.executionArn);
  });

  it('snapshot/restore keeps machines and history; running executions come back ABORTED', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'interrupted' }),
    );
    await until(() => sfnService.historyOf(executionArn!).some((e) => e.type === 'TaskSubmitted'));
    const state = JSON.parse(JSON.stringify(sfnService.snapshot()));
    const restarted = new StepFunctionsService({
      accountId: LOCAL_ACCOUNT_ID,
      region: LOCAL_REGION,
      invokeLambda: async () => ({}),
    });
    restarted.restore(state);
    const after = restarted.describeExecution(executionArn!);
    expect(after).toMatchObject({ status: 'ABORTED', cause: 'embedded AWS restarted' });
    expect(restarted.historyOf(executionArn!).map((e) => e.type)).toContain('TaskSubmitted');
    expect(restarted.historyOf(executionArn!).at(-1)?.type).toBe('ExecutionAborted');
    expect(restarted.listExecutionsOf(arn).length).toBe(sfnService.listExecutionsOf(arn).length);
    const closed = restarted.listExecutionsOf(arn).find((e) => e.name === 'file-abc123');
    expect(closed?.startDate).toBeInstanceOf(Date);
  });
});
