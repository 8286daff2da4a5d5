import { sweepAdmission } from '../shared/admission';
import { admissionPorts } from '../shared/admission-ports';
import { AdmissionTable } from '../shared/aws/admission';
import { BedrockGateway } from '../shared/aws/bedrock';
import { SfnGateway } from '../shared/aws/sfn';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import * as z from 'zod';

const config = loadConfig(['ADMISSION_TABLE']);
const sfn = new SfnGateway();
const bedrock = new BedrockGateway();
const ports = {
  ...admissionPorts(new AdmissionTable(config.ADMISSION_TABLE), sfn),
  executionStatus: (arn: string) => sfn.executionStatus(arn),
  jobStatus: async (jobName: string) => (await bedrock.getJob(jobName))?.status,
};

// The EventBridge schedule's event carries nothing the sweep needs.
export const handler = makeHandler(z.object({}).passthrough(), 'scheduled event', async () => {
  const result = await sweepAdmission(ports);
  if (result.reclaimed.length > 0 || result.resumed > 0) logger.info('admission swept', { ...result });
  return result;
});
