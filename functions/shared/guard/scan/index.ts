/**
 * The streaming training-data scan: one pass over the bytes, memory bounded by the largest
 * allowed line and a few batches in flight, whatever the file size. scanner.ts splits the bytes
 * into lines and batches, records.ts checks them (here or on worker threads, pool.ts),
 * batches.ts and tally.ts merge the results in line order into the report.
 */
import type { Readable } from 'node:stream';
import type { ScanOptions, ScanReport } from '../types';
import { Scanner } from './scanner';

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
