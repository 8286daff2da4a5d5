/**
 * The streaming training-data scan: one pass over the bytes, memory bounded by the largest
 * allowed line and a few batches in flight, whatever the file size.
 *
 * Lines are split on `\n` here rather than by readline so the scan sees what readline hides: a
 * BOM, `\r\n` endings, blank lines, and lines too long to hold in memory. This thread also counts
 * records and hashes the bytes; the record checks themselves (records.ts) run on batches of
 * complete lines, here or on worker threads (pool.ts), and their results are merged in order.
 */
import { availableParallelism } from 'node:os';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { StreamHash } from './hash';
import { limitsFor, type DatasetLimits } from './limits';
import { RecordScanPool } from './pool';
import { addCounts, type BatchResult, formatCount, type RecordScanConfig, RecordScanner } from './records';
import { familyLabel } from './schemas';
import { OWN_WORKER_FILE } from './worker';
import {
  type Finding,
  type FindingCounts,
  type Problem,
  type ProblemCode,
  type ProblemLevel,
  type ScanOptions,
  type ScanReport,
  type Verdict,
  severityRank,
} from './types';

const BOM = [0xef, 0xbb, 0xbf];
/** Complete lines are checked in batches of about this size when some go to worker threads. */
const BATCH_BYTES = 256 * 1024;
/**
 * In-thread batches are smaller: checked as they come, about a read chunk at a time, so the work
 * is spread evenly between reads, and checked where they lie (no copy into one buffer).
 */
const LOCAL_BATCH_BYTES = 64 * 1024;
/** Batches whose results may be outstanding before reading waits: bounds memory in flight. */
const MAX_QUEUED_BATCHES = 16;
/** Overlong lines are scanned in decoded segments; this much of the previous one is re-read. */
const SEGMENT_OVERLAP = 4096;
const FLUSH_BYTES = 256 * 1024;

interface QueuedBatch {
  result: Promise<BatchResult>;
  settled: BatchResult | undefined;
  failed: unknown;
  /** Problems this thread found on the batch's lines (blank, CRLF, record limit). */
  mainProblems: Problem[];
}

/**
 * 'auto': a worker per CPU beyond two, one for reading and one for hashing (a worker sharing a
 * core with them costs the copies and hand-overs and gains nothing), at most 3.
 */
function workerCount(parallelism: ScanOptions['parallelism'], cpus: number): number {
  if (parallelism === 'auto') return Math.max(0, Math.min(3, cpus - 2));
  return Math.max(0, Math.floor(parallelism ?? 0));
}

class Scanner {
  private readonly limits: DatasetLimits;
  private readonly hash: StreamHash;
  private readonly local: RecordScanner;
  private readonly pool: RecordScanPool | undefined;
  private readonly redactTo: Writable | undefined;
  private readonly maxFindings: number;
  private readonly maxProblems: number;
  private readonly batchLimit: number;

  private bytes = 0;
  private bomState = 0;
  private bomResolved = false;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private lineNo = 0;
  private records = 0;
  private crlfLines = 0;
  private crlfProblem: Problem | undefined;
  private tooManyReported = false;

  // The batch being assembled: complete lines, as views of the chunks they came in. Consecutive
  // lines of one chunk extend a single open view.
  private batchParts: Buffer[] = [];
  private openBuf: Buffer | undefined;
  private openStart = 0;
  private openEnd = 0;
  private batchBytes = 0;
  private batchFirstLine = 1;
  private batchProblems: Problem[] = [];
  private seq = 0;
  private readonly queue: QueuedBatch[] = [];

  // An overlong line being streamed through.
  private longLine = false;
  private longBytes = 0;
  private longChars = 0;
  private longTail = '';
  private longInvalidUtf8 = false;
  private longDecoder: TextDecoder | undefined;
  private longResult: BatchResult | undefined;

  // The report, merged in line order.
  private readonly problems: Problem[] = [];
  private readonly problemCounts = { error: 0, warning: 0 };
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

  private out: string[] = [];
  private outBytes = 0;

