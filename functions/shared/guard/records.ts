/**
 * Record-level checks of a batch of complete lines: UTF-8, JSON, the family schema, the token
 * estimate, secrets and PII, and the sanitized copy. Pure computation on bytes: it runs on the
 * scanning thread, or on worker threads for large inputs (see pool.ts), with the same result.
 *
 * The main thread has already dealt with what needs the whole file (BOM, CRLF and blank-line
 * problems, line lengths, record counts); here those lines are only skipped or trimmed.
 *
 * Most lines are plain records with nothing to report; fastpath.ts recognises those in one pass
 * without JSON.parse. Every other line, and any line where it finds the least thing to say, takes
 * the full path below, which alone words problems and findings.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { DETECTORS, detectAll, FULL_MASK, lineGateMask, type TypedMatch } from './registry';
import { FALLBACK, plainRecordChars } from './fastpath';
import { CHARS_PER_TOKEN, type DatasetLimits, type FamilyId } from './limits';
import { maskValue } from './mask';
import { checkRecord, safeFieldName } from './schemas';
import type { Finding, FindingCounts, FindingType, Problem, ProblemCode, ProblemLevel } from './types';
import { SEVERITIES, SEVERITY_RANK } from './types';

/** Everything a batch needs to know about the scan; structured-clone safe, so it can cross to a worker. */
export interface RecordScanConfig {
  family: FamilyId;
  limits: DatasetLimits;
  /** Index into SEVERITIES of the blocking threshold. */
  thresholdRank: number;
  allowValues: string[];
  allowPatterns: { source: string; flags: string }[];
  maxFindings: number;
  maxProblems: number;
  redact: boolean;
  /** Off only in tests that compare the fast path (fastpath.ts) with the full checks. */
  fastPath?: boolean;
}

/** What one batch contributes to the report. Plain data: it crosses back from workers. */
export interface BatchResult {
  problems: Problem[];
  problemCounts: { error: number; warning: number };
  findings: Finding[];
  totalFindings: number;
  blockingFindings: number;
  suppressed: number;
  counts: FindingCounts;
  validRecords: number;
  tokensTotal: number;
  tokensMax: number;
  /** Sanitized lines, `\n`-terminated, when redacting. */
  sanitized: string;
}

/** Batches are decoded in pieces of about this many bytes (whole lines). */
const DECODE_BYTES = 64 * 1024;
/** Deeper records are scanned as raw text: recursion stays shallow and nothing goes unscanned. */
const MAX_DEPTH = 64;
/** Fields that hold labels, not content: left out of the token estimate. */
const NON_TEXT_FIELDS = new Set(['role', 'schemaVersion', 'format', 'uri', 'bucketOwner']);
/**
 * Field names and label values of the formats. They occur several times in every record and
 * can hold nothing sensitive, so they skip the detectors; any other key or value is scanned.
 */
const SCHEMA_KEYS = new Set([
  'prompt',
  'completion',
  'schemaVersion',
  'system',
  'messages',
  'role',
  'content',
  'text',
  'image',
  'video',
  'format',
  'source',
  's3Location',
  'uri',
  'bucketOwner',
  'reasoningContent',
  'reasoningText',
  'input',
  'reference_answer',
]);
const LABEL_VALUES = new Set(['user', 'assistant', 'system', 'bedrock-conversation-2024']);

/** Thousands separators without Intl: the first toLocaleString call costs milliseconds of ICU setup. */
export function formatCount(n: number): string {
  const digits = String(Math.trunc(Math.abs(n)));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? `-${out}` : out;
}

/** V8's JSON errors quote the input; keep only the position. */
function jsonErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/end of JSON input|Unterminated string/i.test(message)) {
    return 'not valid JSON: the record ends before it is complete';
  }
  const position = /position (\d+)/.exec(message);
  return position
    ? `not valid JSON (column ${Number(position[1]) + 1})`
    : 'not valid JSON: each line must be one JSON object';
}

/** Replaces non-overlapping, sorted matches with their typed placeholders (`<EMAIL>`). */
export function replaceMatches(
  text: string,
  matches: readonly { start: number; end: number; type: FindingType }[],
): string {
  let out = '';
  let pos = 0;
  for (const m of matches) {
    out += `${text.slice(pos, m.start)}<${m.type}>`;
    pos = m.end;
  }
  return out + text.slice(pos);
}

/** `obj[key] = v` would set the prototype for "__proto__", leaving the own property unredacted. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** Empty, or only spaces and tabs: reported by the main thread, skipped here. */
function isBlank(buf: Buffer, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) if (buf[i] !== 32 && buf[i] !== 9) return false;
  return true;
}

