/**
 * Task states: each try of a Task is an attempt with its own task token, recorded in the history
 * as AWS records it (LambdaFunction* for Lambda-ARN resources, Task* for service integrations),
 * and settled once — by its resource's answer, SendTaskSuccess / SendTaskFailure, a timeout or
 * the execution closing. The resource ARN decides what a task does: a Lambda function,
 * `lambda:invoke`, `.waitForTaskToken`, `events:putEvents`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';
import { asRecord } from '../../core/input';
import { AwsError, type InvokeLambda, type PutEvents } from '../../core/types';
import type { Store, StoredExecution } from './store';

export type JsonValue = Parameters<StateMachine['run']>[0];
export type RunHandle = ReturnType<StateMachine['run']>;
export type AslState = StateMachineDefinition['States'][string];
export type TaskState = Extract<AslState, { Type: 'Task' }>;

/** setTimeout's ceiling (2^31-1 ms): longer delays fire at once. */
export const MAX_TIMER_SECONDS = 2_147_483;

type Outcome = 'succeeded' | 'failed' | 'timedout' | 'aborted';

/** An error raised into the ASL: `name` is what Retry/Catch `ErrorEquals` match, `message` the Cause. */
export class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** One try of one Task state: retries make new attempts, and each gets its own task token. */
export interface TaskAttempt {
  stateName: string;
  /** Lambda-ARN tasks record LambdaFunction* events, service integrations Task* events. */
  lambdaStyle: boolean;
  resourceType: string;
  resource: string;
  tokens: string[];
  outcome?: Outcome;
  result: Promise<JsonValue>;
  resolve: (value: JsonValue) => void;
  reject: (error: TaskError) => void;
  heartbeatSeconds?: number;
  heartbeat?: NodeJS.Timeout;
}

/** What a running execution holds besides its record: the library's run and the open attempts. */
export interface LiveExecution {
  run?: RunHandle;
  attempts: Set<TaskAttempt>;
  states: Map<string, AslState>;
  closed: Promise<void>;
  markClosed: () => void;
  lastFailedState?: string;
}

export interface TaskOptions {
  region: string;
  accountId: string;
  invokeLambda: InvokeLambda;
  putEvents?: PutEvents;
  lambdaErrorCause?: 'message' | 'aws';
}

interface ResourceTarget {
  kind: 'lambda' | 'lambda:invoke' | 'events:putEvents' | 'unsupported';
  /** History `resourceType` / `resource` (e.g. lambda / invoke.waitForTaskToken), or the function ARN. */
  resourceType: string;
  resource: string;
  waitForTaskToken: boolean;
}

function parseResource(resource: string): ResourceTarget {
  if (/^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:/.test(resource)) {
    return { kind: 'lambda', resourceType: 'lambda', resource, waitForTaskToken: false };
  }
  const m = /^arn:aws[a-z-]*:states:::([a-z0-9-]+):([A-Za-z0-9]+)(?:\.(waitForTaskToken|sync(?::2)?))?$/.exec(
    resource,
  );
  if (m) {
    const [, service = '', action = '', pattern] = m;
    const kind = `${service}:${action}`;
    const supported =
      (kind === 'lambda:invoke' || kind === 'events:putEvents') && pattern !== 'sync' && pattern !== 'sync:2';
    return {
      kind: supported ? (kind as ResourceTarget['kind']) : 'unsupported',
      resourceType: service,
      resource: pattern ? `${action}.${pattern}` : action,
      waitForTaskToken: pattern === 'waitForTaskToken',
    };
  }
  return { kind: 'unsupported', resourceType: 'unknown', resource, waitForTaskToken: false };
}

/** A plain-JSON copy (the library's ResultPath handling needs plain objects; undefined becomes null). */
function toJson(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

function mapStrings(value: JsonValue, fn: (s: string) => string): JsonValue {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v as JsonValue, fn)]));
  }
  return value;
}

export class Tasks {
  /** Stands in for `$$.Task.Token` while the library resolves Parameters; each attempt swaps in a fresh token. */
  readonly tokenPlaceholder = `tunevault-task-token-${randomUUID()}`;

