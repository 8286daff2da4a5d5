/**
 * Optional parallel record checks: batches of complete lines go to worker threads running
 * RecordScanner while the main thread keeps reading, splitting and hashing.
 *
 * Why: JSON.parse and the checks cost more per byte than reading lines does, so on one core the
 * scan cannot keep pace with a plain line read; with spare cores it can. Results are merged in
 * batch order, so the report is identical to an in-thread scan (a unit test pins that).
 *
 * Robustness over cleverness: a worker that fails to start (no TypeScript loader, a bundle
 * without opt-in) or dies mid-scan costs nothing but speed. Every batch is kept until its result
 * arrives and is redone in-thread if its worker is gone; while no worker is ready, or all are
 * busy, the main thread checks the batch itself, which also bounds the memory in flight.
 */
import { Worker } from 'node:worker_threads';
import type { BatchResult, RecordScanConfig, RecordScanner } from './records';
import { type BatchRequest, WORKER_ROLE, type WorkerReply } from './worker';

/** Batches queued per worker: one being checked, one waiting, so a worker never idles. */
const QUEUE_PER_WORKER = 2;
const YOUNG_GENERATION_MB = 8;

interface Task {
  request: BatchRequest;
  resolve: (result: BatchResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  tasks: Map<number, Task>;
}

/** tsx's CommonJS hook, resolved from here rather than from the process's working directory. */
function typeScriptLoader(): string | undefined {
  try {
    return require.resolve('tsx/cjs');
  } catch {
    return undefined;
  }
}

function isReply(value: unknown): value is WorkerReply {
  return typeof value === 'object' && value !== null && ('ready' in value || 'seq' in value);
}

export class RecordScanPool {
  private readonly slots: Slot[] = [];
  /** Batches checked by workers (the rest ran on the calling thread). */
  workerBatches = 0;

  constructor(
    config: RecordScanConfig,
    size: number,
    workerFile: string,
    private readonly local: RecordScanner,
  ) {
    const loader = /\.[cm]?ts$/.test(workerFile) ? typeScriptLoader() : null;
    if (loader === undefined) return; // TypeScript sources and no loader: stay on this thread
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(config, workerFile, loader));
  }

  get readyWorkers(): number {
    return this.slots.filter((slot) => slot.ready && !slot.dead).length;
  }

  /** The result of checking a batch, on a worker when one is free, else right here. */
  submit(request: BatchRequest): Promise<BatchResult> {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.ready && !slot.dead && slot.tasks.size < QUEUE_PER_WORKER) {
        if (!best || slot.tasks.size < best.tasks.size) best = slot;
      }
    }
    if (!best) return Promise.resolve(this.local.scanBatch(request.bytes, request.firstLine));
    const slot = best;
    return new Promise<BatchResult>((resolve, reject) => {
      slot.tasks.set(request.seq, { request, resolve, reject });
      // Shared, not transferred: the batch must survive a worker crash to be redone here.
      slot.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.dead = true;
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(config: RecordScanConfig, workerFile: string, loader: string | null): Slot {
    const workerData = { role: WORKER_ROLE, config };
    // The environment as the caller sees it (a bundle's entry point may read it when it loads).
    const env = process.env;
    // Each isolate sizes its young generation for throughput (tens of MiB); records are small and
    // short-lived, so a smaller one costs little time and keeps the process's RSS flat.
    const resourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
    // TypeScript sources (development, tests, the tsx-run CLI): a worker does not inherit a loader
    // registered in-process, so it registers tsx's CommonJS hook itself.
    const worker = loader
      ? new Worker(`require(${JSON.stringify(loader)}); require(${JSON.stringify(workerFile)});`, {
          eval: true,
          workerData,
          resourceLimits,
          env,
        })
      : new Worker(workerFile, { workerData, resourceLimits, env });
    const slot: Slot = { worker, ready: false, dead: false, tasks: new Map() };
    worker.on('message', (message: unknown) => {
      if (!isReply(message)) return;
      if ('ready' in message) {
        slot.ready = true;
        return;
      }
      const task = slot.tasks.get(message.seq);
      if (!task) return;
      slot.tasks.delete(message.seq);
      if ('error' in message) {
        task.reject(new Error(`record check failed in worker: ${message.error}`));
      } else {
        this.workerBatches++;
        task.resolve(message.result);
      }
    });
    const fail = () => {
      if (slot.dead) return;
      slot.dead = true;
      // Redo whatever the worker held, in order, on this thread.
      const tasks = [...slot.tasks.values()].sort((a, b) => a.request.seq - b.request.seq);
      slot.tasks.clear();
      for (const task of tasks) {
        try {
          task.resolve(this.local.scanBatch(task.request.bytes, task.request.firstLine));
        } catch (error) {
          task.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return slot;
  }
}
