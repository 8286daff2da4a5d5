/**
 * The reading side of the scan: bytes → lines → batches. Lines are split on `\n` here rather than
 * by readline so the scan sees what readline hides: a BOM, `\r\n` endings, blank lines, and lines
 * too long to hold in memory (long-line.ts). This thread also counts records and hashes the bytes;
 * the record checks themselves (records.ts) run on batches of complete lines, here or on worker
 * threads (pool.ts), and their results are merged in order (batches.ts, tally.ts).
 */
import { availableParallelism } from 'node:os';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { StreamHash } from '../hash';
import { limitsFor, type DatasetLimits } from '../limits';
import { RecordScanPool } from '../pool';
import { type BatchResult, formatCount, type RecordScanConfig, RecordScanner } from '../records';
import { familyLabel } from '../schemas';
import { OWN_WORKER_FILE } from '../worker';
import {
  type Problem,
  type ProblemCode,
  type ProblemLevel,
  type ScanOptions,
  type ScanReport,
  severityRank,
} from '../types';
import { BatchQueue, sharedCopy } from './batches';
import { LongLine } from './long-line';
import { ReportTally } from './tally';

const BOM = [0xef, 0xbb, 0xbf];
/** Complete lines are checked in batches of about this size when some go to worker threads. */
const BATCH_BYTES = 256 * 1024;
/**
 * In-thread batches are smaller: checked as they come, about a read chunk at a time, so the work
 * is spread evenly between reads, and checked where they lie (no copy into one buffer).
 */
const LOCAL_BATCH_BYTES = 64 * 1024;
const FLUSH_BYTES = 256 * 1024;
const NEWLINE = Buffer.from('\n');

/**
 * 'auto': a worker per CPU beyond two, one for reading and one for hashing (a worker sharing a
 * core with them costs the copies and hand-overs and gains nothing), at most 3.
 */
export function workerCount(parallelism: ScanOptions['parallelism'], cpus: number): number {
  if (parallelism === 'auto') return Math.max(0, Math.min(3, cpus - 2));
  return Math.max(0, Math.floor(parallelism ?? 0));
}

export class Scanner {
  private readonly limits: DatasetLimits;
  private readonly hash: StreamHash;
  private readonly local: RecordScanner;
  private readonly pool: RecordScanPool | undefined;
  private readonly redactTo: Writable | undefined;
  private readonly maxFindings: number;
  private readonly batchLimit: number;
  private readonly tally: ReportTally;
  private readonly batches: BatchQueue;

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

  /** The overlong line being streamed through, if any. */
  private long: LongLine | undefined;

  constructor(private readonly options: ScanOptions) {
    this.limits = { ...limitsFor(options.family), ...options.limits };
    this.maxFindings = options.maxFindingsListed ?? 100;
    const maxProblems = options.maxProblemsListed ?? 100;
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
      maxProblems,
      redact: this.redactTo !== undefined,
    };
    this.tally = new ReportTally(this.maxFindings, maxProblems, this.redactTo !== undefined);
    this.batches = new BatchQueue(this.tally);
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
    const merging = this.batches.mergeSettled();
    if (hashing && merging) return Promise.all([hashing, merging]).then(() => undefined);
    return hashing ?? merging;
  }

  private splitLines(chunk: Buffer): void {
    let pos = 0;
    if (!this.bomResolved) pos = this.skipBom(chunk);
    while (pos < chunk.length) {
      const long = this.long;
      if (long) {
        const nl = chunk.indexOf(10, pos);
        const end = nl === -1 ? chunk.length : nl;
        long.feed(chunk.subarray(pos, end));
        if (nl === -1) return;
        this.endLongLine(long);
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
      this.startLongLine().feed(pending);
    }
  }

  /** A complete line (without its `\n`): counted and checked here, then batched for the record checks. */
  private completeLine(buf: Buffer, start: number, end: number): void {
    if (end - start > this.limits.maxLineBytes) {
      const long = this.startLongLine();
      long.feed(buf.subarray(start, end));
      this.endLongLine(long);
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
    this.batches.push(result, this.batchProblems);
    this.batchParts = [];
    this.batchBytes = 0;
    this.batchFirstLine = this.lineNo + 1;
    this.batchProblems = [];
  }

  // -------------------------------------------------------------------------------------------
  // Lines too long to hold

  private startLongLine(): LongLine {
    this.dispatchBatch();
    this.lineNo++;
    this.records++;
    this.long = new LongLine(this.local, this.lineNo, this.maxFindings);
    this.countRecordLimit();
    return this.long;
  }

  private endLongLine(long: LongLine): void {
    const result = long.end();
    if (long.invalidUtf8) {
      this.addProblem('error', 'INVALID_UTF8', this.lineNo, 'is not valid UTF-8; save the file as UTF-8');
    }
    this.addProblem(
      'error',
      'LINE_TOO_LONG',
      this.lineNo,
      `is ${formatCount(long.bytes)} bytes, over the ${formatCount(this.limits.maxLineBytes)}-byte maximum for one record; it was scanned for secrets but not parsed${this.redactTo ? ', and is left out of the sanitized copy' : ''}`,
    );
    this.enqueue(result);
    this.long = undefined;
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
    this.tally.problemCounts[level]++;
    const problem: Problem = line === undefined ? { level, code, reason } : { level, code, line, reason };
    this.batchProblems.push(problem);
    return problem;
  }

  async flush(force = false): Promise<void> {
    if (!this.redactTo) return;
    const text = this.tally.takeOutput(force ? 0 : FLUSH_BYTES);
    if (text !== undefined && !this.redactTo.write(text)) await once(this.redactTo, 'drain');
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
    if (this.long) this.endLongLine(this.long);
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
      await this.batches.drain();
    } finally {
      await this.pool?.close();
    }
    this.tally.merge(RecordScanner.emptyResult(), fileProblems);
    return this.tally.report({
      policy: this.options.policy,
      family: this.options.family,
      limits,
      records: this.records,
      lines: this.lineNo,
      bytes: this.bytes,
      sha256: await this.hash.digest(),
    });
  }
}

/** Empty, or only spaces and tabs. A record starts with `{`, so the loop stops at once on real data. */
function isBlank(buf: Buffer, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) if (buf[i] !== 32 && buf[i] !== 9) return false;
  return true;
}
