/**
 * Step Functions (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Op>`).
 *
 * State machines are stored as given; each execution runs the real ASL with aws-local-stepfunctions.
 * Every Task state is bound through the library's per-state `taskResourceLocalHandlers`, so the
 * resource ARN decides what happens (Lambda function, `lambda:invoke`, `.waitForTaskToken`,
 * `events:putEvents`), and the execution history is built from the library's `eventLogs` plus the
 * task events this module records itself (the library has no notion of TaskScheduled & co.).
 */
import * as sfnModel from '@aws-sdk/client-sfn';
import { stepFunctionsAccess } from '../iam/json-access';
import type { AccessRequest } from '../iam/types';
import { randomBytes, randomUUID } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { ExecutionStatus, HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { jsonResponse, AwsJsonService, requireString, optionalString, paginate } from '../core/json-protocol';
import {
  AwsError,
  type InvokeLambda,
  type LocalRequest,
  type LocalResponse,
  type PutEvents,
} from '../core/types';

installPromiseWithResolvers();

/**
 * aws-local-stepfunctions calls `Promise.withResolvers` (ES2024) in every Task state; Node 20 lacks
 * it, and without it every Task fails with a TypeError that looks like an ASL error.
 */
function installPromiseWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: <T>() => {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const PAGES = {
  cap: 1000,
  invalidToken: () => new AwsError('InvalidToken', 'Invalid Token: nextToken is not valid'),
};

type JsonValue = Parameters<StateMachine['run']>[0];
type RunHandle = ReturnType<StateMachine['run']>;
type LibraryEvent = RunHandle['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type AslState = StateMachineDefinition['States'][string];
type TaskState = Extract<AslState, { Type: 'Task' }>;
type RetryableState = Extract<AslState, { Retry?: unknown }>;

/** setTimeout's ceiling (2^31-1 ms): longer delays fire at once. */
const MAX_TIMER_SECONDS = 2_147_483;

export interface StepFunctionsOptions {
  accountId: string;
  region: string;
  invokeLambda: InvokeLambda;
  /** Called synchronously for every history event as it is recorded (live progress output). */
  onHistoryEvent?: (executionArn: string, event: HistoryEvent) => void;
  /**
   * Multiplies Retry `IntervalSeconds`/`MaxDelaySeconds` and Wait `Seconds` (e.g. 0.001 in tests).
   * Task `TimeoutSeconds` are never scaled: they choose which ASL path runs (States.Timeout → poll).
   * Wait states using `SecondsPath`/`Timestamp`/`TimestampPath` are not scaled either.
   */
  timeScale?: number;
  /** Target of `arn:aws:states:::events:putEvents` tasks; without it such tasks fail. */
  putEvents?: PutEvents;
  /**
   * What a Lambda error's `Cause` holds: its message (default), or `aws`: the JSON AWS writes
   * (`{"errorType","errorMessage","trace"}`).
   */
  lambdaErrorCause?: 'message' | 'aws';
}

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

interface StoredStateMachine {
  stateMachineArn: string;
  name: string;
  definition: string;
  roleArn: string;
  type: string;
  status: 'ACTIVE' | 'DELETING';
  creationDate: Date;
  updateDate?: Date;
  revisionId?: string;
  loggingConfiguration: Record<string, unknown>;
  tracingConfiguration: Record<string, unknown>;
}

interface StoredExecution extends ExecutionDescription {
  /** The definition this execution runs (UpdateStateMachine does not affect running executions). */
  definition: string;
  roleArn: string;
  history: HistoryEvent[];
}

type Outcome = 'succeeded' | 'failed' | 'timedout' | 'aborted';

/** One try of one Task state: retries make new attempts, and each gets its own task token. */
interface TaskAttempt {
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

interface LiveExecution {
  run?: RunHandle;
  attempts: Set<TaskAttempt>;
  states: Map<string, AslState>;
  closed: Promise<void>;
  markClosed: () => void;
  lastFailedState?: string;
}

interface TokenRecord {
  executionArn: string;
  stateName: string;
  attempt?: TaskAttempt;
}

/** An error raised into the ASL: `name` is what Retry/Catch `ErrorEquals` match, `message` the Cause. */
class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

type Body = Record<string, unknown>;

const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

export class StepFunctionsService extends AwsJsonService {
  override readonly signingName = 'states';

  private where() {
    return { region: this.options.region, accountId: this.options.accountId };
  }

  accessRequests(req: LocalRequest): Promise<AccessRequest[]> {
    return stepFunctionsAccess(
      this.operationOf(req),
      this.readInput<Record<string, unknown>>(req),
      this.where(),
    );
  }
  private readonly stateMachines = new Map<string, StoredStateMachine>();
  private readonly executions = new Map<string, StoredExecution>();
  private readonly live = new Map<string, LiveExecution>();
  private readonly tokens = new Map<string, TokenRecord>();
  /** Stands in for `$$.Task.Token` while the library resolves Parameters; each attempt swaps in a fresh token. */
  private readonly tokenPlaceholder = `tunevault-task-token-${randomUUID()}`;

  constructor(private readonly options: StepFunctionsOptions) {
    super(CONTENT_TYPE, sfnModel);
  }

  async handle(req: LocalRequest): Promise<LocalResponse> {
    const op = this.operationOf(req);
    const body = this.readInput<Body>(req);
    const answer = await this.call(op, body);
    return jsonResponse(answer, CONTENT_TYPE);
  }

  private async call(op: string, body: Body): Promise<unknown> {
    switch (op) {
      case 'CreateStateMachine':
        return this.createStateMachine(body);
      case 'UpdateStateMachine':
        return this.updateStateMachine(body);
      case 'DescribeStateMachine':
        return this.describeStateMachine(body);
      case 'ListStateMachines':
        return this.listStateMachines(body);
      case 'DeleteStateMachine':
        return this.deleteStateMachine(body);
      case 'StartExecution':
        return this.startExecution(body);
      case 'DescribeExecution':
        return this.describe(this.execution(body.executionArn));
      case 'DescribeStateMachineForExecution':
        return this.describeStateMachineForExecution(body);
      case 'ListExecutions':
        return this.listExecutions(body);
      case 'GetExecutionHistory':
        return this.getExecutionHistory(body);
      case 'StopExecution':
        return this.stopExecution(body);
      case 'SendTaskSuccess':
        return this.sendTaskSuccess(body);
      case 'SendTaskFailure':
        return this.sendTaskFailure(body);
      case 'SendTaskHeartbeat':
        return this.sendTaskHeartbeat(body);
      default:
        throw new AwsError('UnknownOperationException', `The embedded Step Functions does not support ${op}`);
    }
  }

  // ---------------------------------------------------------------- state machines

  private createStateMachine(body: Body) {
    const name = requireString(body, 'name');
    validateName(name, 'state machine');
    const definition = requireString(body, 'definition');
    const roleArn = requireString(body, 'roleArn');
    if (!roleArn.startsWith('arn:'))
      throw new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${roleArn}'`);
    const type = optionalString(body, 'type') ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS')
      throw new AwsError('ValidationException', `Invalid type '${type}'`);
    validateDefinition(definition);
    const stateMachineArn = this.stateMachineArn(name);
    const existing = this.stateMachines.get(stateMachineArn);
    if (existing) {
      // CreateStateMachine is idempotent for an identical request, as on AWS.
      if (existing.definition === definition && existing.roleArn === roleArn && existing.type === type) {
        return { stateMachineArn, creationDate: existing.creationDate };
      }
      throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${stateMachineArn}'`);
    }
    const creationDate = new Date();
    this.stateMachines.set(stateMachineArn, {
      stateMachineArn,
      name,
      definition,
      roleArn,
      type,
      status: 'ACTIVE',
      creationDate,
      loggingConfiguration: asRecord(body.loggingConfiguration) ?? {
        level: 'OFF',
        includeExecutionData: false,
      },
      tracingConfiguration: asRecord(body.tracingConfiguration) ?? { enabled: false },
    });
    return { stateMachineArn, creationDate };
  }

  private updateStateMachine(body: Body) {
    const sm = this.stateMachine(body.stateMachineArn);
    const definition = optionalString(body, 'definition');
    const roleArn = optionalString(body, 'roleArn');
    if (
      definition === undefined &&
      roleArn === undefined &&
      body.loggingConfiguration === undefined &&
      body.tracingConfiguration === undefined
    ) {
      throw new AwsError(
        'MissingRequiredParameter',
        'Either the definition, roleArn, loggingConfiguration or tracingConfiguration must be specified',
      );
    }
    if (definition !== undefined) {
      validateDefinition(definition);
      sm.definition = definition;
    }
    if (roleArn !== undefined) sm.roleArn = roleArn;
    const logging = asRecord(body.loggingConfiguration);
    if (logging) sm.loggingConfiguration = logging;
    const tracing = asRecord(body.tracingConfiguration);
    if (tracing) sm.tracingConfiguration = tracing;
    sm.updateDate = new Date();
    sm.revisionId = randomUUID();
    return { updateDate: sm.updateDate, revisionId: sm.revisionId };
  }

  private describeStateMachine(body: Body) {
    const sm = this.stateMachine(body.stateMachineArn, { allowDeleting: true });
    return {
      stateMachineArn: sm.stateMachineArn,
      name: sm.name,
      status: sm.status,
      definition: sm.definition,
      roleArn: sm.roleArn,
      type: sm.type,
      creationDate: sm.creationDate,
      loggingConfiguration: sm.loggingConfiguration,
      tracingConfiguration: sm.tracingConfiguration,
      ...(sm.revisionId ? { revisionId: sm.revisionId } : {}),
    };
  }

  private listStateMachines(body: Body) {
    const all = [...this.stateMachines.values()].map((sm) => ({
      stateMachineArn: sm.stateMachineArn,
      name: sm.name,
      type: sm.type,
      creationDate: sm.creationDate,
    }));
    const page = paginate(all, body.maxResults, body.nextToken, PAGES);
    return { stateMachines: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  private deleteStateMachine(body: Body) {
    const arn = requireArn(body.stateMachineArn, 'stateMachine');
    const sm = this.stateMachines.get(arn);
    if (!sm) return {};
    // On AWS a Standard state machine lingers in DELETING until its running executions close.
    sm.status = 'DELETING';
    this.removeIfDrained(sm);
    return {};
  }

  private removeIfDrained(sm: StoredStateMachine): void {
    if (sm.status !== 'DELETING') return;
    const running = [...this.executions.values()].some(
      (e) => e.stateMachineArn === sm.stateMachineArn && e.status === 'RUNNING',
    );
    if (!running) this.stateMachines.delete(sm.stateMachineArn);
  }

  // ---------------------------------------------------------------- executions

  private startExecution(body: Body) {
    const sm = this.stateMachine(body.stateMachineArn, { allowDeleting: true });
    if (sm.status === 'DELETING')
      throw new AwsError('StateMachineDeleting', `State machine is being deleted: '${sm.stateMachineArn}'`);
    const name = optionalString(body, 'name') ?? randomUUID();
    validateName(name, 'execution');
    const input = optionalString(body, 'input') ?? '{}';
    let parsedInput: JsonValue;
    try {
      parsedInput = JSON.parse(input) as JsonValue;
    } catch {
      throw new AwsError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: 'input is not valid JSON'`,
      );
    }
    const executionArn = `arn:aws:states:${this.options.region}:${this.options.accountId}:execution:${sm.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Standard workflows: same name + same input while RUNNING answers the original start; anything else is a conflict.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const exec: StoredExecution = {
      executionArn,
      stateMachineArn: sm.stateMachineArn,
      name,
      status: 'RUNNING',
      startDate: new Date(),
      input,
      definition: sm.definition,
      roleArn: sm.roleArn,
      history: [],
    };
    this.executions.set(executionArn, exec);
    this.record(exec, 'ExecutionStarted', {
      executionStartedEventDetails: { input, inputDetails: { truncated: false }, roleArn: sm.roleArn },
    });
    this.launch(exec, sm, parsedInput);
    return { executionArn, startDate: exec.startDate };
  }

  private launch(exec: StoredExecution, sm: StoredStateMachine, input: JsonValue): void {
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const live: LiveExecution = { attempts: new Set(), states: new Map(), closed, markClosed };
    this.live.set(exec.executionArn, live);
    try {
      const { definition, waitOverrides } = this.runnableDefinition(exec.definition, live.states);
      const handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
      for (const [stateName, state] of live.states) {
        if (state.Type === 'Task') handlers[stateName] = this.taskHandler(exec, live, stateName, state);
      }
      const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
      const run = machine.run(input, {
        overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waitOverrides },
        context: {
          Execution: { Id: exec.executionArn, Name: exec.name, RoleArn: exec.roleArn },
          StateMachine: { Id: sm.stateMachineArn, Name: sm.name },
          Task: { Token: this.tokenPlaceholder },
        },
      });
      live.run = run;
      // follow() reads the result only after the event log ends; until then a failed run's rejection is unobserved.
      run.result.catch(() => undefined);
      void this.follow(exec, live, run);
    } catch (err) {
      this.closeExecution(exec, 'FAILED', 'ExecutionFailed', {
        error: 'States.Runtime',
        cause: errorMessage(err),
      });
    }
  }

  /**
   * Copies the ASL into what the library should run: works around its quirks and applies timeScale.
   * Also collects every state (nested ones included) by name.
   */
  private runnableDefinition(source: string, states: Map<string, AslState>) {
    const definition = JSON.parse(source) as StateMachineDefinition;
    const scale = this.options.timeScale ?? 1;
    const waitOverrides: Record<string, number> = {};
    const visit = (machine: { States: Record<string, AslState> }) => {
      for (const [stateName, state] of Object.entries(machine.States)) {
        states.set(stateName, state);
        const loose = state as unknown as Record<string, unknown>;
        // The library stores `"ResultPath": "$"` as a literal "$" key; omitting it has AWS's meaning.
        if (loose.ResultPath === '$') delete loose.ResultPath;
        if ('Catch' in state && Array.isArray(state.Catch)) {
          for (const catcher of state.Catch) if (catcher.ResultPath === '$') delete catcher.ResultPath;
        }
        if ('Retry' in state && Array.isArray(state.Retry) && scale !== 1)
          scaleRetriers(state as RetryableState, scale);
        if (
          state.Type === 'Task' &&
          state.TimeoutSeconds === undefined &&
          state.TimeoutSecondsPath === undefined
        ) {
          // The library times every Task out after 60 s by default; AWS has no default limit.
          state.TimeoutSeconds = MAX_TIMER_SECONDS;
        }
        if (state.Type === 'Wait' && typeof state.Seconds === 'number' && scale !== 1) {
          waitOverrides[stateName] = Math.max(0, Math.round(state.Seconds * 1000 * scale));
        }
        if (state.Type === 'Parallel') for (const branch of state.Branches) visit(branch);
        if (state.Type === 'Map') {
          const processor = state.ItemProcessor ?? state.Iterator;
          if (processor) visit(processor);
        }
      }
    };
    visit(definition);
    return { definition, waitOverrides };
  }

  /** Turns the library's event log into AWS history events, and closes the execution at its end. */
  private async follow(exec: StoredExecution, live: LiveExecution, run: RunHandle): Promise<void> {
    try {
      for await (const event of run.eventLogs) this.onLibraryEvent(exec, live, event);
    } catch (err) {
      this.closeExecution(exec, 'FAILED', 'ExecutionFailed', {
        error: 'States.Runtime',
        cause: errorMessage(err),
      });
    }
    const [settled] = await Promise.allSettled([run.result]);
    if (exec.status !== 'RUNNING') return;
    // The log ended without a terminal event: fall back on the result promise.
    if (settled.status === 'fulfilled') {
      this.closeExecution(exec, 'SUCCEEDED', 'ExecutionSucceeded', { output: JSON.stringify(settled.value) });
    } else {
      this.closeExecution(exec, 'FAILED', 'ExecutionFailed', {
        error: 'States.Runtime',
        cause: errorMessage(settled.reason),
      });
    }
  }

  private onLibraryEvent(exec: StoredExecution, live: LiveExecution, event: LibraryEvent): void {
    if (exec.status !== 'RUNNING') return;
    switch (event.type) {
      case 'ExecutionStarted':
        // Recorded by StartExecution itself, so the history is never empty.
        return;
      case 'StateEntered':
        this.record(exec, `${event.state.type}StateEntered` as HistoryEventType, {
          stateEnteredEventDetails: {
            name: event.state.name,
            input: JSON.stringify(event.state.input),
            inputDetails: { truncated: false },
          },
        });
        return;
      case 'StateExited':
        this.record(exec, `${event.state.type}StateExited` as HistoryEventType, {
          stateExitedEventDetails: {
            name: event.state.name,
            output: JSON.stringify(event.state.output ?? null),
            outputDetails: { truncated: false },
          },
        });
        return;
      case 'StateFailed':
        live.lastFailedState = event.state.name;
        // Task failures raised by our handlers are already recorded; a timeout is raised by the library.
        if (event.state.type === 'Task' && event.Error === 'States.Timeout') {
          for (const attempt of live.attempts) {
            if (attempt.stateName === event.state.name && !attempt.outcome)
              this.timeOut(exec, attempt, 'States.Timeout', 'Task timed out.');
          }
        }
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `mapIteration${event.type.slice('MapIteration'.length)}EventDetails`;
        this.record(exec, event.type, { [key]: { name: event.parentState.name, index: event.index } });
        return;
      }
      case 'ExecutionSucceeded':
        this.closeExecution(exec, 'SUCCEEDED', 'ExecutionSucceeded', {
          output: JSON.stringify(event.output),
        });
        return;
      case 'ExecutionFailed': {
        let error: string | undefined = event.Error;
        let cause: string | undefined =
          typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
        // The library invents "FailStateError" / a stock message when a Fail state has no Error / Cause; AWS leaves them empty.
        const failState = live.lastFailedState ? live.states.get(live.lastFailedState) : undefined;
        if (failState?.Type === 'Fail') {
          if (failState.Error === undefined && failState.ErrorPath === undefined) error = undefined;
          if (failState.Cause === undefined && failState.CausePath === undefined) cause = undefined;
        }
        this.closeExecution(exec, 'FAILED', 'ExecutionFailed', { error, cause });
        return;
      }
      case 'ExecutionTimeout':
        this.closeExecution(exec, 'TIMED_OUT', 'ExecutionTimedOut', {
          error: 'States.Timeout',
          cause: 'The execution timed out.',
        });
        return;
      default:
        // StateRetried / StateCaught / Parallel branch events have no AWS history counterpart.
        return;
    }
  }

  private closeExecution(
    exec: StoredExecution,
    status: ExecutionStatus,
    type: 'ExecutionSucceeded' | 'ExecutionFailed' | 'ExecutionTimedOut' | 'ExecutionAborted',
    fields: { output?: string; error?: string; cause?: string },
  ): void {
    if (exec.status !== 'RUNNING') return;
    exec.status = status;
    exec.stopDate = new Date();
    if (fields.output !== undefined) exec.output = fields.output;
    if (fields.error !== undefined) exec.error = fields.error;
    if (fields.cause !== undefined) exec.cause = fields.cause;
    const errorFields = {
      ...(fields.error !== undefined ? { error: fields.error } : {}),
      ...(fields.cause !== undefined ? { cause: fields.cause } : {}),
    };
    if (type === 'ExecutionSucceeded') {
      this.record(exec, type, {
        executionSucceededEventDetails: { output: fields.output, outputDetails: { truncated: false } },
      });
    } else if (type === 'ExecutionFailed') {
      this.record(exec, type, { executionFailedEventDetails: errorFields });
    } else if (type === 'ExecutionTimedOut') {
      this.record(exec, type, { executionTimedOutEventDetails: errorFields });
    } else {
      this.record(exec, type, { executionAbortedEventDetails: errorFields });
    }
    const live = this.live.get(exec.executionArn);
    if (live) {
      for (const attempt of live.attempts)
        this.settle(attempt, 'aborted', new TaskError('States.Runtime', 'Execution closed'));
      this.live.delete(exec.executionArn);
      // Wakes the library's Wait and Retry sleeps, which would otherwise keep timers running.
      if (status === 'ABORTED') live.run?.abort();
      live.markClosed();
    }
    const sm = this.stateMachines.get(exec.stateMachineArn);
    if (sm) this.removeIfDrained(sm);
  }

  private stopExecution(body: Body) {
    const exec = this.execution(body.executionArn);
    if (exec.status === 'RUNNING') {
      this.closeExecution(exec, 'ABORTED', 'ExecutionAborted', {
        error: optionalString(body, 'error'),
        cause: optionalString(body, 'cause'),
      });
    }
    return { stopDate: exec.stopDate };
  }

  private describeStateMachineForExecution(body: Body) {
    const exec = this.execution(body.executionArn);
    const sm = this.stateMachines.get(exec.stateMachineArn);
    return {
      stateMachineArn: exec.stateMachineArn,
      name: exec.stateMachineArn.split(':').pop(),
      definition: exec.definition,
      roleArn: exec.roleArn,
      updateDate: sm?.updateDate ?? sm?.creationDate ?? exec.startDate,
      loggingConfiguration: sm?.loggingConfiguration ?? { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: sm?.tracingConfiguration ?? { enabled: false },
    };
  }

  private listExecutions(body: Body) {
    const sm = this.stateMachine(body.stateMachineArn, { allowDeleting: true });
    const statusFilter = optionalString(body, 'statusFilter');
    const all = this.listExecutionsOf(sm.stateMachineArn)
      .filter((e) => !statusFilter || e.status === statusFilter)
      .map((e) => ({
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      }));
    const page = paginate(all, body.maxResults, body.nextToken, PAGES);
    return { executions: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  private getExecutionHistory(body: Body) {
    const exec = this.execution(body.executionArn);
    const includeData = body.includeExecutionData !== false;
    let events = exec.history.map((e) => (includeData ? e : withoutData(e)));
    if (body.reverseOrder === true) events = events.reverse();
    const page = paginate(events, body.maxResults, body.nextToken, PAGES);
    return { events: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  // ---------------------------------------------------------------- tasks

  private taskHandler(exec: StoredExecution, live: LiveExecution, stateName: string, state: TaskState) {
    return async (input: JsonValue): Promise<JsonValue> => {
      // The library calls us before its StateEntered event reaches follow(); let it land first so
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
        heartbeatSeconds: numberField(state, 'HeartbeatSeconds'),
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
      this.record(exec, 'LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: {
          resource: target.resource,
          input: JSON.stringify(params),
          inputDetails: { truncated: false },
          timeoutInSeconds,
        },
      });
      this.record(exec, 'LambdaFunctionStarted');
    } else {
      this.record(exec, 'TaskScheduled', {
        taskScheduledEventDetails: {
          resourceType: target.resourceType,
          resource: target.resource,
          region: this.options.region,
          parameters: JSON.stringify(params),
          timeoutInSeconds,
          heartbeatInSeconds: attempt.heartbeatSeconds,
        },
      });
      this.record(exec, 'TaskStarted', {
        taskStartedEventDetails: { resourceType: target.resourceType, resource: target.resource },
      });
    }

    if (target.waitForTaskToken) {
      this.armHeartbeat(exec, attempt);
      try {
        const submitted = await this.perform(target, params, exec);
        if (attempt.outcome !== 'timedout' && attempt.outcome !== 'aborted') {
          this.record(exec, 'TaskSubmitted', {
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
    this.tokens.set(token, { executionArn: exec.executionArn, stateName: attempt.stateName, attempt });
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
        this.record(exec, 'LambdaFunctionSucceeded', {
          lambdaFunctionSucceededEventDetails: { output, outputDetails: { truncated: false } },
        });
      else
        this.record(exec, 'TaskSucceeded', {
          taskSucceededEventDetails: { ...base, output, outputDetails: { truncated: false } },
        });
    } else if (attempt.outcome === 'failed' && error) {
      const details = {
        ...(error.name ? { error: error.name } : {}),
        ...(error.message ? { cause: error.message } : {}),
      };
      if (attempt.lambdaStyle)
        this.record(exec, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: details });
      else this.record(exec, 'TaskFailed', { taskFailedEventDetails: { ...base, ...details } });
    }
    // 'timedout' is recorded where it is detected; 'aborted' closes the execution anyway.
  }

  private timeOut(exec: StoredExecution, attempt: TaskAttempt, error: string, cause: string): void {
    if (attempt.outcome) return;
    if (attempt.lambdaStyle)
      this.record(exec, 'LambdaFunctionTimedOut', { lambdaFunctionTimedOutEventDetails: { error, cause } });
    else
      this.record(exec, 'TaskTimedOut', {
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
  private settle(attempt: TaskAttempt, outcome: Outcome, value: JsonValue | TaskError): void {
    if (attempt.outcome) return;
    attempt.outcome = outcome;
    if (attempt.heartbeat) clearTimeout(attempt.heartbeat);
    if (value instanceof TaskError) attempt.reject(value);
    else attempt.resolve(value);
  }

  private armHeartbeat(exec: StoredExecution, attempt: TaskAttempt): void {
    if (attempt.heartbeatSeconds === undefined || attempt.outcome) return;
    if (attempt.heartbeat) clearTimeout(attempt.heartbeat);
    attempt.heartbeat = setTimeout(
      () => this.timeOut(exec, attempt, 'States.HeartbeatTimeout', 'Task heartbeat timed out.'),
      Math.min(attempt.heartbeatSeconds, MAX_TIMER_SECONDS) * 1000,
    );
    attempt.heartbeat.unref?.();
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
      case 'events:putEvents': {
        const putEvents = this.options.putEvents;
        if (!putEvents)
          throw new TaskError('States.Runtime', 'events:putEvents is not wired to an event bus');
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
      default:
        throw new TaskError(
          'States.Runtime',
          `The embedded Step Functions does not support the Task resource '${target.resource}'`,
        );
    }
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
    if (this.options.lambdaErrorCause !== 'aws') return new TaskError(name, message);
    const trace = err instanceof Error && err.stack ? err.stack.split('\n') : [];
    return new TaskError(name, JSON.stringify({ errorType: name, errorMessage: message, trace }));
  }

  private sendTaskSuccess(body: Body) {
    const attempt = this.openAttempt(body.taskToken);
    const raw = requireString(body, 'output', { allowEmpty: true });
    let output: JsonValue;
    try {
      output = JSON.parse(raw) as JsonValue;
    } catch {
      throw new AwsError('InvalidOutput', 'Invalid Output: output is not valid JSON');
    }
    this.settle(attempt, 'succeeded', output);
    return {};
  }

  private sendTaskFailure(body: Body) {
    const attempt = this.openAttempt(body.taskToken);
    this.settle(
      attempt,
      'failed',
      new TaskError(optionalString(body, 'error') ?? '', optionalString(body, 'cause') ?? ''),
    );
    return {};
  }

  private sendTaskHeartbeat(body: Body) {
    const attempt = this.openAttempt(body.taskToken);
    const record = this.tokens.get(String(body.taskToken));
    const exec = record ? this.executions.get(record.executionArn) : undefined;
    if (exec) this.armHeartbeat(exec, attempt);
    return {};
  }

  private openAttempt(rawToken: unknown): TaskAttempt {
    if (typeof rawToken !== 'string' || rawToken.length === 0)
      throw new AwsError('InvalidToken', 'Invalid Token: token is required');
    const record = this.tokens.get(rawToken);
    if (!record) throw new AwsError('TaskDoesNotExist', 'Task Does Not Exist');
    const attempt = record.attempt;
    if (!attempt || attempt.outcome)
      throw new AwsError('TaskTimedOut', 'Task Timed Out: Provided task does not exist anymore');
    return attempt;
  }

  // ---------------------------------------------------------------- in-process helpers

  /** Resolves with the final description once the execution closes; rejects after timeoutMs. */
  async waitForExecution(executionArn: string, timeoutMs = 30_000): Promise<ExecutionDescription> {
    const exec = this.executions.get(executionArn);
    if (!exec) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    const live = this.live.get(executionArn);
    if (exec.status === 'RUNNING' && live) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const winner = await Promise.race([live.closed, timeout]);
      clearTimeout(timer);
      if (winner === 'timeout')
        throw new Error(`Execution ${executionArn} still ${exec.status} after ${timeoutMs} ms`);
    }
    return this.describe(exec);
  }

  /** Newest first, as ListExecutions answers. */
  listExecutionsOf(stateMachineArn: string): ExecutionDescription[] {
    return [...this.executions.values()]
      .filter((e) => e.stateMachineArn === stateMachineArn)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map((e) => this.describe(e));
  }

  describeExecution(executionArn: string): ExecutionDescription {
    return this.describe(this.execution(executionArn));
  }

  historyOf(executionArn: string): HistoryEvent[] {
    return [...this.execution(executionArn).history];
  }

  /** Aborts every running execution (shutdown; lets test runners exit without open timers). */
  close(): void {
    for (const arn of [...this.live.keys()]) {
      const exec = this.executions.get(arn);
      if (exec) this.closeExecution(exec, 'ABORTED', 'ExecutionAborted', { cause: 'embedded AWS stopped' });
    }
  }

  snapshot(): unknown {
    return JSON.parse(
      JSON.stringify({
        version: 1,
        stateMachines: [...this.stateMachines.values()],
        executions: [...this.executions.values()],
        tokens: [...this.tokens.entries()].map(([token, r]) => ({
          token,
          executionArn: r.executionArn,
          stateName: r.stateName,
        })),
      }),
    );
  }

  restore(state: unknown): void {
    const s = asRecord(state);
    if (!s) return;
    this.close();
    this.stateMachines.clear();
    this.executions.clear();
    this.tokens.clear();
    for (const raw of Array.isArray(s.stateMachines) ? s.stateMachines : []) {
      const sm = asRecord(raw) as unknown as StoredStateMachine | undefined;
      if (!sm || typeof sm.stateMachineArn !== 'string') continue;
      this.stateMachines.set(sm.stateMachineArn, {
        ...sm,
        creationDate: new Date(sm.creationDate),
        ...(sm.updateDate ? { updateDate: new Date(sm.updateDate) } : {}),
      });
    }
    const interrupted: StoredExecution[] = [];
    for (const raw of Array.isArray(s.executions) ? s.executions : []) {
      const e = asRecord(raw) as unknown as StoredExecution | undefined;
      if (!e || typeof e.executionArn !== 'string') continue;
      const exec: StoredExecution = {
        ...e,
        startDate: new Date(e.startDate),
        ...(e.stopDate ? { stopDate: new Date(e.stopDate) } : {}),
        history: (Array.isArray(e.history) ? e.history : []).map((h) => ({
          ...h,
          timestamp: new Date(h.timestamp ?? 0),
        })),
      };
      this.executions.set(exec.executionArn, exec);
      if (exec.status === 'RUNNING') interrupted.push(exec);
    }
    for (const raw of Array.isArray(s.tokens) ? s.tokens : []) {
      const t = asRecord(raw);
      // Restored tokens have no live attempt: SendTask* on them answers TaskTimedOut, as for any closed task.
      if (t && typeof t.token === 'string')
        this.tokens.set(t.token, { executionArn: String(t.executionArn), stateName: String(t.stateName) });
    }
    for (const exec of interrupted)
      this.closeExecution(exec, 'ABORTED', 'ExecutionAborted', { cause: 'embedded AWS restarted' });
  }

  // ---------------------------------------------------------------- plumbing

  private record(exec: StoredExecution, type: HistoryEventType, details: Partial<HistoryEvent> = {}): void {
    const id = exec.history.length + 1;
    const event: HistoryEvent = { ...details, timestamp: new Date(), type, id, previousEventId: id - 1 };
    exec.history.push(event);
    try {
      this.options.onHistoryEvent?.(exec.executionArn, event);
    } catch {
      // A failing progress printer must not break the execution it reports on.
    }
  }

  private describe(e: StoredExecution): ExecutionDescription {
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      input: e.input,
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
    };
  }

  private stateMachineArn(name: string): string {
    return `arn:aws:states:${this.options.region}:${this.options.accountId}:stateMachine:${name}`;
  }

  private stateMachine(rawArn: unknown, opts: { allowDeleting?: boolean } = {}): StoredStateMachine {
    const arn = requireArn(rawArn, 'stateMachine');
    const sm = this.stateMachines.get(arn);
    if (!sm || (sm.status === 'DELETING' && !opts.allowDeleting)) {
      throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
    return sm;
  }

  private execution(rawArn: unknown): StoredExecution {
    const arn = requireArn(rawArn, 'execution');
    const exec = this.executions.get(arn);
    if (!exec) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return exec;
  }
}

// ---------------------------------------------------------------- helpers

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

function scaleRetriers(state: RetryableState, scale: number): void {
  for (const retrier of state.Retry ?? []) {
    retrier.IntervalSeconds = (retrier.IntervalSeconds ?? 1) * scale;
    if (retrier.MaxDelaySeconds !== undefined) retrier.MaxDelaySeconds *= scale;
  }
}

function validateDefinition(definition: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definition);
  } catch (err) {
    throw new AwsError(
      'InvalidDefinition',
      `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ${errorMessage(err)}'`,
    );
  }
  if (!asRecord(parsed))
    throw new AwsError(
      'InvalidDefinition',
      'Invalid State Machine Definition: the definition must be a JSON object',
    );
  try {
    // The library validates with asl-validator (schema, JSONPaths, ARNs), close to what AWS checks.
    new StateMachine(parsed as StateMachineDefinition);
  } catch (err) {
    throw new AwsError('InvalidDefinition', `Invalid State Machine Definition: '${errorMessage(err)}'`);
  }
}

function validateName(name: string, what: string): void {
  if (name.length < 1 || name.length > 80 || NAME_FORBIDDEN.test(name)) {
    throw new AwsError('InvalidName', `Invalid Name: '${name}' is not a valid ${what} name`);
  }
}

function requireArn(raw: unknown, resourceType: 'stateMachine' | 'execution'): string {
  if (
    typeof raw !== 'string' ||
    !new RegExp(`^arn:aws[a-z-]*:states:[^:]+:\\d{12}:${resourceType}:`).test(raw)
  ) {
    throw new AwsError('InvalidArn', `Invalid Arn: '${String(raw)}'`);
  }
  return raw;
}

function numberField(v: object, key: string): number | undefined {
  const n = (v as Record<string, unknown>)[key];
  return typeof n === 'number' ? n : undefined;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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

function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: Record<string, unknown> = { ...event };
  for (const [key, value] of Object.entries(copy)) {
    const details = asRecord(value);
    if (!key.endsWith('EventDetails') || !details) continue;
    const { input: _i, output: _o, parameters: _p, ...rest } = details;
    copy[key] = rest;
  }
  return copy as unknown as HistoryEvent;
}
