import { RecordScanPool } from '../../../functions/shared/guard/pool';
import { RecordScanner } from '../../../functions/shared/guard/records';
import { OWN_WORKER_FILE } from '../../../functions/shared/guard/worker';
import { type ScanOptions, scanTrainingData } from '../../../functions/shared/guard';
import { chunked, cleanConversations, conversation, fake, RECORD_SCAN_CONFIG } from './fixtures';

const config = RECORD_SCAN_CONFIG;

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('record checks on worker threads', () => {
  jest.setTimeout(30_000);

  it('the guard finds its own worker module when run from source', () => {
    expect(OWN_WORKER_FILE).toMatch(/worker\.ts$/);
  });

  it('a worker returns exactly what the calling thread would', async () => {
    const local = new RecordScanner(config);
    const pool = new RecordScanPool(config, 1, OWN_WORKER_FILE ?? '', local);
    try {
      await waitFor(() => pool.readyWorkers === 1, 20_000);
      const bytes = Buffer.from(`${cleanConversations(3)}${conversation(`card ${fake.card}`)}\n{oops\n\n`);
      const result = await pool.submit({ seq: 0, bytes, firstLine: 10 });
      expect(pool.workerBatches).toBe(1);
      expect(result).toEqual(local.scanBatch(bytes, 10));
      expect(result.findings[0]).toMatchObject({ type: 'CARD_NUMBER', line: 13 });
    } finally {
      await pool.close();
    }
  });

  it('gives the same report as a one-thread scan, and falls back when workers cannot start', async () => {
    const data = `${cleanConversations(15_000)}${conversation(`mail ${fake.email}`)}\n{bad\n\n${cleanConversations(15_000)}`;
    const options: ScanOptions = { family: 'bedrock-conversation-2024', policy: 'block' };
    const reference = await scanTrainingData(chunked(data, 64 * 1024), options);
    const parallel = await scanTrainingData(chunked(data, 64 * 1024), { ...options, parallelism: 2 });
    const broken = await scanTrainingData(chunked(data, 64 * 1024), {
      ...options,
      parallelism: 2,
      workerFile: '/nonexistent/worker.js',
    });
    expect(parallel).toEqual(reference);
    expect(broken).toEqual(reference);
    expect(reference.findings.map((f) => [f.type, f.line])).toEqual([['EMAIL', 15_001]]);
  });
});
