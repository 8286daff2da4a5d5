/**
 * SHA-256 of a stream, computed on a worker thread once the stream is large, when a core is free.
 *
 * Hashing is a tenth of the scan's CPU time and needs nothing from the scan, so for large inputs
 * it can run beside it. That only pays with a core to spare: handing the bytes over costs the
 * scanning thread a copy and a message per batch, and with no free core (a Lambda function below
 * ~1.8 GB has one vCPU, and parallel record checks may take the others) the worker's hashing
 * competes with the scan anyway, so then the bytes are hashed in-thread as they come, which is
 * cheaper in total and keeps memory lower. Small inputs (unit tests, sidecar files) never start a
 * worker: the first
 * OFFLOAD_AFTER bytes are kept and hashed in-thread if the stream ends before that point. Chunks
 * are copied into 1 MiB batches whose memory is transferred, not cloned, to the worker, which
 * transfers each one back once hashed; the same few batches circulate (never more than
 * MAX_IN_FLIGHT + 1), so memory stays flat and the worker's heap never fills with dead buffers.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const OFFLOAD_AFTER = 4 * 1024 * 1024;
const BATCH_BYTES = 1024 * 1024;
const MAX_IN_FLIGHT = 8;

/** Plain script (no TypeScript, no imports of ours) so it runs the same under tsx, Jest and a bundle. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hash = createHash('sha256');
parentPort.on('message', (message) => {
  if (message === 'digest') {
    parentPort.postMessage({ digest: hash.digest('hex') });
  } else {
    hash.update(new Uint8Array(message.buffer, 0, message.length));
    parentPort.postMessage(message.buffer, [message.buffer]);
  }
});
`;

export class StreamHash {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private worker: Worker | undefined;
  private batch: Buffer | undefined;
  private readonly free: ArrayBuffer[] = [];
  private batchUsed = 0;
  private inFlight = 0;
  private workerError: unknown;

  /** Set when hashing stays on the calling thread. */
  private readonly inThread: Hash | undefined;

  /** `offload`: whether a worker may take the hashing over once OFFLOAD_AFTER bytes are seen. */
  constructor(
    offload = true,
    private readonly offloadAfter = OFFLOAD_AFTER,
  ) {
    this.inThread = offload ? undefined : createHash('sha256');
  }

  /** Returns a promise only when the caller must wait for the worker to catch up. */
  update(chunk: Buffer): Promise<void> | undefined {
    if (this.inThread) {
      this.inThread.update(chunk);
      return undefined;
    }
    if (!this.worker) {
      // Copied: the caller may reuse its buffer once the scan has moved on.
      this.pending.push(Buffer.from(chunk));
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.offloadAfter) return undefined;
      this.startWorker();
      const pending = this.pending;
      this.pending = [];
      for (const buffered of pending) this.copyIntoBatches(buffered);
      return this.backpressure();
    }
    this.copyIntoBatches(chunk);
    return this.backpressure();
  }

  async digest(): Promise<string> {
    if (this.inThread) return this.inThread.digest('hex');
    if (!this.worker) {
      const hash = createHash('sha256');
      for (const buffered of this.pending) hash.update(buffered);
      this.pending = [];
      return hash.digest('hex');
    }
    if (this.workerError) throw this.workerError;
    this.sendBatch();
    const worker = this.worker;
    const reply = new Promise<string>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (typeof message === 'object' && message !== null && 'digest' in message) {
          worker.off('message', onMessage);
          resolve(String(message.digest));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      // A worker gone without an error event would otherwise leave the digest pending forever.
      worker.once('exit', (code) =>
        reject(new Error(`the hashing thread exited (code ${code}) before the digest`)),
      );
    });
    worker.postMessage('digest');
    try {
      return await reply;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private startWorker(): void {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (message) => {
      if (message instanceof ArrayBuffer) {
        this.inFlight--;
        this.free.push(message);
      }
    });
    worker.on('error', (error) => {
      this.workerError = error;
    });
    this.worker = worker;
  }

  private copyIntoBatches(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.batch) {
        const reused = this.free.pop();
        this.batch = reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(BATCH_BYTES);
        this.batchUsed = 0;
      }
      const copied = chunk.copy(this.batch, this.batchUsed, offset);
      this.batchUsed += copied;
      offset += copied;
      if (this.batchUsed === BATCH_BYTES) this.sendBatch();
    }
  }

  private sendBatch(): void {
    if (!this.batch || this.batchUsed === 0 || !this.worker) return;
    // allocUnsafeSlow gives the batch its own ArrayBuffer, so transferring it detaches nothing else.
    const buffer = this.batch.buffer;
    if (!(buffer instanceof ArrayBuffer)) throw new TypeError('hash batch is not backed by an ArrayBuffer');
    const length = this.batchUsed;
    this.batch = undefined;
    this.batchUsed = 0;
    this.inFlight++;
    this.worker.postMessage({ buffer, length }, [buffer]);
  }

  private backpressure(): Promise<void> | undefined {
    if (this.workerError) throw this.workerError;
    if (this.inFlight <= MAX_IN_FLIGHT || !this.worker) return undefined;
    return this.waitForWorker(this.worker);
  }

  private async waitForWorker(worker: Worker): Promise<void> {
    while (this.inFlight > MAX_IN_FLIGHT) await once(worker, 'message');
  }
}
