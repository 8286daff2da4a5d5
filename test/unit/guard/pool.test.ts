import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordScanPool } from '../../../functions/shared/guard/pool';
import { type BatchResult, RecordScanner } from '../../../functions/shared/guard/records';
import { cleanConversations, conversation, RECORD_SCAN_CONFIG } from './fixtures';

const config = RECORD_SCAN_CONFIG;

/**
 * A stand-in worker (plain CommonJS, no loader needed). Before saying it is ready it posts three
 * messages that are not replies. A batch whose text contains `worker-hold` is never answered,
 * `worker-exit` ends the thread, `worker-error` is answered with `{seq, error: 'boom'}`; any other
 * batch is answered with an echo telling the thread and how the file was loaded.
 */
const WORKER_SCRIPT = `
const { parentPort, threadId, resourceLimits } = require('node:worker_threads');
const mode = require.main === module ? 'file' : 'eval';
parentPort.postMessage('not a reply');
parentPort.postMessage(null);
parentPort.postMessage({ note: 'neither ready nor seq' });
parentPort.postMessage({ ready: true });
parentPort.on('message', (request) => {
  const text = Buffer.from(request.bytes).toString('utf8');
  if (text.includes('worker-hold')) return;
  if (text.includes('worker-exit')) process.exit(3);
  if (text.includes('worker-limits')) {
    parentPort.postMessage({ seq: request.seq, result: { youngGenerationMb: resourceLimits.maxYoungGenerationSizeMb } });
    return;
  }
  if (text.includes('worker-error')) {
    parentPort.postMessage({ seq: request.seq, error: 'boom' });
    return;
  }
  parentPort.postMessage({
    seq: request.seq,
    result: { from: 'worker', mode, threadId, seq: request.seq, firstLine: request.firstLine },
  });
});
`;

interface WorkerEcho {
  from: 'worker';
  mode: 'file' | 'eval';
  threadId: number;
  seq: number;
  firstLine: number;
}

const echo = (result: BatchResult) => result as unknown as WorkerEcho;

/** Writes the stand-in worker to a fresh temporary directory under the given file name. */
function writeWorker(fileName: string): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tunevault-pool-'));
  const file = join(dir, fileName);
  writeFileSync(file, WORKER_SCRIPT);
  return { file, dir };
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The promise's outcome, or a rejection when it has not settled within ms. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('did not settle in time')), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const batch = (text: string) => Buffer.from(`${conversation(text)}\n`);

