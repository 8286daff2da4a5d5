/**
 * The embedded Step Functions' resources: state machines, executions with their history, and the
 * task tokens handed out to `.waitForTaskToken` tasks; their snapshot for `--state-dir`.
 */
import type { ExecutionStatus, HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { asRecord } from '../../core/input';
import { AwsError } from '../../core/types';
import type { TaskAttempt } from './tasks';
import { requireArn } from './validation';

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

export interface StoredStateMachine {
  stateMachineArn: string;
  name: string;
  definition: string;
  roleArn: string;
  type: string;
  creationDate: Date;
  updateDate?: Date;
  revisionId?: string;
}

export interface StoredExecution extends ExecutionDescription {
  /** The definition this execution runs (UpdateStateMachine does not affect running executions). */
  definition: string;
  roleArn: string;
  history: HistoryEvent[];
}

export interface TokenRecord {
  executionArn: string;
  stateName: string;
  /** The live attempt the token belongs to; restored tokens have none. */
  attempt?: TaskAttempt;
}

export class Store {
  readonly stateMachines = new Map<string, StoredStateMachine>();
  readonly executions = new Map<string, StoredExecution>();
  readonly tokens = new Map<string, TokenRecord>();

  constructor(
    private readonly where: { region: string; accountId: string },
    /** Called synchronously for every history event as it is recorded (live progress output). */
    private readonly onHistoryEvent?: (executionArn: string, event: HistoryEvent) => void,
  ) {}

  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.where.region}:${this.where.accountId}:stateMachine:${name}`;
  }

  executionArn(stateMachine: StoredStateMachine, name: string): string {
    return `arn:aws:states:${this.where.region}:${this.where.accountId}:execution:${stateMachine.name}:${name}`;
  }

  stateMachine(rawArn: unknown): StoredStateMachine {
    const arn = requireArn(rawArn, 'stateMachine');
    const sm = this.stateMachines.get(arn);
    if (!sm) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return sm;
  }

  execution(rawArn: unknown): StoredExecution {
    const arn = requireArn(rawArn, 'execution');
    const exec = this.executions.get(arn);
    if (!exec) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return exec;
  }

  /** Newest first, as ListExecutions answers. */
  executionsOf(stateMachineArn: string): ExecutionDescription[] {
    return [...this.executions.values()]
      .filter((e) => e.stateMachineArn === stateMachineArn)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map((e) => describe(e));
  }

  record(exec: StoredExecution, type: HistoryEventType, details: Partial<HistoryEvent> = {}): void {
    const id = exec.history.length + 1;
    const event: HistoryEvent = { ...details, timestamp: new Date(), type, id, previousEventId: id - 1 };
    exec.history.push(event);
    try {
      this.onHistoryEvent?.(exec.executionArn, event);
    } catch {
      // A failing progress printer must not break the execution it reports on.
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

  /** Replaces everything with STATE; answers the executions that were running when it was taken. */
  restore(state: Record<string, unknown>): StoredExecution[] {
    this.stateMachines.clear();
    this.executions.clear();
    this.tokens.clear();
    for (const raw of Array.isArray(state.stateMachines) ? state.stateMachines : []) {
      const sm = asRecord(raw) as unknown as StoredStateMachine | undefined;
      if (!sm || typeof sm.stateMachineArn !== 'string') continue;
      this.stateMachines.set(sm.stateMachineArn, {
        ...sm,
        creationDate: new Date(sm.creationDate),
        ...(sm.updateDate ? { updateDate: new Date(sm.updateDate) } : {}),
      });
    }
    const interrupted: StoredExecution[] = [];
    for (const raw of Array.isArray(state.executions) ? state.executions : []) {
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
    for (const raw of Array.isArray(state.tokens) ? state.tokens : []) {
      const t = asRecord(raw);
      // Restored tokens have no live attempt: SendTask* on them answers TaskTimedOut, as for any closed task.
      if (t && typeof t.token === 'string')
        this.tokens.set(t.token, { executionArn: String(t.executionArn), stateName: String(t.stateName) });
    }
    return interrupted;
  }
}

export function describe(e: StoredExecution): ExecutionDescription {
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

/** A history event without the execution's data (GetExecutionHistory includeExecutionData=false). */
export function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: Record<string, unknown> = { ...event };
  for (const [key, value] of Object.entries(copy)) {
    const details = asRecord(value);
    if (!key.endsWith('EventDetails') || !details) continue;
    const { input: _i, output: _o, parameters: _p, ...rest } = details;
    copy[key] = rest;
  }
  return copy as unknown as HistoryEvent;
}
