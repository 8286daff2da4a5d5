/**
 * The report tally: batch results and the reading thread's own problems merged in line order,
 * the lists capped while the counts stay exact, and the sanitized copy handed out in pieces.
 */
import { limitsFor } from '../../../functions/shared/guard/limits';
import { type BatchResult, RecordScanner } from '../../../functions/shared/guard/records';
import { type FileFacts, ReportTally } from '../../../functions/shared/guard/scan/tally';
import type { Problem } from '../../../functions/shared/guard/types';
import { conversation, fake, RECORD_SCAN_CONFIG } from './fixtures';

const FILE: FileFacts = {
  policy: 'redact',
  family: 'bedrock-conversation-2024',
  limits: limitsFor('bedrock-conversation-2024'),
  records: 3,
  lines: 3,
  bytes: 300,
  sha256: 'a'.repeat(64),
};

/** The record checks' result for the given lines, the first of which is line `firstLine`. */
function batch(lines: string[], firstLine: number): BatchResult {
  return new RecordScanner(RECORD_SCAN_CONFIG).scanBatch(Buffer.from(`${lines.join('\n')}\n`), firstLine);
}

function blankLine(line: number): Problem {
  return {
    level: 'warning',
    code: 'BLANK_LINE',
    line,
    reason: 'blank line: Bedrock expects one JSON record on every line',
  };
}

describe('ReportTally', () => {
  it('lists the reading thread problems and the batch problems in line order', () => {
    const tally = new ReportTally(100, 100, false);
    // Line 3 is not JSON (a batch problem); line 5 is blank (found by the reading thread).
    tally.merge(batch([conversation('hi'), conversation('ok'), '{not json'], 1), [blankLine(5)]);
    const report = tally.report(FILE);
    expect(report.problems.map((p) => [p.line, p.code])).toEqual([
      [3, 'INVALID_JSON'],
      [5, 'BLANK_LINE'],
    ]);
    expect(report.problemCounts).toEqual({ error: 1, warning: 0 });
  });

  it('lists at most maxProblems problems', () => {
    const tally = new ReportTally(100, 2, false);
    tally.merge(batch(['{bad', '{bad', '{bad'], 1), []);
    expect(tally.report(FILE).problems.map((p) => p.line)).toEqual([1, 2]);
    // Later batches add nothing to a full list.
    tally.merge(batch(['{bad'], 4), [blankLine(5)]);
    expect(tally.report(FILE).problems.map((p) => p.line)).toEqual([1, 2]);
  });

  it('lists at most maxFindings findings while counting all of them', () => {
    const tally = new ReportTally(2, 100, false);
    tally.merge(batch([conversation(`mail ${fake.email}, ${fake.email} and ${fake.email}`)], 1), []);
    const report = tally.report(FILE);
    expect(report.findings.map((f) => [f.type, f.line])).toEqual([
      ['EMAIL', 1],
      ['EMAIL', 1],
    ]);
    expect(report.totalFindings).toBe(3);
    expect(report.counts.byType).toEqual({ EMAIL: 3 });
  });

  it('adds up the token estimates of every batch', () => {
    const tally = new ReportTally(100, 100, false);
    const first = batch([conversation('What is the return window for shoes?')], 1);
    const second = batch([conversation('And for jackets bought on sale?')], 2);
    expect(first.tokensTotal).toBeGreaterThan(0);
    expect(second.tokensTotal).toBeGreaterThan(0);
    tally.merge(first, []);
    tally.merge(second, []);
    expect(tally.report(FILE).estimatedTokens).toEqual({
      total: first.tokensTotal + second.tokensTotal,
      maxPerRecord: Math.max(first.tokensMax, second.tokensMax),
    });
  });

  it('keeps no sanitized copy when it is not redacting', () => {
    const tally = new ReportTally(100, 100, false);
    const result = batch([conversation('hello')], 1);
    expect(result.sanitized).not.toBe('');
    tally.merge(result, []);
    expect(tally.takeOutput(0)).toBeUndefined();
  });

  it('hands out the sanitized copy once at least min characters of it are merged', () => {
    const tally = new ReportTally(100, 100, true);
    const first = batch([conversation(`mail ${fake.email}`)], 1);
    const second = batch([conversation('plain question')], 2);
    tally.merge(first, []);
    expect(tally.takeOutput(first.sanitized.length + 1)).toBeUndefined();
    tally.merge(second, []);
    const size = first.sanitized.length + second.sanitized.length;
    const text = tally.takeOutput(size);
    expect(text).toBe(first.sanitized + second.sanitized);
    expect(text).toContain('<EMAIL>');
    expect(text).not.toContain(fake.email);
  });

  it('hands out each piece of the sanitized copy once', () => {
    const tally = new ReportTally(100, 100, true);
    const first = batch([conversation('first question')], 1);
    const second = batch([conversation('second question')], 2);
    tally.merge(first, []);
    expect(tally.takeOutput(1)).toBe(first.sanitized);
    // Nothing new since: nothing to hand out, even with no minimum.
    expect(tally.takeOutput(0)).toBeUndefined();
    tally.merge(second, []);
    expect(tally.takeOutput(1)).toBe(second.sanitized);
  });
});
