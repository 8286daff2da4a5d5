/**
 * One run as an operator sees it, rebuilt from Step Functions alone (describe + history):
 * the state timeline, and the run's state as the last state left it.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';

export interface StateSpan {
  name: string;
  enteredAt: number;
  exitedAt?: number;
  durationMs?: number;
  outcome: 'running' | 'succeeded' | 'failed' | 'caught';
  error?: string;
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
  cause?: string;
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
  const startDate = ms(d.startDate);
  const stopDate = d.stopDate ? ms(d.stopDate) : undefined;
  return {
    executionArn,
    name: d.name ?? executionArn.split(':').pop() ?? '',
    status: d.status ?? 'UNKNOWN',
    startDate,
    ...(stopDate ? { stopDate, durationMs: stopDate - startDate } : {}),
    input,
    state,
    timeline: timelineOf(events),
    ...(failed?.error ? { error: failed.error } : {}),
    ...(failed?.cause ? { cause: failed.cause } : d.cause ? { cause: d.cause } : {}),
    transitions: events.filter((e) => (e.type ?? '').endsWith('StateEntered')).length,
  };
}

/** Small typed reads of the run state for display. */
export function field<T = string>(state: Record<string, unknown>, ...path: string[]): T | undefined {
  let v: unknown = state;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v as T | undefined;
}
