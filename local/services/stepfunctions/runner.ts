/**
 * Runs executions: each runs the real ASL with aws-local-stepfunctions, every Task state bound
 * through the library's per-state `taskResourceLocalHandlers` (tasks.ts). The execution history is
 * built from the library's `eventLogs` plus the task events tasks.ts records (the library has no
 * notion of TaskScheduled & co.).
 */
import type { ExecutionStatus, HistoryEventType } from '@aws-sdk/client-sfn';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { AwsError } from '../../core/types';
import {
  describe,
  type ExecutionDescription,
  type Store,
  type StoredExecution,
  type StoredStateMachine,
} from './store';
import {
  type AslState,
  type JsonValue,
  type LiveExecution,
  MAX_TIMER_SECONDS,
  type RunHandle,
  TaskError,
  type Tasks,
} from './tasks';
import { errorMessage } from './validation';

type LibraryEvent = RunHandle['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type RetryableState = Extract<AslState, { Retry?: unknown }>;
type Closing = 'ExecutionSucceeded' | 'ExecutionFailed' | 'ExecutionTimedOut' | 'ExecutionAborted';

function scaleRetriers(state: RetryableState, scale: number): void {
  for (const retrier of state.Retry ?? []) {
    retrier.IntervalSeconds = (retrier.IntervalSeconds ?? 1) * scale;
    if (retrier.MaxDelaySeconds !== undefined) retrier.MaxDelaySeconds *= scale;
  }
}

export class Runner {
  private readonly live = new Map<string, LiveExecution>();

  constructor(
    private readonly store: Store,
    private readonly tasks: Tasks,
    /** Multiplies Retry intervals and Wait `Seconds` (see StepFunctionsOptions.timeScale). */
    private readonly timeScale = 1,
  ) {}

  launch(exec: StoredExecution, sm: StoredStateMachine, input: JsonValue): void {
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
        if (state.Type === 'Task') handlers[stateName] = this.tasks.handler(exec, live, stateName, state);
      }
      const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
      const run = machine.run(input, {
        overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waitOverrides },
        context: {
          Execution: { Id: exec.executionArn, Name: exec.name, RoleArn: exec.roleArn },
          StateMachine: { Id: sm.stateMachineArn, Name: sm.name },
          Task: { Token: this.tasks.tokenPlaceholder },
        },
      });
      live.run = run;
      // follow() reads the result only after the event log ends; until then a failed run's rejection is unobserved.
      run.result.catch(() => undefined);
      void this.follow(exec, live, run);
    } catch (err) {
      this.close(exec, 'FAILED', 'ExecutionFailed', { error: 'States.Runtime', cause: errorMessage(err) });
    }
  }

  /**
   * Copies the ASL into what the library should run: works around its quirks and applies timeScale.
   * Also collects every state (nested ones included) by name.
   */
  private runnableDefinition(source: string, states: Map<string, AslState>) {
    const definition = JSON.parse(source) as StateMachineDefinition;
    const scale = this.timeScale;
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
        } else if (state.Type === 'Task' && typeof state.TimeoutSeconds === 'number') {
          // A longer timeout (AWS allows up to a year) would overflow setTimeout and fire at once.
          state.TimeoutSeconds = Math.min(state.TimeoutSeconds, MAX_TIMER_SECONDS);
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
      this.close(exec, 'FAILED', 'ExecutionFailed', { error: 'States.Runtime', cause: errorMessage(err) });
    }
    const [settled] = await Promise.allSettled([run.result]);
    if (exec.status !== 'RUNNING') return;
    // The log ended without a terminal event: fall back on the result promise.
    if (settled.status === 'fulfilled') {
      this.close(exec, 'SUCCEEDED', 'ExecutionSucceeded', { output: JSON.stringify(settled.value) });
    } else {
      this.close(exec, 'FAILED', 'ExecutionFailed', {
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
        this.store.record(exec, `${event.state.type}StateEntered` as HistoryEventType, {
          stateEnteredEventDetails: {
            name: event.state.name,
            input: JSON.stringify(event.state.input),
            inputDetails: { truncated: false },
          },
        });
        return;
      case 'StateExited':
        this.store.record(exec, `${event.state.type}StateExited` as HistoryEventType, {
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
              this.tasks.timeOut(exec, attempt, 'States.Timeout', 'Task timed out.');
          }
        }
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `mapIteration${event.type.slice('MapIteration'.length)}EventDetails`;
        this.store.record(exec, event.type, { [key]: { name: event.parentState.name, index: event.index } });
        return;
      }
      case 'ExecutionSucceeded':
        this.close(exec, 'SUCCEEDED', 'ExecutionSucceeded', { output: JSON.stringify(event.output) });
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
        this.close(exec, 'FAILED', 'ExecutionFailed', { error, cause });
        return;
      }
      case 'ExecutionTimeout':
        this.close(exec, 'TIMED_OUT', 'ExecutionTimedOut', {
          error: 'States.Timeout',
          cause: 'The execution timed out.',
        });
        return;
      default:
        // StateRetried / StateCaught / Parallel branch events have no AWS history counterpart.
        return;
    }
  }

  /** Closes a running execution once: its status, its last history event, its open attempts. */
  close(
    exec: StoredExecution,
    status: ExecutionStatus,
    type: Closing,
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
      this.store.record(exec, type, {
        executionSucceededEventDetails: { output: fields.output, outputDetails: { truncated: false } },
      });
    } else if (type === 'ExecutionFailed') {
      this.store.record(exec, type, { executionFailedEventDetails: errorFields });
    } else if (type === 'ExecutionTimedOut') {
      this.store.record(exec, type, { executionTimedOutEventDetails: errorFields });
    } else {
      this.store.record(exec, type, { executionAbortedEventDetails: errorFields });
    }
    const live = this.live.get(exec.executionArn);
    if (live) {
      for (const attempt of live.attempts)
        this.tasks.settle(attempt, 'aborted', new TaskError('States.Runtime', 'Execution closed'));
      this.live.delete(exec.executionArn);
      // Wakes the library's Wait and Retry sleeps, which would otherwise keep timers running.
      if (status === 'ABORTED') live.run?.abort();
      live.markClosed();
    }
  }

  /** Aborts EXEC (StopExecution, shutdown, restart). */
  abort(exec: StoredExecution, fields: { error?: string; cause?: string }): void {
    this.close(exec, 'ABORTED', 'ExecutionAborted', fields);
  }

  /** Aborts every running execution (shutdown; lets test runners exit without open timers). */
  abortAll(cause: string): void {
    for (const arn of [...this.live.keys()]) {
      const exec = this.store.executions.get(arn);
      if (exec) this.abort(exec, { cause });
    }
  }

  /** Resolves with the final description once the execution closes; rejects after timeoutMs. */
  async waitFor(executionArn: string, timeoutMs: number): Promise<ExecutionDescription> {
    const exec = this.store.executions.get(executionArn);
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
    return describe(exec);
  }
}
