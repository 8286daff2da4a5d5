/**
 * Step Functions (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Op>`): the operations it serves
 * and its in-process views. State machines, executions and tokens are in stepfunctions/store.ts;
 * executions run the real ASL (stepfunctions/runner.ts, tasks in stepfunctions/tasks.ts).
 */
import * as sfnModel from '@aws-sdk/client-sfn';
import { randomUUID } from 'node:crypto';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { asRecord, type Body, optionalString, requireString, validation } from '../core/input';
import { AwsJsonService, paginate } from '../core/json-protocol';
import type { OperationTable } from '../core/operations';
import { AwsError, type InvokeLambda, type PutEvents } from '../core/types';
import type { AccessRequest } from '../iam/types';
import { stepFunctionsAccess } from './stepfunctions/access';
import { Runner } from './stepfunctions/runner';
import {
  describe,
  type ExecutionDescription,
  Store,
  type StoredExecution,
  withoutData,
} from './stepfunctions/store';
import { type JsonValue, TaskError, Tasks } from './stepfunctions/tasks';
import { PAGES, validateDefinition, validateName } from './stepfunctions/validation';

export type { ExecutionDescription } from './stepfunctions/store';

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
   * What a Lambda error's `Cause` holds: `aws` (default), the JSON the Lambda runtime answers and
   * Step Functions keeps as the Cause (`{"errorType","errorMessage","trace"}`), or just the message.
   */
  lambdaErrorCause?: 'message' | 'aws';
}

function pageOf<T>(field: string, all: T[], body: Body) {
  const page = paginate(all, body.maxResults, body.nextToken, PAGES);
  return { [field]: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
}

export class StepFunctionsService extends AwsJsonService {
  override readonly signingName = 'states';
  private readonly store: Store;
  private readonly tasks: Tasks;
  private readonly runner: Runner;

  constructor(private readonly options: StepFunctionsOptions) {
    super({ name: 'Step Functions', contentType: 'application/x-amz-json-1.0', model: sfnModel });
    this.store = new Store(options, options.onHistoryEvent);
    this.tasks = new Tasks(this.store, options);
    this.runner = new Runner(this.store, this.tasks, options.timeScale);
  }

  protected readonly operations: OperationTable<Body> = {
    CreateStateMachine: (b) => this.createStateMachine(b),
    UpdateStateMachine: (b) => this.updateStateMachine(b),
    ListStateMachines: (b) =>
      pageOf(
        'stateMachines',
        [...this.store.stateMachines.values()].map((sm) => ({
          stateMachineArn: sm.stateMachineArn,
          name: sm.name,
          type: sm.type,
          creationDate: sm.creationDate,
        })),
        b,
      ),
    StartExecution: (b) => this.startExecution(b),
    DescribeExecution: (b) => describe(this.store.execution(b.executionArn)),
    ListExecutions: (b) => this.listExecutions(b),
    GetExecutionHistory: (b) => this.getExecutionHistory(b),
    StopExecution: (b) => this.stopExecution(b),
    SendTaskSuccess: (b) => this.sendTaskSuccess(b),
    SendTaskFailure: (b) => {
      const attempt = this.tasks.openAttempt(b.taskToken);
      const error = new TaskError(optionalString(b, 'error') ?? '', optionalString(b, 'cause') ?? '');
      this.tasks.settle(attempt, 'failed', error);
      return {};
    },
  };

  protected access(operation: string, input: Body): Promise<AccessRequest[]> {
    return stepFunctionsAccess(operation, input, this.options);
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
    const stateMachineArn = this.store.stateMachineArn(name);
    const existing = this.store.stateMachines.get(stateMachineArn);
    if (existing) {
      // CreateStateMachine is idempotent for an identical request, as on AWS.
      if (existing.definition === definition && existing.roleArn === roleArn && existing.type === type) {
        return { stateMachineArn, creationDate: existing.creationDate };
      }
      throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${stateMachineArn}'`);
    }
    const creationDate = new Date();
    this.store.stateMachines.set(stateMachineArn, {
      stateMachineArn,
      name,
      definition,
      roleArn,
      type,
      creationDate,
    });
    return { stateMachineArn, creationDate };
  }

  private updateStateMachine(body: Body) {
    const sm = this.store.stateMachine(body.stateMachineArn);
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
    sm.updateDate = new Date();
    sm.revisionId = randomUUID();
    return { updateDate: sm.updateDate, revisionId: sm.revisionId };
  }

  // ---------------------------------------------------------------- executions

  private startExecution(body: Body) {
    const sm = this.store.stateMachine(body.stateMachineArn);
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
    const executionArn = this.store.executionArn(sm, name);
    const existing = this.store.executions.get(executionArn);
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
    this.store.executions.set(executionArn, exec);
    this.store.record(exec, 'ExecutionStarted', {
      executionStartedEventDetails: { input, inputDetails: { truncated: false }, roleArn: sm.roleArn },
    });
    this.runner.launch(exec, sm, parsedInput);
    return { executionArn, startDate: exec.startDate };
  }

  private stopExecution(body: Body) {
    const exec = this.store.execution(body.executionArn);
    this.runner.abort(exec, { error: optionalString(body, 'error'), cause: optionalString(body, 'cause') });
    return { stopDate: exec.stopDate };
  }

  private listExecutions(body: Body) {
    const sm = this.store.stateMachine(body.stateMachineArn);
    const statusFilter = optionalString(body, 'statusFilter');
    const all = this.store
      .executionsOf(sm.stateMachineArn)
      .filter((e) => !statusFilter || e.status === statusFilter)
      .map((e) => ({
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      }));
    return pageOf('executions', all, body);
  }

  private getExecutionHistory(body: Body) {
    const exec = this.store.execution(body.executionArn);
    const includeData = body.includeExecutionData !== false;
    let events = exec.history.map((e) => (includeData ? e : withoutData(e)));
    if (body.reverseOrder === true) events = events.reverse();
    return pageOf('events', events, body);
  }

  private sendTaskSuccess(body: Body) {
    const attempt = this.tasks.openAttempt(body.taskToken);
    const raw = optionalString(body, 'output');
    if (raw === undefined) throw validation('output', undefined, 'Member must not be null');
    let output: JsonValue;
    try {
      output = JSON.parse(raw) as JsonValue;
    } catch {
      throw new AwsError('InvalidOutput', 'Invalid Output: output is not valid JSON');
    }
    this.tasks.settle(attempt, 'succeeded', output);
    return {};
  }

  // ---------------------------------------------------------------- in-process views

  /** Resolves with the final description once the execution closes; rejects after timeoutMs. */
  waitForExecution(executionArn: string, timeoutMs = 30_000): Promise<ExecutionDescription> {
    return this.runner.waitFor(executionArn, timeoutMs);
  }

  /** Newest first, as ListExecutions answers. */
  listExecutionsOf(stateMachineArn: string): ExecutionDescription[] {
    return this.store.executionsOf(stateMachineArn);
  }

  describeExecution(executionArn: string): ExecutionDescription {
    return describe(this.store.execution(executionArn));
  }

  historyOf(executionArn: string): HistoryEvent[] {
    return [...this.store.execution(executionArn).history];
  }

  /** Aborts every running execution (shutdown; lets test runners exit without open timers). */
  close(): void {
    this.runner.abortAll('embedded AWS stopped');
  }

  snapshot(): unknown {
    return this.store.snapshot();
  }

  restore(state: unknown): void {
    const s = asRecord(state);
    if (!s) return;
    this.close();
    for (const exec of this.store.restore(s)) this.runner.abort(exec, { cause: 'embedded AWS restarted' });
  }
}
