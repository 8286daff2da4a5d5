import * as z from 'zod';
import { BedrockGateway } from '../shared/aws/bedrock';
import { S3Gateway } from '../shared/aws/s3';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import {
  jobRefSchema,
  jobResultSchema,
  keyResultSchema,
  scanSummarySchema,
  sourceObjectSchema,
} from '../shared/types';
import { finalizeCustomModel } from './core';

const bedrock = new BedrockGateway();
const s3 = new S3Gateway();

const inputSchema = z.object({
  source: sourceObjectSchema,
  key: keyResultSchema,
  scan: scanSummarySchema,
  job: jobRefSchema,
  jobResult: jobResultSchema,
  executionArn: z.string().startsWith('arn:'),
});

export const handler = makeHandler(inputSchema, 'FinalizeCustomModel input', async (input) => {
  logger.appendKeys({ executionArn: input.executionArn, jobName: input.job.jobName });
  const model = await finalizeCustomModel(input, {
    getCustomModel: (id) => bedrock.getCustomModel(id),
    tagResource: (arn, tags) => bedrock.tagResource(arn, tags),
    mergeObjectTags: (b, k, t, v) => s3.mergeObjectTags(b, k, t, v),
  });
  logger.info('custom model verified and tagged', { modelArn: model.modelArn });
  return model;
});
