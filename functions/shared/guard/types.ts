import type { Writable } from 'node:stream';
import type { DatasetLimits, FamilyId } from './limits';

/** Ordered weakest first, so a threshold compares by index. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

export type Severity = (typeof SEVERITIES)[number];

/** Each severity's index in SEVERITIES, as a table (read per finding). */
export const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity];
}

export type FindingType =
  | 'AWS_ACCESS_KEY_ID'
  | 'AWS_SECRET_ACCESS_KEY'
  | 'PRIVATE_KEY'
  | 'GITHUB_TOKEN'
  | 'SLACK_TOKEN'
  | 'SLACK_WEBHOOK'
  | 'STRIPE_KEY'
  | 'GOOGLE_API_KEY'
  | 'JWT'
  | 'GENERIC_SECRET'
  | 'EMAIL'
  | 'PHONE'
  | 'CARD_NUMBER'
  | 'US_SSN'
  | 'IBAN'
  | 'IPV4'
  | 'IPV6';

/** What a detector reports about one match, by offsets into the text it was given. */
export interface DetectorMatch {
  start: number;
  end: number;
  severity: Severity;
  /** A documented example or test value (AWS's AKIAIOSFODNN7EXAMPLE, card 4242…, user@example.com). */
  example: boolean;
}

export interface Detector {
  readonly type: FindingType;
  /** The severity of a real (non-example) match; a detector may lower it per match. */
  readonly severity: Severity;
  /** A cheap precondition: false only when `find(text)` cannot match. */
  gate(text: string): boolean;
  /** The precondition on a raw JSONL line: true whenever `gate` is true on one of its strings. */
  lineGate(line: string): boolean;
  /** Every match in text (correct without the gate; the gate only saves work). */
  find(text: string): DetectorMatch[];
  /** When the line gate is "one of these literals is in the line": the literals. */
  readonly lineLiterals?: readonly string[];
}

export interface Finding {
  type: FindingType;
  severity: Severity;
  /** 1-based line of the file. */
  line: number;
  /**
   * 1-based position of the match: within the decoded string value when `field` is set,
   * within the line's text when the line could not be parsed as JSON.
   */
  column?: number;
  /** Path of the JSON string value, e.g. `messages[1].content[0].text`. */
  field?: string;
  /** Masked: never the raw value. */
  preview: string;
  example?: true;
}

export type ProblemLevel = 'error' | 'warning';

export type ProblemCode =
  | 'EMPTY_FILE'
  | 'BOM'
  | 'CRLF'
  | 'BLANK_LINE'
  | 'INVALID_UTF8'
  | 'LINE_TOO_LONG'
  | 'INVALID_JSON'
  | 'SCHEMA'
  | 'UNKNOWN_FIELD'
  | 'RESERVED_KEYWORD'
  | 'TOO_MANY_TOKENS'
  | 'TOO_FEW_RECORDS'
  | 'TOO_MANY_RECORDS'
  | 'FILE_TOO_LARGE';

export interface Problem {
  level: ProblemLevel;
  code: ProblemCode;
  /** 1-based; absent for problems of the whole file (empty, too few records, too large). */
  line?: number;
  /** A sentence for a person; never quotes training data. */
  reason: string;
}

export type Policy = 'block' | 'redact' | 'report';

export type Verdict = 'pass' | 'redact' | 'block' | 'invalid';

export interface AllowList {
  /** Values suppressed when a finding equals one of them exactly. */
  values?: readonly string[];
  /** Regular expressions (objects or sources) tested against each finding's value. */
  patterns?: readonly (string | RegExp)[];
}

export interface ScanOptions {
  family: FamilyId;
  /** Overrides of the family's default limits (see limits.ts). */
  limits?: Partial<DatasetLimits>;
  policy: Policy;
  /** Findings at or above this severity make the verdict `block` / `redact`. Default `high`. */
  blockAtOrAbove?: Severity;
  allowList?: AllowList;
  onProgress?: (bytesRead: number) => void;
  /** With policy `redact`: receives the sanitized copy, line by line. Not ended by the scanner. */
  redactTo?: Writable;
  /** Caps the detailed findings list; counts stay exact. Default 100. */
  maxFindingsListed?: number;
  /** Caps the problems list; counts stay exact. Default 100. */
  maxProblemsListed?: number;
  /**
   * Worker threads for the record checks: a number, or 'auto' (one per CPU beyond the two that
   * read and hash, at most 3). Default 0: everything on the calling thread, which suits a one-vCPU
   * Lambda. The report is the same either way; workers that cannot start are simply not used.
   */
  parallelism?: number | 'auto';
  /**
   * CPUs the scan may use, when the machine says more than it gives (a Lambda function reports
   * two or more cores at any memory size). Default: os.availableParallelism(). Hashing moves to
   * a thread of its own only when a CPU is left for it beside the reader and the workers.
   */
  cpus?: number;
  /**
   * The file worker threads load. Defaults to the guard's own worker module when it runs from
   * its own file; a bundle must pass its own path and not start its entry point in a worker.
   */
  workerFile?: string;
}

export interface FindingCounts {
  byType: Partial<Record<FindingType, number>>;
  bySeverity: Record<Severity, number>;
}

export interface ScanReport {
  verdict: Verdict;
  policy: Policy;
  family: FamilyId;
  limits: DatasetLimits;
  /** Non-blank lines, each one a record whether or not it is valid. */
  records: number;
  /** Records that raised no error (a warning such as an unknown field leaves one valid). */
  validRecords: number;
  lines: number;
  bytes: number;
  sha256: string;
  /** Estimated as characters / 6, the ratio the Bedrock user guide gives. */
  estimatedTokens: { total: number; maxPerRecord: number };
  problems: Problem[];
  problemCounts: { error: number; warning: number };
  findings: Finding[];
  totalFindings: number;
  counts: FindingCounts;
  /** Findings dropped because the allow-list matched them. */
  suppressed: number;
  /** A sanitized copy was written to `redactTo`. */
  redacted: boolean;
}
