/**
 * The ScanTrainingData function checks records on worker threads when its memory setting gives it
 * more than one vCPU, and those workers load the function's own bundle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { scanWorkers } from '../../../functions/scan-training-data/core';
import { RecordScanPool } from '../../../functions/shared/guard/pool';
import { RecordScanner } from '../../../functions/shared/guard/records';
import { cleanConversations, conversation, fake, RECORD_SCAN_CONFIG } from '../guard/fixtures';

describe('worker threads of the ScanTrainingData function', () => {
  it.each([
    [128, 0],
    [1024, 0],
    [1769, 0],
    [3537, 0],
    [3538, 1],
    [5307, 2],
    [10240, 3],
    [0, 0],
  ])('a function of %i MB uses %i worker threads (one vCPU per 1,769 MB)', (memory, workers) => {
    expect(scanWorkers(memory)).toBe(workers);
  });

  it("serves record checks from the handler's own bundle, as deployed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunevault-handler-bundle-'));
    const bundle = join(dir, 'handler.js');
    // As serverless.yml's esbuild settings build it: one CommonJS file, dependencies included.
    await build({
      entryPoints: [join(__dirname, '../../../functions/scan-training-data/handler.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: bundle,
      keepNames: true,
      logLevel: 'silent',
    });
    const saved = { ...process.env };
    // The handler module reads its environment when it loads, in the worker too.
    Object.assign(process.env, {
      BASE_MODEL_ID: 'amazon.nova-micro-v1:0',
      OUTPUT_BUCKET: 'tunevault-test-output',
      OUTPUT_PREFIX: 'output/',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3538',
    });
    const config = { ...RECORD_SCAN_CONFIG, redact: false };
    const local = new RecordScanner(config);
    const pool = new RecordScanPool(config, 1, bundle, local);
    try {
      const deadline = Date.now() + 20_000;
      while (pool.readyWorkers < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(pool.readyWorkers).toBe(1);
      const bytes = Buffer.from(`${cleanConversations(3)}${conversation(`card ${fake.card}`)}\n`);
      const result = await pool.submit({ seq: 0, bytes, firstLine: 1 });
      expect(pool.workerBatches).toBe(1);
      expect(result).toEqual(local.scanBatch(bytes, 1));
      expect(result.findings.map((f) => f.type)).toEqual(['CARD_NUMBER']);
    } finally {
      await pool.close();
      process.env = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
