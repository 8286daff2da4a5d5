/**
 * Worker-thread entry for RecordScanner (see pool.ts). Loading this module in a worker started
 * with the marker below makes the worker serve batches; anywhere else it does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type BatchResult, type RecordScanConfig, RecordScanner } from './records';

export const WORKER_ROLE = 'tunevault-record-scanner';

/**
 * The file a worker must load to reach this module. Only trusted when it is this module's own
 * file (run from source with a TypeScript loader, or compiled file by file): inside a bundle it
 * is the bundle, whose entry point would run again in the worker, so bundles must opt in by
 * passing ScanOptions.workerFile themselves.
 */
export const OWN_WORKER_FILE: string | undefined = /[\\/]worker\.[cm]?[jt]s$/.test(__filename)
  ? __filename
  : undefined;

export interface BatchRequest {
  seq: number;
  bytes: Uint8Array;
  firstLine: number;
}

export type WorkerReply =
  | { ready: true }
  | { seq: number; result: BatchResult }
  | { seq: number; error: string };

function isWorkerData(value: unknown): value is { role: string; config: RecordScanConfig } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { role?: unknown }).role === WORKER_ROLE &&
    typeof (value as { config?: unknown }).config === 'object'
  );
}

function isBatchRequest(value: unknown): value is BatchRequest {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { seq?: unknown }).seq === 'number' &&
    typeof (value as { firstLine?: unknown }).firstLine === 'number' &&
    (value as { bytes?: unknown }).bytes instanceof Uint8Array
  );
}

/** The side of a message channel a worker serves: its parentPort, or one end of a MessageChannel. */
export interface BatchPort {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  postMessage(message: WorkerReply): void;
}

/**
 * Serves batches on port with a RecordScanner made from data's config: says it is ready, then
 * answers each batch request with its result, or with the error the scan threw (by message), and
 * ignores anything else. Returns false, serving nothing, when data is not a record scanner's.
 * Exported so the protocol is tested on the main thread too (a worker thread's code is out of
 * reach of per-test coverage).
 */
export function serveBatches(port: BatchPort, data: unknown): boolean {
  if (!isWorkerData(data)) return false;
  const scanner = new RecordScanner(data.config);
  port.on('message', (message: unknown) => {
    if (!isBatchRequest(message)) return;
    let reply: WorkerReply;
    try {
      reply = { seq: message.seq, result: scanner.scanBatch(message.bytes, message.firstLine) };
    } catch (error) {
      reply = { seq: message.seq, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true } satisfies WorkerReply);
  return true;
}

if (!isMainThread && parentPort) serveBatches(parentPort, workerData);
