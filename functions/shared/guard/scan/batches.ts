/**
 * The batches whose record checks are under way, in line order: checked in-thread (their result
 * already known) or on a worker thread (pool.ts). Results are merged into the report in the order
 * the lines came, however the workers finish.
 */
import type { BatchResult } from '../records';
import type { Problem } from '../types';
import type { ReportTally } from './tally';

/** Batches whose results may be outstanding before reading waits: bounds memory in flight. */
const MAX_QUEUED_BATCHES = 16;

interface QueuedBatch {
  result: Promise<BatchResult>;
  settled: BatchResult | undefined;
  failed: unknown;
  /** Problems the reading thread found on the batch's lines (blank, CRLF, record limit). */
  mainProblems: Problem[];
}

export class BatchQueue {
  private readonly queue: QueuedBatch[] = [];

  constructor(private readonly tally: ReportTally) {}

  push(result: BatchResult | Promise<BatchResult>, mainProblems: Problem[]): void {
    const queued: QueuedBatch =
      result instanceof Promise
        ? { result, settled: undefined, failed: undefined, mainProblems }
        : { result: Promise.resolve(result), settled: result, failed: undefined, mainProblems };
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
  }

  /** Merges the results already in, in order; returns a promise when too many are still out. */
  mergeSettled(): Promise<void> | undefined {
    while (this.queue.length > 0) {
      const head = this.queue[0] as QueuedBatch;
      if (head.failed !== undefined) throw head.failed;
      if (!head.settled) break;
      this.queue.shift();
      this.tally.merge(head.settled, head.mainProblems);
    }
    if (this.queue.length <= MAX_QUEUED_BATCHES) return undefined;
    return this.mergeDownTo(MAX_QUEUED_BATCHES);
  }

  /** Waits for every result still out and merges it. */
  drain(): Promise<void> {
    return this.mergeDownTo(0);
  }

  private async mergeDownTo(length: number): Promise<void> {
    while (this.queue.length > length) {
      const head = this.queue.shift() as QueuedBatch;
      this.tally.merge(await head.result, head.mainProblems);
    }
  }
}

/**
 * A batch bound for a worker, copied once into shared memory: posting a view of a
 * SharedArrayBuffer shares it, where a plain buffer would be serialized and copied twice more.
 */
export function sharedCopy(parts: Buffer[], length: number): Buffer {
  const shared = Buffer.from(new SharedArrayBuffer(length));
  let offset = 0;
  for (const part of parts) offset += part.copy(shared, offset);
  return shared.subarray(0, offset);
}