  constructor(
    private readonly store: Store,
    private readonly options: TaskOptions,
  ) {}

  /** The library's handler for one Task state of one execution. */
  handler(exec: StoredExecution, live: LiveExecution, stateName: string, state: TaskState) {
    return async (input: JsonValue): Promise<JsonValue> => {
      // The library calls us before its StateEntered event reaches the runner; let it land first so
      // the history reads TaskStateEntered → TaskScheduled as on AWS.
      await nextMacrotask();
      // A stopped execution's library run may still reach a task; its result is discarded, and a
      // throw here would surface as an unhandled rejection that ends the process.
      if (exec.status !== 'RUNNING') return input;
      const target = parseResource(state.Resource);
      let resolve!: (value: JsonValue) => void;
      let reject!: (error: TaskError) => void;
      const result = new Promise<JsonValue>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // The outcome can be decided (SendTaskFailure from inside the Lambda, a heartbeat timeout)
      // before runAttempt awaits it; unobserved until then, Node would end the process.
      result.catch(() => undefined);
      const heartbeat = (state as unknown as Record<string, unknown>).HeartbeatSeconds;
      const attempt: TaskAttempt = {
        stateName,
        lambdaStyle: target.kind === 'lambda',
        resourceType: target.resourceType,
        resource: target.resource,
        tokens: [],
        result,
        resolve,
        reject,
        // HeartbeatSeconds is not in the library's types (it ignores it): this module enforces it.
        heartbeatSeconds: typeof heartbeat === 'number' ? heartbeat : undefined,
      };
      live.attempts.add(attempt);
      try {
        return await this.runAttempt(exec, attempt, target, input, state);
      } finally {
        live.attempts.delete(attempt);
      }
    };
  }

