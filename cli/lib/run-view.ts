/**
 * One run as an operator sees it, rebuilt from Step Functions alone (describe + history):
 * the state timeline, and the run's state as the last state left it.
 */
import {
  DescribeExecutionCommand,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { guardDetailsOfFailure, type StepFailure, stepFailureOf } from '../../functions/shared/step-failure';

export interface StateSpan {
  name: string;
  enteredAt: number;
  exitedAt?: number;
  durationMs?: number;
  outcome: 'running' | 'succeeded' | 'failed' | 'caught';
  error?: string;
  /** Attempts the state's Retry made after a failed one (each failure's name is in `retriedErrors`). */
  retries?: number;
  retriedErrors?: string[];
}

export interface RunView {
  executionArn: string;
  name: string;
  status: string;
  startDate: number;
  stopDate?: number;
  durationMs?: number;
  input: Record<string, unknown>;
  /** The run's state after the last completed state (all step results under their ResultPaths). */
  state: Record<string, unknown>;
  timeline: StateSpan[];
  error?: string;
  /** The failure's message, as a person reads it. */
  cause?: string;
  /** The failure as data: its details (broken rules, the guard's findings) when it carried them. */
  failure?: StepFailure;
  transitions: number;
}

function parse(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The newest `limit` runs of a state machine. */
export async function listExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
  limit: number,
): Promise<ExecutionListItem[]> {
  const items: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn,
        maxResults: Math.min(limit - items.length, 1000),
        nextToken,
      }),
    );
    items.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken && items.length < limit);
  return items;
}

export async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

const ms = (d: Date | undefined) => (d ? d.getTime() : 0);

export function timelineOf(events: HistoryEvent[]): StateSpan[] {
  const spans: StateSpan[] = [];
  const open = new Map<string, StateSpan>();
  for (const e of events) {
    const type = e.type ?? '';
    if (type.endsWith('StateEntered') && e.stateEnteredEventDetails?.name) {
      const span: StateSpan = {
        name: e.stateEnteredEventDetails.name,
        enteredAt: ms(e.timestamp),
        outcome: 'running',
      };
      spans.push(span);
      open.set(span.name, span);
    } else if (type.endsWith('StateExited') && e.stateExitedEventDetails?.name) {
      const span = open.get(e.stateExitedEventDetails.name);
      if (span) {
        span.exitedAt = ms(e.timestamp);
        span.durationMs = span.exitedAt - span.enteredAt;
        if (span.outcome === 'running') span.outcome = 'succeeded';
        open.delete(span.name);
      }
    } else if (/(TaskScheduled|LambdaFunctionScheduled)$/.test(type)) {
      // A new attempt after a failed one in the same state: the failure was retried, not caught.
      const span = [...open.values()].pop();
      if (span?.outcome === 'caught') {
        span.retries = (span.retries ?? 0) + 1;
        span.retriedErrors = [...(span.retriedErrors ?? []), span.error ?? 'Error'];
        span.outcome = 'running';
        delete span.error;
      }
    } else if (/(TaskFailed|LambdaFunctionFailed|TaskTimedOut|LambdaFunctionTimedOut)$/.test(type)) {
      const span = [...open.values()].pop();
      const details =
        e.taskFailedEventDetails ??
        e.lambdaFunctionFailedEventDetails ??
        e.taskTimedOutEventDetails ??
        e.lambdaFunctionTimedOutEventDetails;
      if (span) {
        span.outcome = 'caught';
        span.error = details?.error ?? (type.includes('TimedOut') ? 'States.Timeout' : 'Error');
      }
    }
  }
  for (const span of open.values()) if (span.outcome === 'caught') span.outcome = 'failed';
  return spans;
}