describe('RecordScanPool', () => {
  jest.setTimeout(30_000);

  it('checks a batch on the calling thread while no worker has said it is ready', async () => {
    const { file, dir } = writeWorker('worker.js');
    const local = new RecordScanner(config);
    const pool = new RecordScanPool(config, 1, file, local);
    try {
      const bytes = Buffer.from(cleanConversations(2));
      const result = await within(pool.submit({ seq: 0, bytes, firstLine: 7 }), 20_000);
      expect(result).toStrictEqual(new RecordScanner(config).scanBatch(bytes, 7));
      expect(pool.workerBatches).toBe(0);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts each worker with an 8 MiB young generation (its records are small and short-lived)', async () => {
    const { file, dir } = writeWorker('worker.js');
    const pool = new RecordScanPool(config, 1, file, new RecordScanner(config));
    try {
      await waitFor(() => pool.readyWorkers === 1, 20_000);
      const result = await within(
        pool.submit({ seq: 1, bytes: batch('worker-limits'), firstLine: 1 }),
        20_000,
      );
      expect(result).toStrictEqual({ youngGenerationMb: 8 });
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends a batch to a ready worker, ignoring worker messages that are not replies', async () => {
    const { file, dir } = writeWorker('worker.js');
    const pool = new RecordScanPool(config, 1, file, new RecordScanner(config));
    try {
      await waitFor(() => pool.readyWorkers === 1, 20_000);
      const result = echo(await within(pool.submit({ seq: 4, bytes: batch('hello'), firstLine: 9 }), 20_000));
      expect(result).toStrictEqual({
        from: 'worker',
        mode: 'file',
        threadId: result.threadId,
        seq: 4,
        firstLine: 9,
      });
      expect(pool.workerBatches).toBe(1);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queues at most two batches on a worker and checks a third on the calling thread', async () => {
    const { file, dir } = writeWorker('worker.js');
    const local = new RecordScanner(config);
    const pool = new RecordScanPool(config, 1, file, local);
    try {
      await waitFor(() => pool.readyWorkers === 1, 20_000);
      const third = batch('third');
      const results = await within(
        Promise.all([
          pool.submit({ seq: 0, bytes: batch('first'), firstLine: 1 }),
          pool.submit({ seq: 1, bytes: batch('second'), firstLine: 2 }),
          pool.submit({ seq: 2, bytes: third, firstLine: 3 }),
        ]),
        20_000,
      );
      expect(results.map((r) => echo(r).from)).toStrictEqual(['worker', 'worker', undefined]);
      expect(results[2]).toStrictEqual(new RecordScanner(config).scanBatch(third, 3));
      expect(pool.workerBatches).toBe(2);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives each batch to the least loaded ready worker, the first one on a tie', async () => {
    const { file, dir } = writeWorker('worker.js');
    const local = new RecordScanner(config);
    const pool = new RecordScanPool(config, 2, file, local);
    try {
      await waitFor(() => pool.readyWorkers === 2, 20_000);
      const fifth = batch('fifth');
      const results = await within(
        Promise.all([
          pool.submit({ seq: 0, bytes: batch('first'), firstLine: 1 }),
          pool.submit({ seq: 1, bytes: batch('second'), firstLine: 2 }),
          pool.submit({ seq: 2, bytes: batch('third'), firstLine: 3 }),
          pool.submit({ seq: 3, bytes: batch('fourth'), firstLine: 4 }),
          pool.submit({ seq: 4, bytes: fifth, firstLine: 5 }),
        ]),
        20_000,
      );
      const threads = results.slice(0, 4).map((r) => echo(r).threadId);
      // Thread ids grow in start order, so the first worker started has the smaller one.
      const [firstWorker, secondWorker] = [...new Set(threads)].sort((a, b) => a - b);
      expect(threads).toStrictEqual([firstWorker, secondWorker, firstWorker, secondWorker]);
      expect(firstWorker === secondWorker).toBe(false);
      expect(results[4]).toStrictEqual(new RecordScanner(config).scanBatch(fifth, 5));
      expect(pool.workerBatches).toBe(4);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a batch the worker answers with an error, naming the error', async () => {
    const { file, dir } = writeWorker('worker.js');
    const pool = new RecordScanPool(config, 1, file, new RecordScanner(config));
    try {
      await waitFor(() => pool.readyWorkers === 1, 20_000);
      const outcome = await within(
        pool.submit({ seq: 0, bytes: batch('worker-error'), firstLine: 1 }).then(
          () => 'resolved',
          (error: Error) => error.message,
        ),
        20_000,
      );
      expect(outcome).toBe('record check failed in worker: boom');
      expect(pool.workerBatches).toBe(0);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('redoes the batches of a worker that exits on the calling thread, in seq order', async () => {
    const { file, dir } = writeWorker('worker.js');
    const local = new RecordScanner(config);
    const pool = new RecordScanPool(config, 1, file, local);
    try {
      await waitFor(() => pool.readyWorkers === 1, 20_000);
      const held = batch('worker-hold');
      const fatal = batch('worker-exit');
      const order: number[] = [];
      // Submitted out of order: seq 5 is held, then seq 3 makes the worker exit.
      const later = pool.submit({ seq: 5, bytes: held, firstLine: 20 }).then((r) => {
        order.push(5);
        return r;
      });
      const earlier = pool.submit({ seq: 3, bytes: fatal, firstLine: 10 }).then((r) => {
        order.push(3);
        return r;
      });
      const [fromLater, fromEarlier] = await within(Promise.all([later, earlier]), 20_000);
      const reference = new RecordScanner(config);
      expect(fromEarlier).toStrictEqual(reference.scanBatch(fatal, 10));
      expect(fromLater).toStrictEqual(reference.scanBatch(held, 20));
      expect(order).toStrictEqual([3, 5]);
      expect(pool.readyWorkers).toBe(0);
      expect(pool.workerBatches).toBe(0);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects the batches of an exited worker when redoing them on the calling thread throws', async () => {
    class FailingScanner extends RecordScanner {
      override scanBatch(): BatchResult {
        throw new Error('calling-thread check failed');
      }
    }
    const { file, dir } = writeWorker('worker.js');
    const pool = new RecordScanPool(config, 1, file, new FailingScanner(config));
    try {
      await waitFor(() => pool.readyWorkers === 1, 20_000);
      const settle = (p: Promise<BatchResult>) =>
        p.then(
          () => 'resolved',
          (error: Error) => error.message,
        );
      const outcomes = await within(
        Promise.all([
          settle(pool.submit({ seq: 0, bytes: batch('worker-hold'), firstLine: 1 })),
          settle(pool.submit({ seq: 1, bytes: batch('worker-exit'), firstLine: 2 })),
        ]),
        20_000,
      );
      expect(outcomes).toStrictEqual(['calling-thread check failed', 'calling-thread check failed']);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() marks every worker gone at once and drops the batches they still held', async () => {
    const { file, dir } = writeWorker('worker.js');
    const pool = new RecordScanPool(config, 2, file, new RecordScanner(config));
    try {
      await waitFor(() => pool.readyWorkers === 2, 20_000);
      let settled = false;
      void pool.submit({ seq: 0, bytes: batch('worker-hold'), firstLine: 1 }).then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      const closing = pool.close();
      expect(pool.readyWorkers).toBe(0);
      await within(closing, 20_000);
      await new Promise((resolve) => setImmediate(resolve));
      // Closing ends the scan: a held batch is not redone on the calling thread.
      expect(settled).toBe(false);
      const after = batch('after close');
      expect(await pool.submit({ seq: 1, bytes: after, firstLine: 2 })).toStrictEqual(
        new RecordScanner(config).scanBatch(after, 2),
      );
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['worker.cts', 'eval'],
    ['worker.ts.js', 'file'],
    ['worker.jts', 'file'],
  ] as const)(
    'starts %s %s-style (through the TypeScript loader only for .ts, .cts, .mts)',
    async (name, mode) => {
      const { file, dir } = writeWorker(name);
      const pool = new RecordScanPool(config, 1, file, new RecordScanner(config));
      try {
        await waitFor(() => pool.readyWorkers === 1, 20_000);
        const result = echo(
          await within(pool.submit({ seq: 0, bytes: batch('which loader'), firstLine: 1 }), 20_000),
        );
        expect(result.mode).toBe(mode);
      } finally {
        await pool.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
