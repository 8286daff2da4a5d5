import type { ScanReport, Severity, Verdict } from './types';

/** What a Step Functions state or a log line may carry: counts, hash, a few problems. Never findings. */
export interface ScanSummaryPayload {
  verdict: Verdict;
  family: ScanReport['family'];
  records: number;
  bytes: number;
  sha256: string;
  totalFindings: number;
  bySeverity: Record<Severity, number>;
  byType: Record<string, number>;
  problems: { error: number; warning: number };
  firstProblems: string[];
}

const FIRST_PROBLEMS = 5;
const MAX_PROBLEM_CHARS = 240;

export function formatProblem(problem: { line?: number; reason: string }): string {
  return problem.line === undefined ? problem.reason : `line ${problem.line}: ${problem.reason}`;
}

/**
 * A summary that stays far below Step Functions' 256 KiB payload limit and our own 8 KiB budget:
 * at most 5 problems of at most 240 characters, and per-type counts (17 types at most).
 */
export function summarize(report: ScanReport): ScanSummaryPayload {
  const byType: Record<string, number> = {};
  for (const [type, n] of Object.entries(report.counts.byType)) byType[type] = n ?? 0;
  const ordered = [
    ...report.problems.filter((p) => p.level === 'error'),
    ...report.problems.filter((p) => p.level === 'warning'),
  ];
  return {
    verdict: report.verdict,
    family: report.family,
    records: report.records,
    bytes: report.bytes,
    sha256: report.sha256,
    totalFindings: report.totalFindings,
    bySeverity: { ...report.counts.bySeverity },
    byType,
    problems: { ...report.problemCounts },
    firstProblems: ordered.slice(0, FIRST_PROBLEMS).map((p) => {
      const text = formatProblem(p);
      return text.length > MAX_PROBLEM_CHARS ? `${text.slice(0, MAX_PROBLEM_CHARS - 1)}…` : text;
    }),
  };
}
