/**
 * Live per-state progress of a run, from its execution history (works against the embedded AWS
 * and real AWS alike). On a terminal the running state shows a spinner; elsewhere, plain lines.
 */
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { historyOf, type StateSpan, timelineOf } from './run-view';
import { printable as p } from './text';

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function line(span: StateSpan): string {
  const d = span.durationMs !== undefined ? formatMs(span.durationMs) : '';
  switch (span.outcome) {
    case 'succeeded':
      return `  ✔ ${p(span.name).padEnd(26)} ${d}${span.retries ? `  (retried ${span.retries}× after ${p((span.retriedErrors ?? []).join(', '))})` : ''}`;
    case 'caught':
    case 'failed':
      return `  ✖ ${p(span.name).padEnd(26)} ${d}  ${p(span.error)}`;
    default:
      return `  … ${p(span.name)}`;
  }
}

export interface FollowOptions {
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  intervalMs?: number;
  timeoutMs?: number;
  quiet?: boolean;
}

/** Follows a run until it closes; resolves with its final status. */
export async function followRun(
  sfn: SFNClient,
  executionArn: string,
  o: FollowOptions = {},
): Promise<string> {
  const out = o.out ?? process.stderr;
  const tty = Boolean(out.isTTY) && !o.quiet;
  const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
  let printed = 0;
  let frame = 0;
  let spinnerShown = false;
  for (;;) {
    const [d, events] = await Promise.all([
      sfn.send(new DescribeExecutionCommand({ executionArn })),
      historyOf(sfn, executionArn),
    ]);
    const spans = timelineOf(events);
    if (!o.quiet) {
      if (spinnerShown) out.write('\r\x1b[2K');
      spinnerShown = false;
      for (let span = spans[printed]; span && span.outcome !== 'running'; span = spans[++printed])
        out.write(`${line(span)}\n`);
      const current = spans[printed];
      if (current && tty) {
        out.write(
          `  ${SPIN[frame++ % SPIN.length]} ${p(current.name)} ${formatMs(Date.now() - current.enteredAt)}`,
        );
        spinnerShown = true;
      }
    }
    if (d.status !== 'RUNNING') {
      if (spinnerShown) out.write('\r\x1b[2K');
      return d.status ?? 'UNKNOWN';
    }
    if (Date.now() > deadline)
      throw new Error(`gave up following ${executionArn} after ${formatMs(o.timeoutMs ?? 0)}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 200));
  }
}