function isBlankText(text: string, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

class TooDeepError extends Error {
  override readonly name = 'TooDeepError';
}

/** Adds `from` into `into`, type by type and severity by severity. */
export function addCounts(into: FindingCounts, from: FindingCounts): void {
  for (const { type } of DETECTORS) {
    const n = from.byType[type];
    if (n) into.byType[type] = (into.byType[type] ?? 0) + n;
  }
  for (const severity of SEVERITIES) {
    into.bySeverity[severity] += from.bySeverity[severity];
  }
}

function emptyCounts(): FindingCounts {
  return { byType: {}, bySeverity: { low: 0, medium: 0, high: 0, critical: 0 } };
}

export class RecordScanner {
  private readonly allowValues: ReadonlySet<string>;
  private readonly allowPatterns: readonly RegExp[];
  private readonly path: (string | number)[] = [];
  private result: BatchResult = RecordScanner.emptyResult();
  private line = 0;
  private out: string[] = [];

  // Per record, while walking it.
  private gates = 0;
  private recordChars = 0;
  private recordRedacted = false;

  constructor(private readonly config: RecordScanConfig) {
    this.allowValues = new Set(config.allowValues);
    this.allowPatterns = config.allowPatterns.map((p) => new RegExp(p.source, p.flags.replace(/[gy]/g, '')));
  }

  static emptyResult(): BatchResult {
    return {
      problems: [],
      problemCounts: { error: 0, warning: 0 },
      findings: [],
      totalFindings: 0,
      blockingFindings: 0,
      suppressed: 0,
      counts: emptyCounts(),
      validRecords: 0,
      tokensTotal: 0,
      tokensMax: 0,
      sanitized: '',
    };
  }

  /**
   * Checks the `\n`-separated complete lines in `bytes`, the first of which is line `firstLine`.
   * Blank lines are skipped and a trailing `\r` trimmed: the main thread has reported those.
   */
  scanBatch(bytes: Uint8Array, firstLine: number): BatchResult {
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.scanParts([buf], firstLine);
  }

  /**
   * scanBatch of the parts' concatenation, without concatenating: each part holds whole lines,
   * `\n`-terminated except perhaps its last, which its end terminates.
   */
  scanParts(parts: readonly Buffer[], firstLine: number): BatchResult {
    this.result = RecordScanner.emptyResult();
    this.out = [];
    this.line = firstLine;
    for (const buf of parts) {
      if (buf.length === 0) {
        this.line++; // an empty last line
        continue;
      }
      // Decoded in pieces of whole lines: text past V8's large-object threshold (128 KiB) would
      // land on fresh pages, which cost more to fill than the decoding itself, and raise the RSS.
      for (let from = 0; from < buf.length; ) {
        let to = buf.length;
        if (to - from > DECODE_BYTES) {
          const nl = buf.indexOf(10, from + DECODE_BYTES - 1);
          if (nl !== -1) to = nl + 1;
        }
        const piece = from === 0 && to === buf.length ? buf : buf.subarray(from, to);
        // Valid UTF-8 throughout (the normal case): one check, one decode, lines as slices of it.
        // ASCII (most training data) decodes as Latin-1, a plain copy: a third cheaper than UTF-8.
        if (isAscii(piece)) this.scanDecoded(piece.toString('latin1'), true);
        else if (isUtf8(piece)) this.scanDecoded(piece.toString('utf8'), false);
        else this.scanLineByLine(piece);
        from = to;
      }
    }
    const result = this.result;
    if (this.config.redact && this.out.length > 0) result.sanitized = `${this.out.join('\n')}\n`;
    this.out = [];
    return result;
  }

  /** `ascii`: the text is pure ASCII, so no line needs a search for the characters the view maps. */
  private scanDecoded(text: string, ascii: boolean): void {
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      let stop = end;
      if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
      if (!isBlankText(text, start, stop)) this.record(text.slice(start, stop), ascii);
      this.line++;
      start = end + 1;
    }
  }

  /** A batch with invalid UTF-8 somewhere: find the lines, report them, decode with U+FFFD. */
  private scanLineByLine(buf: Buffer): void {
    let start = 0;
    while (start < buf.length) {
      let end = buf.indexOf(10, start);
      if (end === -1) end = buf.length;
      let stop = end;
      if (stop > start && buf[stop - 1] === 13) stop--;
      if (!isBlank(buf, start, stop)) {
        // Invalid sequences decode to U+FFFD, so the rest of the line is still checked and scanned.
        this.record(buf.toString('utf8', start, stop), false, isUtf8(buf.subarray(start, stop)));
      }
      this.line++;
      start = end + 1;
    }
  }

  /**
   * Scans text that is not parsed (a line too long to hold) for findings only. Matches are
   * reported at `line`, with columns offset by `columnBase`.
   */
  scanText(text: string, line: number, columnBase: number, skipEndingBefore: number): BatchResult {
    this.result = RecordScanner.emptyResult();
    this.line = line;
    for (const m of detectAll(text, FULL_MASK, true)) {
      if (m.end <= skipEndingBefore) continue;
      this.addFinding(m, columnBase + m.start + 1, undefined);
    }
    return this.result;
  }

  /**
   * One record. It counts as valid when it raised no error: not invalid UTF-8 (`utf8` false),
   * JSON of the family's shape, not too deep, within the token limit.
   */
  private record(text: string, ascii: boolean, utf8 = true): void {
    const errorsBefore = this.result.problemCounts.error;
    if (!utf8) this.addProblem('error', 'INVALID_UTF8', 'is not valid UTF-8; save the file as UTF-8');
    else if (this.config.fastPath !== false && this.plainRecord(text, ascii)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.addProblem('error', 'INVALID_JSON', jsonErrorReason(error));
      this.rawLine(text);
      return;
    }
    for (const issue of checkRecord(this.config.family, value, text)) {
      this.addProblem(issue.level, issue.code, issue.reason);
    }

    this.gates = lineGateMask(text, text.includes('\\'), ascii);
    this.recordChars = 0;
    this.recordRedacted = false;
    // What the walk found before it met the too-deep part is found again by rawLine: undone first.
    const before = this.findingsSnapshot();
    let sanitized: unknown;
    try {
      sanitized = this.walk(value, 0);
    } catch (error) {
      if (!(error instanceof TooDeepError)) throw error;
      this.path.length = 0;
      this.restoreFindings(before);
      this.addProblem('error', 'SCHEMA', `nests deeper than ${MAX_DEPTH} levels; scanned as plain text`);
      this.rawLine(text);
      return;
    }
    const tokens = Math.ceil(this.recordChars / CHARS_PER_TOKEN);
    this.result.tokensTotal += tokens;
    if (tokens > this.result.tokensMax) this.result.tokensMax = tokens;
    if (tokens > this.config.limits.maxTokensPerRecord) {
      this.addProblem(
        'error',
        'TOO_MANY_TOKENS',
        `has about ${formatCount(tokens)} tokens (${formatCount(this.recordChars)} characters / ${CHARS_PER_TOKEN}), over the ${formatCount(this.config.limits.maxTokensPerRecord)}-token limit`,
      );
    }
    if (this.result.problemCounts.error === errorsBefore) this.result.validRecords++;
    if (this.config.redact) this.out.push(this.recordRedacted ? JSON.stringify(sanitized) : text);
  }

  /**
   * A record the fast path could take whole (see fastpath.ts): valid, nothing found, within the
   * token limit. Contributes what the full path would for it; false sends it the full way.
   */
  private plainRecord(text: string, ascii: boolean): boolean {
    const chars = plainRecordChars(this.config.family, text, ascii);
    if (chars === FALLBACK) return false;
    const tokens = Math.ceil(chars / CHARS_PER_TOKEN);
    if (tokens > this.config.limits.maxTokensPerRecord) return false;
    const result = this.result;
    result.validRecords++;
    result.tokensTotal += tokens;
    if (tokens > result.tokensMax) result.tokensMax = tokens;
    if (this.config.redact) this.out.push(text);
    return true;
  }

  /** A line that is not JSON (or too deep to walk): scanned and redacted as text. */
  private rawLine(text: string): void {
    const kept: TypedMatch[] = [];
    for (const m of detectAll(text, FULL_MASK, true)) {
      if (this.addFinding(m, m.start + 1, undefined)) kept.push(m);
    }
    // Placeholders are plain ASCII without quotes or backslashes, and a match covers whole escape
    // sequences (normalize.ts), so the replacement cannot change the line's JSON structure.
    if (this.config.redact) this.out.push(kept.length > 0 ? replaceMatches(text, kept) : text);
  }

  /** Visits every string (values and keys); returns the node with findings replaced. */
  private walk(node: unknown, depth: number): unknown {
    if (typeof node === 'string') {
      const key = this.path[this.path.length - 1];
      if (typeof key === 'string' && NON_TEXT_FIELDS.has(key)) {
        if (LABEL_VALUES.has(node)) return node;
      } else {
        this.recordChars += node.length;
      }
      return this.scanString(node);
    }
    if (typeof node !== 'object' || node === null) return node;
    if (depth >= MAX_DEPTH) throw new TooDeepError();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        this.path.push(i);
        const next = this.walk(node[i], depth + 1);
        this.path.pop();
        if (next !== node[i]) node[i] = next;
      }
      return node;
    }
    const obj = node as Record<string, unknown>;
    let renamed: Map<string, string> | undefined;
    for (const key in obj) {
      this.path.push(key);
      const value = obj[key];
      const next = this.walk(value, depth + 1);
      if (next !== value) setOwn(obj, key, next);
      const safeKey = this.scanKey(key);
      this.path.pop();
      if (safeKey !== key) {
        if (!renamed) renamed = new Map();
        renamed.set(key, safeKey);
      }
    }
    if (!renamed) return obj;
    // Rare: a key itself held a finding. Rebuild in order with the key replaced.
    const rebuilt: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) setOwn(rebuilt, renamed.get(key) ?? key, obj[key]);
    return rebuilt;
  }

  private scanString(text: string): string {
    const matches = detectAll(text, this.gates);
    if (matches.length === 0) return text;
    const kept: TypedMatch[] = [];
    for (const m of matches) {
      if (this.addFinding(m, m.start + 1, this.fieldPath())) kept.push(m);
    }
    if (kept.length === 0) return text;
    this.recordRedacted = true;
    return replaceMatches(text, kept);
  }

  private scanKey(key: string): string {
    if (SCHEMA_KEYS.has(key)) return key;
    const matches = detectAll(key, this.gates);
    if (matches.length === 0) return key;
    // The path still ends with this key; the finding names its parent, never the key itself.
    const parent = this.fieldPath(1);
    const where = parent ? `a field name in ${parent}` : 'a field name';
    const kept = matches.filter((m) => this.addFinding(m, m.start + 1, where));
    if (kept.length === 0) return key;
    this.recordRedacted = true;
    return replaceMatches(key, kept);
  }

  /** The current path, e.g. messages[1].content[0].text, leaving off the last `dropLast` parts. */
  private fieldPath(dropLast = 0): string {
    let out = '';
    for (let i = 0; i < this.path.length - dropLast; i++) {
      const part = this.path[i] as string | number;
      if (typeof part === 'number') out += `[${part}]`;
      else {
        // Field names outside the format are shown only when they cannot be data (see safeFieldName).
        const name = SCHEMA_KEYS.has(part) || safeFieldName(part) === `"${part}"` ? part : '<field>';
        out += out ? `.${name}` : name;
      }
    }
    return out;
  }

  private findingsSnapshot() {
    const { findings, totalFindings, blockingFindings, suppressed, counts } = this.result;
    return {
      findings: findings.length,
      totalFindings,
      blockingFindings,
      suppressed,
      byType: { ...counts.byType },
      bySeverity: { ...counts.bySeverity },
    };
  }

  private restoreFindings(snapshot: ReturnType<RecordScanner['findingsSnapshot']>): void {
    const result = this.result;
    result.findings.length = snapshot.findings;
    result.totalFindings = snapshot.totalFindings;
    result.blockingFindings = snapshot.blockingFindings;
    result.suppressed = snapshot.suppressed;
    result.counts = { byType: snapshot.byType, bySeverity: snapshot.bySeverity };
  }

  /** Records a finding unless allow-listed; returns whether it should be redacted. */
  private addFinding(m: TypedMatch, column: number, field: string | undefined): boolean {
    const value = m.value;
    if (this.allowValues.has(value) || this.allowPatterns.some((p) => p.test(value))) {
      this.result.suppressed++;
      return false;
    }
    const result = this.result;
    result.totalFindings++;
    result.counts.byType[m.type] = (result.counts.byType[m.type] ?? 0) + 1;
    result.counts.bySeverity[m.severity]++;
    if (SEVERITY_RANK[m.severity] >= this.config.thresholdRank) result.blockingFindings++;
    if (result.findings.length < this.config.maxFindings) {
      const finding: Finding = {
        type: m.type,
        severity: m.severity,
        line: this.line,
        column,
        preview: maskValue(m.type, value),
      };
      if (field !== undefined) finding.field = field;
      if (m.example) finding.example = true;
      result.findings.push(finding);
    }
    return true;
  }

  private addProblem(level: ProblemLevel, code: ProblemCode, reason: string): void {
    this.result.problemCounts[level]++;
    if (this.result.problems.length < this.config.maxProblems) {
      this.result.problems.push({ level, code, line: this.line, reason });
    }
  }
}