  constructor(private readonly options: ScanOptions) {
    this.limits = { ...limitsFor(options.family), ...options.limits };
    this.maxFindings = options.maxFindingsListed ?? 100;
    this.maxProblems = options.maxProblemsListed ?? 100;
    this.redactTo = options.policy === 'redact' ? options.redactTo : undefined;
    const config: RecordScanConfig = {
      family: options.family,
      limits: this.limits,
      thresholdRank: severityRank(options.blockAtOrAbove ?? 'high'),
      allowValues: [...(options.allowList?.values ?? [])],
      allowPatterns: (options.allowList?.patterns ?? []).map((p) =>
        typeof p === 'string' ? { source: p, flags: '' } : { source: p.source, flags: p.flags },
      ),
      maxFindings: this.maxFindings,
      maxProblems: this.maxProblems,
      redact: this.redactTo !== undefined,
    };
    this.local = new RecordScanner(config);
    const cpus = options.cpus ?? availableParallelism();
    const workers = workerCount(options.parallelism, cpus);
    // Hashing gets a thread of its own only on a core left over by this one and the record checks.
    this.hash = new StreamHash(cpus > 1 + workers);
    const workerFile = options.workerFile ?? OWN_WORKER_FILE;
    this.pool =
      workers > 0 && workerFile ? new RecordScanPool(config, workers, workerFile, this.local) : undefined;
    this.batchLimit = this.pool ? BATCH_BYTES : LOCAL_BATCH_BYTES;
  }

  get bytesRead(): number {
    return this.bytes;
  }

  // -------------------------------------------------------------------------------------------
  // Bytes → lines

  /** Returns a promise when the hashing thread or the batch queue asks the reader to wait. */
  push(chunk: Buffer): Promise<void> | undefined {
    const hashing = this.hash.update(chunk);
    this.bytes += chunk.length;
    this.splitLines(chunk);
    const merging = this.mergeSettled();
    if (hashing && merging) return Promise.all([hashing, merging]).then(() => undefined);
    return hashing ?? merging;
  }

