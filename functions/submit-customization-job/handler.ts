import * as z from 'zod';
import { BedrockGateway } from '../shared/aws/bedrock';
import { JOB_VARS, jobDefaultsFrom, loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import {
  datasetOptionsSchema,
  keyResultSchema,
  scanSummarySchema,
  sourceObjectSchema,
} from '../shared/types';
import { submitCustomizationJob } from './core';

const config = loadConfig(['BEDROCK_ROLE_ARN', ...JOB_VARS, 'OUTPUT_BUCKET', 'OUTPUT_PREFIX']);
const bedrock = new BedrockGateway();

const inputSchema = z.object({
  source: sourceObjectSchema,
  dataset: datasetOptionsSchema.default({}),
  key: keyResultSchema,
  scan: scanSummarySchema,
  executionArn: z.string().startsWith('arn:'),
});

export const handler = makeHandler(inputSchema, 'SubmitCustomizationJob input', async (input) => {
  logger.appendKeys({ executionArn: input.executionArn });
  const job = await submitCustomizationJob(
    input,
    {
      roleArn: config.BEDROCK_ROLE_ARN,
      job: jobDefaultsFrom(config),
      outputBucket: config.OUTPUT_BUCKET,
      outputPrefix: config.OUTPUT_PREFIX,
    },
    bedrock,
  );
  logger.info('customization job submitted', { jobName: job.jobName, jobArn: job.jobArn });
  return job;
});
