/**
 * The batch queue: results merged into the report in line order as they come in, a failed
 * batch failing the scan, and reading made to wait when too many batches are still out.
 */
import { limitsFor } from '../../../functions/shared/guard/limits';
import { type BatchResult, RecordScanner } from '../../../functions/shared/guard/records';
import { BatchQueue } from '../../../functions/shared/guard/scan/batches';
import { type FileFacts, ReportTally } from '../../../functions/shared/guard/scan/tally';
import { conversation, fake, RECORD_SCAN_CONFIG } from './fixtures';

const FILE: FileFacts = {
  policy: 'report',
  family: 'bedrock-conversation-2024',
  limits: limitsFor('bedrock-conversation-2024'),
  records: 20,
  lines: 20,
  bytes: 2000,
  sha256: 'b'.repeat(64),
};

/** The record checks' result for one line: a plain question, or one holding an email address. */
function lineResult(line: number, withEmail = false): BatchResult {
  const text = conversation(withEmail ? `write to ${fake.email}` : `question ${line}`);
  return new RecordScanner(RECORD_SCAN_CONFIG).scanBatch(Buffer.from(`${text}\n`), line);
}

/** A batch result still out on a worker, settled by the test. */
function pending(): {
  promise: Promise<BatchResult>;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
} {
  let resolve!: (r: BatchResult) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<BatchResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BatchQueue', () => {
  it('merges a worker result once it has come in, without waiting', async () => {
    const tally = new ReportTally(100, 100, false);
    const queue = new BatchQueue(tally);
    const batch = pending();
    queue.push(batch.promise, []);
    expect(queue.mergeSettled()).toBeUndefined();
    expect(tally.report(FILE).validRecords).toBe(0);
    batch.resolve(lineResult(1, true));
    await settle();
    expect(queue.mergeSettled()).toBeUndefined();
    const report = tally.report(FILE);
    expect(report.validRecords).toBe(1);
    expect(report.findings.map((f) => [f.type, f.line])).toEqual([['EMAIL', 1]]);
  });

  it('fails the scan with the error of a batch whose worker failed', async () => {
    const queue = new BatchQueue(new ReportTally(100, 100, false));
    const batch = pending();
    queue.push(batch.promise, []);
    batch.reject(new Error('worker exited with code 1'));
    await settle();
    expect(() => queue.mergeSettled()).toThrow('worker exited with code 1');
  });

  it('lets reading go on while at most 16 batches are still out', () => {
    const queue = new BatchQueue(new ReportTally(100, 100, false));
    expect(queue.mergeSettled()).toBeUndefined();
    for (let i = 1; i <= 16; i++) {
      queue.push(pending().promise, []);
      expect(queue.mergeSettled()).toBeUndefined();
    }
  });

  it('makes reading wait for the oldest batch when a 17th is still out', async () => {
    const tally = new ReportTally(100, 100, false);
    const queue = new BatchQueue(tally);
    const batches = Array.from({ length: 17 }, () => pending());
    for (const b of batches) queue.push(b.promise, []);
    const wait = queue.mergeSettled();
    expect(wait).toBeInstanceOf(Promise);
    batches[0]?.resolve(lineResult(1, true));
    await wait;
    // Only the oldest was waited for and merged; the others are still out.
    expect(tally.report(FILE).validRecords).toBe(1);
    batches.slice(1).forEach((b, i) => {
      b.resolve(lineResult(i + 2));
    });
    await queue.drain();
    const report = tally.report(FILE);
    expect(report.validRecords).toBe(17);
    expect(report.findings.map((f) => f.line)).toEqual([1]);
  });
});