export async function loadRun(sfn: SFNClient, executionArn: string): Promise<RunView> {
  const [d, events] = await Promise.all([
    sfn.send(new DescribeExecutionCommand({ executionArn })),
    historyOf(sfn, executionArn),
  ]);
  const input = parse(d.input);
  let state: Record<string, unknown> = { ...input };
  for (const e of events)
    if (e.stateExitedEventDetails?.output) state = parse(e.stateExitedEventDetails.output);
  if (d.output) state = parse(d.output);
  const failed = events.find((e) => e.type === 'ExecutionFailed')?.executionFailedEventDetails;
  const failure = stepFailureOf(failed?.error ?? '', failed?.cause ?? d.cause);
  const startDate = ms(d.startDate);
  const stopDate = d.stopDate ? ms(d.stopDate) : undefined;
  const timeline = timelineOf(events);
  if (stopDate) closeOpenSpans(timeline, d.status ?? 'UNKNOWN', stopDate, failed?.error);
  return {
    executionArn,
    name: d.name ?? executionArn.split(':').pop() ?? '',
    status: d.status ?? 'UNKNOWN',
    startDate,
    ...(stopDate ? { stopDate, durationMs: stopDate - startDate } : {}),
    input,
    state,
    timeline,
    ...(failure.error ? { error: failure.error, failure } : {}),
    ...(failure.message ? { cause: failure.message } : {}),
    transitions: events.filter((e) => (e.type ?? '').endsWith('StateEntered')).length,
  };
}

/** Small typed reads of the run state for display. */
export function field<T = string>(state: Record<string, unknown>, ...path: string[]): T | undefined {
  let v: unknown = state;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v as T | undefined;
}

/** Once the run has closed, a span still open is its last state (a Fail state never exits). */
function closeOpenSpans(spans: StateSpan[], status: string, stopDate: number, error?: string): void {
  for (const span of spans) {
    if (span.outcome !== 'running') continue;
    span.exitedAt = Math.max(span.enteredAt, stopDate);
    span.durationMs = span.exitedAt - span.enteredAt;
    span.outcome = status === 'SUCCEEDED' ? 'succeeded' : 'failed';
    if (span.outcome === 'failed' && error) span.error = error;
  }
}

/** The state the run is in now (running) or ended in. */
export function currentState(run: RunView): string | undefined {
  return run.timeline[run.timeline.length - 1]?.name;
}

type FailureSource = Pick<RunView, 'state' | 'error' | 'cause' | 'failure'>;

/**
 * Why the run failed, as data: the execution's failure once it has ended, else the error a
 * Catch recorded in its state (a run on its way through Remediate).
 */
export function failureOf(run: FailureSource): StepFailure | undefined {
  if (run.failure) return run.failure;
  if (run.error) return stepFailureOf(run.error, run.cause);
  const error = field(run.state, 'error', 'Error');
  return error ? stepFailureOf(error, field(run.state, 'error', 'Cause')) : undefined;
}

/**
 * The data guard's verdict: from its summary when the scan passed, else from the error it raised
 * (a blocked or invalid dataset never writes a summary into the run state).
 */
export function guardVerdictOf(run: FailureSource): string | undefined {
  const verdict = field(run.state, 'scan', 'verdict');
  if (verdict) return verdict;
  const error = failureOf(run)?.error;
  if (error === 'SensitiveDataError') return 'block';
  if (error === 'InvalidTrainingDataError') return 'invalid';
  return undefined;
}

/** What the guard's error carried when it stopped the run. */
const guardFailure = (run: FailureSource) => {
  const failure = failureOf(run);
  return failure ? guardDetailsOfFailure(failure) : undefined;
};

/** How many findings the guard reported: its summary, or the count its error carried. */
export function guardFindingsOf(run: FailureSource): number | undefined {
  return field<number>(run.state, 'scan', 'totalFindings') ?? guardFailure(run)?.findings;
}

/** Where the guard's full (masked) report is: its summary, or the URI its error carried. */
export function guardReportUriOf(run: FailureSource): string | undefined {
  return field(run.state, 'scan', 'reportS3Uri') ?? guardFailure(run)?.reportS3Uri;
}

/** Time the run spent on the customization job: from the first wait to the last wait or poll. */
export function jobWaitMs(run: RunView, now = Date.now()): number | undefined {
  const waits = run.timeline.filter((s) => s.name === 'WaitForJob' || s.name === 'CheckCustomizationJob');
  const first = waits[0];
  const last = waits[waits.length - 1];
  return first && last ? (last.exitedAt ?? now) - first.enteredAt : undefined;
}
