/**
 * The scan's report: batch results (records.ts) and the problems the reading thread found itself,
 * merged in line order, and the verdict the policy draws from them.
 */
import { addCounts, type BatchResult } from '../records';
import type { Finding, FindingCounts, Policy, Problem, ScanReport, Verdict } from '../types';

/** What the report says about the file itself, known to the reader rather than to the batches. */
export type FileFacts = Pick<
  ScanReport,
  'policy' | 'family' | 'limits' | 'records' | 'lines' | 'bytes' | 'sha256'
>;

export class ReportTally {
  private readonly problems: Problem[] = [];
  /** Counted when found; a problem is listed when the batch holding its line is merged. */
  readonly problemCounts = { error: 0, warning: 0 };
  private readonly findings: Finding[] = [];
  private totalFindings = 0;
  private blockingFindings = 0;
  private suppressed = 0;
  private validRecords = 0;
  private tokensTotal = 0;
  private tokensMax = 0;
  private readonly counts: FindingCounts = {
    byType: {},
    bySeverity: { low: 0, medium: 0, high: 0, critical: 0 },
  };

  // The sanitized copy, merged in line order until it is flushed.
  private out: string[] = [];
  private outBytes = 0;

  constructor(
    private readonly maxFindings: number,
    private readonly maxProblems: number,
    private readonly redacting: boolean,
  ) {}

  merge(result: BatchResult, mainProblems: Problem[]): void {
    const problems =
      mainProblems.length === 0
        ? result.problems
        : [...mainProblems, ...result.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    for (const problem of problems) {
      if (this.problems.length >= this.maxProblems) break;
      this.problems.push(problem);
    }
    this.problemCounts.error += result.problemCounts.error;
    this.problemCounts.warning += result.problemCounts.warning;
    for (const finding of result.findings) {
      if (this.findings.length >= this.maxFindings) break;
      this.findings.push(finding);
    }
    this.totalFindings += result.totalFindings;
    this.blockingFindings += result.blockingFindings;
    this.suppressed += result.suppressed;
    addCounts(this.counts, result.counts);
    this.validRecords += result.validRecords;
    this.tokensTotal += result.tokensTotal;
    this.tokensMax = Math.max(this.tokensMax, result.tokensMax);
    if (this.redacting && result.sanitized) {
      this.out.push(result.sanitized);
      this.outBytes += result.sanitized.length;
    }
  }

  /** The sanitized text merged since the last call, once there is at least `min` of it. */
  takeOutput(min: number): string | undefined {
    if (this.out.length === 0 || this.outBytes < min) return undefined;
    const text = this.out.join('');
    this.out = [];
    this.outBytes = 0;
    return text;
  }

  report(file: FileFacts): ScanReport {
    return {
      verdict: verdict(file.policy, this.problemCounts.error > 0, this.blockingFindings > 0),
      policy: file.policy,
      family: file.family,
      limits: file.limits,
      records: file.records,
      validRecords: this.validRecords,
      lines: file.lines,
      bytes: file.bytes,
      sha256: file.sha256,
      estimatedTokens: { total: this.tokensTotal, maxPerRecord: this.tokensMax },
      problems: this.problems,
      problemCounts: this.problemCounts,
      findings: this.findings,
      totalFindings: this.totalFindings,
      counts: this.counts,
      suppressed: this.suppressed,
      redacted: this.redacting,
    };
  }
}

/**
 * `block` wins over `invalid`: a file holding a private key must be quarantined even if it is
 * also malformed. Under `redact` and `report`, malformed data is `invalid` first.
 */
function verdict(policy: Policy, invalid: boolean, sensitive: boolean): Verdict {
  switch (policy) {
    case 'block':
      if (sensitive) return 'block';
      return invalid ? 'invalid' : 'pass';
    case 'redact':
      if (invalid) return 'invalid';
      return sensitive ? 'redact' : 'pass';
    case 'report':
      return invalid ? 'invalid' : 'pass';
  }
}
