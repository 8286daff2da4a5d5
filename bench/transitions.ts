/**
 * State transitions per run, counted from the execution history on the embedded AWS
 * (StateEntered events: what Step Functions Standard bills). The event path is measured for two
 * job lengths; the poll path (every Bedrock job-state event lost) for two, and its cost per poll
 * is the slope between them. Both are then projected onto a 6-hour job with a 15-minute poll,
 * beside a naive 60-second poll loop.
 */
import { field, type RunView } from '../cli/lib/run-view';
import { startHarness } from '../test/e2e/support/embedded';
import type { Report } from './lib/report';

const SECTION = 'State transitions';
const EVENT_TARGET = 12;
const PER_POLL_TARGET = 3;
/** Step Functions Standard: USD 0.025 per 1,000 state transitions (us-east-1). */
const USD_PER_TRANSITION = 0.025 / 1000;
const JOB_EVENTS = { source: 'aws.bedrock', detailType: 'Model Customization Job State Change' };

interface Measured {
  jobMs: number;
  run: RunView;
  polls: number;
  resumedBy: string | undefined;
}

const pollsOf = (run: RunView) => run.timeline.filter((s) => s.name === 'CheckCustomizationJob').length;

/** The states a poll adds: from one WaitForJob entry to the next, as the history shows them. */
function pollCycle(run: RunView): string[] {
  const names = run.timeline.map((s) => s.name);
  const first = names.indexOf('WaitForJob');
  const second = names.indexOf('WaitForJob', first + 1);
  return first >= 0 && second > first ? names.slice(first + 1, second + 1) : [];
}

async function measureRuns(
  pollIntervalSeconds: number,
  dropEvents: boolean,
  jobLengthsMs: number[],
  report: Report,
): Promise<Measured[]> {
  const h = await startHarness({ params: { pollIntervalSeconds: String(pollIntervalSeconds) } });
  try {
    if (dropEvents) h.aws.events.dropNext(1_000, JOB_EVENTS);
    const out: Measured[] = [];
    for (const [i, jobMs] of jobLengthsMs.entries()) {
      h.aws.bedrock.setJobDuration(jobMs);
      const { run } = await h.drop(`transitions-${dropEvents ? 'poll' : 'event'}-${i}`);
      if (run.status !== 'SUCCEEDED') report.fail(SECTION, `${run.name}: ${run.status} ${run.error ?? ''}`);
      out.push({ jobMs, run, polls: pollsOf(run), resumedBy: field(run.state, 'jobResult', 'resumedBy') });
    }
    return out;
  } finally {
    await h.stop();
  }
}

export async function transitions(report: Report): Promise<void> {
  report.heading('1. State transitions per run (execution history on the embedded AWS)');
  // Event path: a 900 s poll never fires, so Bedrock's event is what resumes the run.
  const events = await measureRuns(900, false, [0, 3_000], report);
  // Poll path: every job-state event is dropped; a 2 s poll with 3 s and 7 s jobs polls ~2 and ~4 times.
  const polls = await measureRuns(2, true, [3_000, 7_000], report);

  for (const m of [...events, ...polls]) {
    report.print(
      `  measured: job ${(m.jobMs / 1000).toFixed(0)} s, ${m.polls} poll(s), resumed by ${m.resumedBy ?? '?'}: ` +
        `${m.run.transitions} transitions — ${m.run.timeline.map((s) => s.name).join(' → ')}`,
    );
  }
  const eventCounts = events.map((m) => m.run.transitions);
  const eventPath = Math.max(...eventCounts);
  const sameForAnyLength = eventCounts.every((c) => c === eventPath);
  for (const m of events)
    if (m.resumedBy !== 'event') report.fail(SECTION, `event-path run was resumed by ${m.resumedBy}`);
  for (const m of polls)
    if (m.polls === 0 || m.resumedBy !== 'poll') report.fail(SECTION, 'poll-path run did not poll');

  const [a, b] = polls as [Measured, Measured];
  const cycle = pollCycle(b.run);
  // The slope between two runs that polled a different number of times; the cycle in the history
  // when (on a very loaded machine) both happened to poll equally often.
  const perPoll =
    b.polls !== a.polls
      ? (b.run.transitions - a.run.transitions) / (b.polls - a.polls)
      : cycle.length || Number.NaN;
  const pollBase = b.run.transitions - perPoll * b.polls;
  report.print(`  one poll adds: ${cycle.join(' → ')} (${cycle.length} states in the history)`);
  report.print();

  report.figure(
    SECTION,
    'event path, any job length',
    `${eventPath} transitions${sameForAnyLength ? '' : ` (varies: ${eventCounts.join(', ')})`}`,
    `≤ ${EVENT_TARGET}`,
    eventPath <= EVENT_TARGET && sameForAnyLength,
  );
  report.figure(
    SECTION,
    'poll path: per poll (slope of 2 runs)',
    `+${perPoll} transitions`,
    `≤ ${PER_POLL_TARGET}`,
    perPoll <= PER_POLL_TARGET,
  );
  report.figure(SECTION, 'poll path: base (without polls)', `${pollBase} transitions`);

  const jobHours = 6;
  const polls15 = (jobHours * 3600) / 900;
  const polls60 = (jobHours * 3600) / 60;
  const poll15 = pollBase + perPoll * polls15;
  const naive60 = pollBase + perPoll * polls60;
  const usd = (t: number) => `$${(t * USD_PER_TRANSITION * 1000).toFixed(2)}/1k runs`;
  report.print();
  report.print(`  A ${jobHours}-hour job (${polls15} polls at 15 min, ${polls60} at 60 s):`);
  report.figure(SECTION, '6 h job, events delivered', `${eventPath} (${usd(eventPath)})`);
  report.figure(
    SECTION,
    '6 h job, events lost, 15-min poll',
    `${poll15} = ${pollBase} + ${perPoll}×${polls15} (${usd(poll15)})`,
  );
  report.figure(
    SECTION,
    '6 h job, naive 60-s poll loop',
    `${naive60} = ${pollBase} + ${perPoll}×${polls60} (${usd(naive60)})`,
  );
  report.figure(
    SECTION,
    'naive 60-s loop ÷ event path',
    `${(naive60 / eventPath).toFixed(0)}× (15-min poll: ${(poll15 / eventPath).toFixed(1)}×)`,
  );
}