  private splitLines(chunk: Buffer): void {
    let pos = 0;
    if (!this.bomResolved) pos = this.skipBom(chunk);
    while (pos < chunk.length) {
      if (this.longLine) {
        const nl = chunk.indexOf(10, pos);
        const end = nl === -1 ? chunk.length : nl;
        this.feedLongLine(chunk.subarray(pos, end));
        if (nl === -1) return;
        this.endLongLine();
        pos = nl + 1;
        continue;
      }
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) {
        this.addCarry(chunk.subarray(pos));
        return;
      }
      if (this.carryBytes > 0) {
        this.carry.push(chunk.subarray(pos, nl));
        const line = Buffer.concat(this.carry, this.carryBytes + nl - pos);
        this.carry = [];
        this.carryBytes = 0;
        this.completeLine(line, 0, line.length);
      } else {
        this.completeLine(chunk, pos, nl);
      }
      pos = nl + 1;
    }
  }

  /** Consumes a leading UTF-8 BOM, even when it arrives split across chunks. */
  private skipBom(chunk: Buffer): number {
    let pos = 0;
    while (!this.bomResolved && pos < chunk.length) {
      if (chunk[pos] !== BOM[this.bomState]) {
        // Not a BOM after all: give back the bytes taken so far.
        this.bomResolved = true;
        if (this.bomState > 0) this.addCarry(Buffer.from(BOM.slice(0, this.bomState)));
        return pos;
      }
      this.bomState++;
      pos++;
      if (this.bomState === BOM.length) {
        this.bomResolved = true;
        this.addProblem(
          'error',
          'BOM',
          1,
          'the file starts with a UTF-8 byte-order mark, which Bedrock reads as part of the first record; save it as UTF-8 without BOM',
        );
      }
    }
    return pos;
  }

  private addCarry(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // Copied: a view would pin the whole chunk until the line completes.
    this.carry.push(Buffer.from(bytes));
    this.carryBytes += bytes.length;
    if (this.carryBytes > this.limits.maxLineBytes) {
      const pending = Buffer.concat(this.carry, this.carryBytes);
      this.carry = [];
      this.carryBytes = 0;
      this.startLongLine();
      this.feedLongLine(pending);
    }
  }

  /** A complete line (without its `\n`): counted and checked here, then batched for the record checks. */
  private completeLine(buf: Buffer, start: number, end: number): void {
    if (end - start > this.limits.maxLineBytes) {
      this.startLongLine();
      this.feedLongLine(buf.subarray(start, end));
      this.endLongLine();
      return;
    }
    this.lineNo++;
    let stop = end;
    if (stop > start && buf[stop - 1] === 13) {
      stop--;
      this.noteCrlf();
    }
    if (isBlank(buf, start, stop)) {
      this.addProblem(
        'warning',
        'BLANK_LINE',
        this.lineNo,
        'blank line: Bedrock expects one JSON record on every line',
      );
    } else {
      this.records++;
      this.countRecordLimit();
    }
    // Every line goes into the batch, blank ones too, so a batch's line numbers are consecutive.
    if (buf[end] === 10) {
      if (this.openBuf === buf && this.openEnd === start) {
        this.openEnd = end + 1;
      } else {
        this.closeOpenPart();
        this.openBuf = buf;
        this.openStart = start;
        this.openEnd = end + 1;
      }
    } else {
      // A line assembled from pieces (or the last line of the file): it has no `\n` of its own.
      // Checked here, it is a part by itself; bound for a worker, it is copied with one added.
      this.closeOpenPart();
      this.batchParts.push(buf.subarray(start, end));
      if (this.pool) this.batchParts.push(NEWLINE);
    }
    this.batchBytes += end - start + 1;
    if (this.batchBytes >= this.batchLimit) this.dispatchBatch();
  }

  private closeOpenPart(): void {
    if (!this.openBuf) return;
    this.batchParts.push(this.openBuf.subarray(this.openStart, this.openEnd));
    this.openBuf = undefined;
  }

  private noteCrlf(): void {
    this.crlfLines++;
    if (this.crlfLines === 1) {
      this.crlfProblem = this.addProblem(
        'warning',
        'CRLF',
        this.lineNo,
        'ends with CRLF (Windows line ending)',
      );
    }
  }

  private countRecordLimit(): void {
    if (this.records > this.limits.maxRecords && !this.tooManyReported) {
      this.tooManyReported = true;
      this.addProblem(
        'error',
        'TOO_MANY_RECORDS',
        this.lineNo,
        `is record ${formatCount(this.records)}, over the maximum of ${formatCount(this.limits.maxRecords)} records`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Batches

  private dispatchBatch(): void {
    this.closeOpenPart();
    if (this.batchParts.length === 0) {
      if (this.batchProblems.length > 0) this.enqueue(RecordScanner.emptyResult());
      return;
    }
    if (!this.pool) {
      // In-thread: the parts are checked where they lie, no copy.
      this.enqueue(this.local.scanParts(this.batchParts, this.batchFirstLine));
      return;
    }
    const bytes = sharedCopy(this.batchParts, this.batchBytes);
    this.enqueue(this.pool.submit({ seq: this.seq++, bytes, firstLine: this.batchFirstLine }));
  }

  /** Queues the batch's result (already known when checked in-thread) and starts the next batch. */
  private enqueue(result: BatchResult | Promise<BatchResult>): void {
    const queued: QueuedBatch =
      result instanceof Promise
        ? { result, settled: undefined, failed: undefined, mainProblems: this.batchProblems }
        : {
            result: Promise.resolve(result),
            settled: result,
            failed: undefined,
            mainProblems: this.batchProblems,
          };
    if (result instanceof Promise) {
      result.then(
        (r) => {
          queued.settled = r;
        },
        (error: unknown) => {
          queued.failed = error;
        },
      );
    }
    this.queue.push(queued);
    this.batchParts = [];
    this.batchBytes = 0;
    this.batchFirstLine = this.lineNo + 1;
    this.batchProblems = [];
  }

  /** Merges the results already in, in order; returns a promise when too many are still out. */
  private mergeSettled(): Promise<void> | undefined {
    while (this.queue.length > 0) {
      const head = this.queue[0] as QueuedBatch;
      if (head.failed !== undefined) throw head.failed;
      if (!head.settled) break;
      this.queue.shift();
      this.merge(head.settled, head.mainProblems);
    }
    if (this.queue.length <= MAX_QUEUED_BATCHES) return undefined;
    return this.waitForHead();
  }

  private async waitForHead(): Promise<void> {
    while (this.queue.length > MAX_QUEUED_BATCHES) {
      const head = this.queue.shift() as QueuedBatch;
      this.merge(await head.result, head.mainProblems);
    }
  }

  private merge(result: BatchResult, mainProblems: Problem[]): void {
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
    if (this.redactTo && result.sanitized) {
      this.out.push(result.sanitized);
      this.outBytes += result.sanitized.length;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Lines too long to hold: counted, scanned for secrets in segments, never parsed

  private startLongLine(): void {
    this.dispatchBatch();
    this.longLine = true;
    this.longBytes = 0;
    this.longChars = 0;
    this.longTail = '';
    this.longInvalidUtf8 = false;
    this.longDecoder = new TextDecoder('utf-8', { fatal: true });
    this.longResult = RecordScanner.emptyResult();
    this.lineNo++;
    this.records++;
    this.countRecordLimit();
  }

  private feedLongLine(bytes: Buffer): void {
    this.longBytes += bytes.length;
    let text: string;
    try {
      text = (this.longDecoder ?? new TextDecoder()).decode(bytes, { stream: true });
    } catch {
      this.longInvalidUtf8 = true;
      this.longDecoder = new TextDecoder('utf-8');
      text = this.longDecoder.decode(bytes, { stream: true });
    }
    this.scanLongSegment(text);
  }

  private scanLongSegment(text: string): void {
    if (text.length === 0 || !this.longResult) return;
    const segment = this.longTail + text;
    const base = this.longChars - this.longTail.length;
    // Matches that end inside text already scanned were reported with the previous segment.
    const part = this.local.scanText(segment, this.lineNo, base, this.longTail.length);
    const into = this.longResult;
    into.findings.push(...part.findings.slice(0, Math.max(0, this.maxFindings - into.findings.length)));
    into.totalFindings += part.totalFindings;
    into.blockingFindings += part.blockingFindings;
    into.suppressed += part.suppressed;
    addCounts(into.counts, part.counts);
    this.longChars += text.length;
    this.longTail = segment.slice(-SEGMENT_OVERLAP);
  }

  private endLongLine(): void {
    this.scanLongSegment(this.longDecoder?.decode() ?? '');
    if (this.longInvalidUtf8) {
      this.addProblem('error', 'INVALID_UTF8', this.lineNo, 'is not valid UTF-8; save the file as UTF-8');
    }
    this.addProblem(
      'error',
      'LINE_TOO_LONG',
      this.lineNo,
      `is ${formatCount(this.longBytes)} bytes, over the ${formatCount(this.limits.maxLineBytes)}-byte maximum for one record; it was scanned for secrets but not parsed${this.redactTo ? ', and is left out of the sanitized copy' : ''}`,
    );
    this.enqueue(this.longResult ?? RecordScanner.emptyResult());
    this.longLine = false;
    this.longTail = '';
    this.longDecoder = undefined;
    this.longResult = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Problems found on this thread, output, the report

  /** Counted now; listed when the batch holding the line is merged, so the list stays in line order. */
  private addProblem(
    level: ProblemLevel,
    code: ProblemCode,
    line: number | undefined,
    reason: string,
  ): Problem {
    this.problemCounts[level]++;
    const problem: Problem = line === undefined ? { level, code, reason } : { level, code, line, reason };
    this.batchProblems.push(problem);
    return problem;
  }

  async flush(force = false): Promise<void> {
    if (!this.redactTo || this.out.length === 0 || (!force && this.outBytes < FLUSH_BYTES)) return;
    const text = this.out.join('');
    this.out = [];
    this.outBytes = 0;
    if (!this.redactTo.write(text)) await once(this.redactTo, 'drain');
  }

  /** Stops helper threads when the scan ends early (a read error). */
  async abort(): Promise<void> {
    await Promise.all([this.hash.close(), this.pool?.close()]);
  }

  async finish(): Promise<ScanReport> {
    if (!this.bomResolved && this.bomState > 0) {
      // The file was shorter than a BOM and began like one: those bytes are its content.
      this.bomResolved = true;
      this.addCarry(Buffer.from(BOM.slice(0, this.bomState)));
    }
    if (this.longLine) this.endLongLine();
    if (this.carryBytes > 0) {
      const last = Buffer.concat(this.carry, this.carryBytes);
      this.carry = [];
      this.carryBytes = 0;
      this.completeLine(last, 0, last.length);
    }
    if (this.crlfProblem && this.crlfLines > 1) {
      this.crlfProblem.reason = `ends with CRLF (Windows line ending), as do ${formatCount(this.crlfLines - 1)} more lines; Bedrock expects LF`;
    }
    const limits = this.limits;
    if (this.bytes === 0) {
      this.addProblem('error', 'EMPTY_FILE', undefined, 'the file is empty');
    } else if (this.records < limits.minRecords) {
      this.addProblem(
        'error',
        'TOO_FEW_RECORDS',
        undefined,
        `${formatCount(this.records)} records, fewer than the minimum of ${formatCount(limits.minRecords)} for ${familyLabel(this.options.family)} training data`,
      );
    }
    if (this.bytes > limits.maxFileBytes) {
      this.addProblem(
        'error',
        'FILE_TOO_LARGE',
        undefined,
        `${formatCount(this.bytes)} bytes, over the ${formatCount(limits.maxFileBytes)}-byte maximum for a training file`,
      );
    }
    // File-level problems sort after every line (they have none) when merged with the last batch.
    const fileProblems = this.batchProblems.filter((p) => p.line === undefined);
    this.batchProblems = this.batchProblems.filter((p) => p.line !== undefined);
    this.dispatchBatch();
    try {
      while (this.queue.length > 0) {
        const head = this.queue.shift() as QueuedBatch;
        this.merge(await head.result, head.mainProblems);
      }
    } finally {
      await this.pool?.close();
    }
    this.merge(RecordScanner.emptyResult(), fileProblems);
    return {
      verdict: this.verdict(),
      policy: this.options.policy,
      family: this.options.family,
      limits,
      records: this.records,
      validRecords: this.validRecords,
      lines: this.lineNo,
      bytes: this.bytes,
      sha256: await this.hash.digest(),
      estimatedTokens: { total: this.tokensTotal, maxPerRecord: this.tokensMax },
      problems: this.problems,
      problemCounts: this.problemCounts,
      findings: this.findings,
      totalFindings: this.totalFindings,
      counts: this.counts,
      suppressed: this.suppressed,
      redacted: this.redactTo !== undefined,
    };
  }

  /**
   * `block` wins over `invalid`: a file holding a private key must be quarantined even if it is
   * also malformed. Under `redact` and `report`, malformed data is `invalid` first.
   */
  private verdict(): Verdict {
    const invalid = this.problemCounts.error > 0;
    const sensitive = this.blockingFindings > 0;
    switch (this.options.policy) {
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
}

const NEWLINE = Buffer.from('\n');

/**
 * A batch bound for a worker, copied once into shared memory: posting a view of a
 * SharedArrayBuffer shares it, where a plain buffer would be serialized and copied twice more.
 */
function sharedCopy(parts: Buffer[], length: number): Buffer {
  const shared = Buffer.from(new SharedArrayBuffer(length));
  let offset = 0;
  for (const part of parts) offset += part.copy(shared, offset);
  return shared.subarray(0, offset);
}

/** Empty, or only spaces and tabs. A record starts with `{`, so the loop stops at once on real data. */
function isBlank(buf: Buffer, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) if (buf[i] !== 32 && buf[i] !== 9) return false;
  return true;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('scanTrainingData: the source must yield Buffers, Uint8Arrays or strings');
}

/**
 * Scans JSONL training data as it streams: schema per model family, dataset limits, secrets and
 * PII. Reads the source exactly once; with policy `redact` and `redactTo`, writes a sanitized
 * copy (LF endings, no BOM, no blank lines, findings replaced by `<TYPE>` placeholders).
 */
export async function scanTrainingData(
  source: AsyncIterable<Buffer> | Readable,
  options: ScanOptions,
): Promise<ScanReport> {
  const scanner = new Scanner(options);
  try {
    for await (const chunk of source as AsyncIterable<unknown>) {
      const waiting = scanner.push(toBuffer(chunk));
      if (waiting) await waiting;
      options.onProgress?.(scanner.bytesRead);
      await scanner.flush();
    }
    const report = await scanner.finish();
    await scanner.flush(true);
    return report;
  } catch (error) {
    // Helper threads would otherwise keep the process alive after a failed scan.
    await scanner.abort();
    throw error;
  }
}
