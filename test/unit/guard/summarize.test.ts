import { summarize } from '../../../functions/shared/guard/summarize';
import type { Problem, ScanReport } from '../../../functions/shared/guard/types';

/** A made-up report; only the fields summarize reads matter. */
function report(problems: Problem[], byType: ScanReport['counts']['byType'] = {}): ScanReport {
  return {
    verdict: 'block',
    family: 'bedrock-conversation-2024',
    records: 12,
    bytes: 3456,
    sha256: 'a'.repeat(64),
    totalFindings: 5,
    counts: { byType, bySeverity: { critical: 1, high: 2, medium: 1, low: 1 } },
    problems,
    problemCounts: { error: 2, warning: 1 },
  } as unknown as ScanReport;
}

const problem = (level: Problem['level'], reason: string, line?: number): Problem =>
  line === undefined
    ? { level, code: 'INVALID_JSON', reason }
    : { level, code: 'INVALID_JSON', line, reason };

describe('summarize', () => {
  it('copies the per-type counts', () => {
    const summary = summarize(report([], { EMAIL: 3, CARD_NUMBER: 2 }));
    expect(summary.byType).toStrictEqual({ EMAIL: 3, CARD_NUMBER: 2 });
  });

  it('lists errors before warnings, each once, keeping their order within a level', () => {
    const summary = summarize(
      report([
        problem('warning', 'warning one', 1),
        problem('error', 'error one', 2),
        problem('warning', 'warning two', 3),
        problem('error', 'error two'),
      ]),
    );
    expect(summary.firstProblems).toStrictEqual([
      'line 2: error one',
      'error two',
      'line 1: warning one',
      'line 3: warning two',
    ]);
  });

  it('lists warnings when there are no errors', () => {
    const summary = summarize(report([problem('warning', 'only a warning', 4)]));
    expect(summary.firstProblems).toStrictEqual(['line 4: only a warning']);
  });

  it('keeps a problem of exactly 240 characters whole', () => {
    const reason = 'x'.repeat(240);
    expect(summarize(report([problem('error', reason)])).firstProblems).toStrictEqual([reason]);
  });

  it('cuts a problem of 241 characters to 239 characters and an ellipsis', () => {
    const reason = `${'y'.repeat(239)}zz`;
    const [first] = summarize(report([problem('error', reason)])).firstProblems;
    expect(first).toBe(`${'y'.repeat(239)}…`);
    expect(first?.length).toBe(240);
  });

  it('keeps a short problem whole', () => {
    expect(summarize(report([problem('error', 'short', 7)])).firstProblems).toStrictEqual(['line 7: short']);
  });
});
