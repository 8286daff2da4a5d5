import * as z from 'zod';
import { S3Gateway } from '../shared/aws/s3';
import { JOB_VARS, jobDefaultsFrom, loadConfig } from '../shared/config';
import { scanTrainingData } from '../shared/guard';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { createMetrics, publishMetrics, recordGuardScan } from '../shared/metrics';
import { datasetOptionsSchema, keyResultSchema, sourceObjectSchema } from '../shared/types';
import { scanTrainingDataStep, scanVcpus, scanWorkers } from './core';

const config = loadConfig([
  ...JOB_VARS,
  'DATA_POLICY',
  'DATA_BLOCK_SEVERITY',
  'OUTPUT_BUCKET',
  'OUTPUT_PREFIX',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
]);
// Functions given two vCPUs or more check records on worker threads that load this same bundle
// (its entry point only defines the handler; the guard's worker module serves the batches).
const workers = scanWorkers(config.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
const s3 = new S3Gateway();
const metrics = createMetrics('scan-training-data');

const inputSchema = z.object({
  source: sourceObjectSchema,
  dataset: datasetOptionsSchema.default({}),
  key: keyResultSchema,
  executionArn: z.string().startsWith('arn:'),
});

export const handler = makeHandler(
  inputSchema,
  'ScanTrainingData input',
  async (input) => {
    logger.appendKeys({ executionArn: input.executionArn });
    const summary = await scanTrainingDataStep(
      input,
      {
        job: jobDefaultsFrom(config),
        policy: config.DATA_POLICY,
        blockAtOrAbove: config.DATA_BLOCK_SEVERITY,
        outputBucket: config.OUTPUT_BUCKET,
        outputPrefix: config.OUTPUT_PREFIX,
        ...(workers > 0 ? { parallelism: workers, workerFile: __filename } : {}),
        // On Lambda, hashing gets a thread of its own only when a vCPU is left for it.
        ...(config.AWS_LAMBDA_FUNCTION_MEMORY_SIZE > 0
          ? { cpus: scanVcpus(config.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) }
          : {}),
      },
      {
        openStream: (b, k, v) => s3.openStream(b, k, v),
        uploadEncrypted: (b, k, body, key) => s3.uploadEncrypted(b, k, body, key),
        copyVersionEncrypted: (src, b, k, key) => s3.copyVersionEncrypted(src, b, k, key),
        mergeObjectTags: (b, k, t, v) => s3.mergeObjectTags(b, k, t, v),
        // Counted here, not from the summary: a blocked scan ends in SensitiveDataError and has none.
        scan: async (body, options) => {
          const report = await scanTrainingData(body, options);
          recordGuardScan(metrics, report);
          return report;
        },
      },
    );
    // Counts and verdict only: findings stay in the report, masked.
    logger.info('training data scanned', {
      verdict: summary.verdict,
      records: summary.records,
      totalFindings: summary.totalFindings,
      bySeverity: summary.bySeverity,
    });
    return summary;
  },
  [publishMetrics(metrics)],
);