  private async runAttempt(
    exec: StoredExecution,
    attempt: TaskAttempt,
    target: ResourceTarget,
    input: JsonValue,
    state: TaskState,
  ): Promise<JsonValue> {
    const params = this.bindTaskToken(exec, attempt, input, target.waitForTaskToken);
    const timeoutInSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
    if (attempt.lambdaStyle) {
      this.store.record(exec, 'LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: {
          resource: target.resource,
          input: JSON.stringify(params),
          inputDetails: { truncated: false },
          timeoutInSeconds,
        },
      });
      this.store.record(exec, 'LambdaFunctionStarted');
    } else {
      this.store.record(exec, 'TaskScheduled', {
        taskScheduledEventDetails: {
          resourceType: target.resourceType,
          resource: target.resource,
          region: this.options.region,
          parameters: JSON.stringify(params),
          timeoutInSeconds,
          heartbeatInSeconds: attempt.heartbeatSeconds,
        },
      });
      this.store.record(exec, 'TaskStarted', {
        taskStartedEventDetails: { resourceType: target.resourceType, resource: target.resource },
      });
    }

    if (target.waitForTaskToken) {
      this.armHeartbeat(exec, attempt);
      try {
        const submitted = await this.perform(target, params, exec);
        if (attempt.outcome !== 'timedout' && attempt.outcome !== 'aborted') {
          this.store.record(exec, 'TaskSubmitted', {
            taskSubmittedEventDetails: {
              resourceType: target.resourceType,
              resource: target.resource,
              output: JSON.stringify(submitted),
            },
          });
        }
      } catch (err) {
        this.settle(attempt, 'failed', this.toTaskError(err));
      }
    } else {
      this.perform(target, params, exec).then(
        (value) => this.settle(attempt, 'succeeded', value),
        (err: unknown) => this.settle(attempt, 'failed', this.toTaskError(err)),
      );
    }

    try {
      const value = await attempt.result;
      this.recordTaskEnd(exec, attempt, value);
      return value;
    } catch (err) {
      const error = err instanceof TaskError ? err : this.toTaskError(err);
      this.recordTaskEnd(exec, attempt, undefined, error);
      throw error;
    }
  }

  /** Replaces the `$$.Task.Token` placeholder with a token unique to this attempt, and registers it. */
  private bindTaskToken(
    exec: StoredExecution,
    attempt: TaskAttempt,
    input: JsonValue,
    required: boolean,
  ): JsonValue {
    let token: string | undefined;
    const bound = mapStrings(input, (s) => {
      if (!s.includes(this.tokenPlaceholder)) return s;
      token ??= this.newToken(exec, attempt);
      return s.split(this.tokenPlaceholder).join(token);
    });
    if (required && !token) {
      // AWS rejects such a definition; failing the task says why instead of waiting forever.
      throw new TaskError(
        'States.Runtime',
        `The state '${attempt.stateName}' uses .waitForTaskToken but passes no $$.Task.Token`,
      );
    }
    return bound;
  }

  private newToken(exec: StoredExecution, attempt: TaskAttempt): string {
    const token = randomBytes(48).toString('base64url');
    this.store.tokens.set(token, { executionArn: exec.executionArn, stateName: attempt.stateName, attempt });
    attempt.tokens.push(token);
    return token;
  }

  private recordTaskEnd(
    exec: StoredExecution,
    attempt: TaskAttempt,
    value: JsonValue | undefined,
    error?: TaskError,
  ): void {
    if (exec.status !== 'RUNNING') return;
    const base = { resourceType: attempt.resourceType, resource: attempt.resource };
    if (attempt.outcome === 'succeeded') {
      const output = JSON.stringify(value ?? null);
      if (attempt.lambdaStyle)
        this.store.record(exec, 'LambdaFunctionSucceeded', {
          lambdaFunctionSucceededEventDetails: { output, outputDetails: { truncated: false } },
        });
      else
        this.store.record(exec, 'TaskSucceeded', {
          taskSucceededEventDetails: { ...base, output, outputDetails: { truncated: false } },
        });
    } else if (attempt.outcome === 'failed' && error) {
      const details = {
        ...(error.name ? { error: error.name } : {}),
        ...(error.message ? { cause: error.message } : {}),
      };
      if (attempt.lambdaStyle)
        this.store.record(exec, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: details });
      else this.store.record(exec, 'TaskFailed', { taskFailedEventDetails: { ...base, ...details } });
    }
    // 'timedout' is recorded where it is detected; 'aborted' closes the execution anyway.
  }

  timeOut(exec: StoredExecution, attempt: TaskAttempt, error: string, cause: string): void {
    if (attempt.outcome) return;
    if (attempt.lambdaStyle)
      this.store.record(exec, 'LambdaFunctionTimedOut', {
        lambdaFunctionTimedOutEventDetails: { error, cause },
      });
    else
      this.store.record(exec, 'TaskTimedOut', {
        taskTimedOutEventDetails: {
          resourceType: attempt.resourceType,
          resource: attempt.resource,
          error,
          cause,
        },
      });
    this.settle(attempt, 'timedout', new TaskError(error, cause));
  }

  /** Decides an attempt once; later answers (a late SendTaskSuccess, a slow Lambda) are ignored. */
  settle(attempt: TaskAttempt, outcome: Outcome, value: JsonValue | TaskError): void {
    if (attempt.outcome) return;
    attempt.outcome = outcome;
    if (attempt.heartbeat) clearTimeout(attempt.heartbeat);
    if (value instanceof TaskError) attempt.reject(value);
    else attempt.resolve(value);
  }

  /** Without a heartbeat within HeartbeatSeconds of the task's start, the task times out. */
  private armHeartbeat(exec: StoredExecution, attempt: TaskAttempt): void {
    if (attempt.heartbeatSeconds === undefined || attempt.outcome) return;
    attempt.heartbeat = setTimeout(
      () => this.timeOut(exec, attempt, 'States.HeartbeatTimeout', 'Task heartbeat timed out.'),
      Math.min(attempt.heartbeatSeconds, MAX_TIMER_SECONDS) * 1000,
    );
    attempt.heartbeat.unref?.();
  }

  /** The open attempt a task token belongs to (SendTaskSuccess / SendTaskFailure). */
  openAttempt(rawToken: unknown): TaskAttempt {
    if (typeof rawToken !== 'string' || rawToken.length === 0)
      throw new AwsError('InvalidToken', 'Invalid Token: token is required');
    const record = this.store.tokens.get(rawToken);
    if (!record) throw new AwsError('TaskDoesNotExist', 'Task Does Not Exist');
    const attempt = record.attempt;
    if (!attempt || attempt.outcome)
      throw new AwsError('TaskTimedOut', 'Task Timed Out: Provided task does not exist anymore');
    return attempt;
  }

  /** Calls the task's resource; for `.waitForTaskToken` this is only the submission. */
  private async perform(
    target: ResourceTarget,
    params: JsonValue,
    exec: StoredExecution,
  ): Promise<JsonValue> {
    // Step Functions calls the function as the state machine's role (its execution role).
    const invoke = (arn: string, payload: unknown) =>
      this.options.invokeLambda(arn, payload, exec.roleArn, exec.name.slice(0, 64));
    switch (target.kind) {
      case 'lambda':
        return toJson(await invoke(target.resource, params));
      case 'lambda:invoke': {
        const p = asRecord(params) ?? {};
        const functionName = typeof p.FunctionName === 'string' ? p.FunctionName : undefined;
        if (!functionName)
          throw new TaskError('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
        const payload = toJson(await invoke(this.functionArn(functionName), p.Payload ?? {}));
        const requestId = randomUUID();
        return {
          ExecutedVersion: '$LATEST',
          Payload: payload,
          SdkHttpMetadata: {
            HttpHeaders: {
              'Content-Type': 'application/json',
              'X-Amz-Executed-Version': '$LATEST',
              'x-amzn-RequestId': requestId,
            },
            HttpStatusCode: 200,
          },
          SdkResponseMetadata: { RequestId: requestId },
          StatusCode: 200,
        };
      }
      case 'events:putEvents':
        return this.putEvents(params);
      default:
        throw new TaskError(
          'States.Runtime',
          `The embedded Step Functions does not support the Task resource '${target.resource}'`,
        );
    }
  }

  private async putEvents(params: JsonValue): Promise<JsonValue> {
    const putEvents = this.options.putEvents;
    if (!putEvents) throw new TaskError('States.Runtime', 'events:putEvents is not wired to an event bus');
    const entries = asRecord(params)?.Entries;
    if (!Array.isArray(entries))
      throw new TaskError('States.Runtime', 'events:putEvents needs Parameters.Entries');
    await putEvents(
      entries.map((raw) => {
        const e = asRecord(raw) ?? {};
        return {
          Source: String(e.Source ?? ''),
          DetailType: String(e.DetailType ?? ''),
          Detail: typeof e.Detail === 'string' ? e.Detail : JSON.stringify(e.Detail ?? {}),
          ...(Array.isArray(e.Resources) ? { Resources: e.Resources.map(String) } : {}),
          ...(typeof e.EventBusName === 'string' ? { EventBusName: e.EventBusName } : {}),
        };
      }),
    );
    return { Entries: entries.map(() => ({ EventId: randomUUID() })), FailedEntryCount: 0 };
  }

  private functionArn(functionName: string): string {
    if (functionName.startsWith('arn:')) return functionName;
    const { region, accountId } = this.options;
    if (/^\d{12}:function:/.test(functionName)) return `arn:aws:lambda:${region}:${functionName}`;
    return `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
  }

  private toTaskError(err: unknown): TaskError {
    if (err instanceof TaskError) return err;
    const name = err instanceof Error && err.name ? err.name : 'Error';
    const message = err instanceof Error ? err.message : String(err);
    if (this.options.lambdaErrorCause === 'message') return new TaskError(name, message);
    const trace = err instanceof Error && err.stack ? err.stack.split('\n') : [];
    return new TaskError(name, JSON.stringify({ errorType: name, errorMessage: message, trace }));
  }
}
