import * as z from 'zod';
import { BedrockGateway } from '../shared/aws/bedrock';
import { S3Gateway } from '../shared/aws/s3';
import { JOB_VARS, jobDefaultsFrom, loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import {
  datasetOptionsSchema,
  jobRefSchema,
  jobResultSchema,
  keyResultSchema,
  scanSummarySchema,
  sourceObjectSchema,
} from '../shared/types';
import { finalizeCustomModel } from './core';

const config = loadConfig([...JOB_VARS, 'STACK_NAME']);
const bedrock = new BedrockGateway();
const s3 = new S3Gateway();

const inputSchema = z.object({
  source: sourceObjectSchema,
  dataset: datasetOptionsSchema.default({}),
  key: keyResultSchema,
  scan: scanSummarySchema,
  job: jobRefSchema,
  jobResult: jobResultSchema,
  executionArn: z.string().startsWith('arn:'),
});

export const handler = makeHandler(inputSchema, 'FinalizeCustomModel input', async (input) => {
  logger.appendKeys({ executionArn: input.executionArn, jobName: input.job.jobName });
  const model = await finalizeCustomModel(
    input,
    {
      getCustomModel: (id) => bedrock.getCustomModel(id),
      tagResource: (arn, tags) => bedrock.tagResource(arn, tags),
      mergeObjectTags: (b, k, t, v) => s3.mergeObjectTags(b, k, t, v),
      createDeployment: (r) => bedrock.createDeployment(r),
      createProvisioned: (r) => bedrock.createProvisioned(r),
    },
    { job: jobDefaultsFrom(config), stackName: config.STACK_NAME },
  );
  logger.info('custom model verified and tagged', { modelArn: model.modelArn, deployment: model.deployment });
  return model;
});
