import * as z from 'zod';
import { releaseJobSlot } from '../shared/admission';
import { admissionPorts } from '../shared/admission-ports';
import { AdmissionTable } from '../shared/aws/admission';
import { BedrockGateway } from '../shared/aws/bedrock';
import { S3Gateway } from '../shared/aws/s3';
import { SfnGateway } from '../shared/aws/sfn';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { sourceObjectSchema, stateErrorSchema } from '../shared/types';
import { remediate } from './core';

const config = loadConfig(['ADMISSION_TABLE']);
const bedrock = new BedrockGateway();
const s3 = new S3Gateway();
const admission = admissionPorts(new AdmissionTable(config.ADMISSION_TABLE), new SfnGateway());

// `run` is the whole state (`$`): which step results exist depends on where the run failed.
const inputSchema = z.object({
  executionArn: z.string().startsWith('arn:'),
  run: z.object({
    source: sourceObjectSchema,
    error: stateErrorSchema,
    job: z.object({ jobArn: z.string(), customModelName: z.string().optional() }).optional(),
    jobResult: z.object({ outputModelArn: z.string().optional() }).optional(),
  }),
});

export const handler = makeHandler(inputSchema, 'Remediate input', async (input) => {
  logger.appendKeys({ executionArn: input.executionArn });
  const result = await remediate(input.run, {
    getJob: (id) => bedrock.getJob(id),
    stopJob: (id) => bedrock.stopJob(id),
    getCustomModel: (id) => bedrock.getCustomModel(id),
    deleteCustomModel: (id) => bedrock.deleteCustomModel(id),
    listDeployments: (arn) => bedrock.listDeployments(arn),
    deleteDeployment: (arn) => bedrock.deleteDeployment(arn),
    listProvisioned: (arn) => bedrock.listProvisioned(arn),
    deleteProvisioned: (arn) => bedrock.deleteProvisioned(arn),
    mergeObjectTagsIfPresent: (b, k, t, v) => s3.mergeObjectTagsIfPresent(b, k, t, v),
    releaseJobSlot: (jobName) => releaseJobSlot(jobName, admission),
  });
  logger.warn('run remediated', { cause: input.run.error.Error, result });
  return result;
});
