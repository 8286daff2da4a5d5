import * as z from 'zod';
import { releaseJobSlot } from '../shared/admission';
import { admissionPorts } from '../shared/admission-ports';
import { AdmissionTable } from '../shared/aws/admission';
import { BedrockGateway } from '../shared/aws/bedrock';
import { SfnGateway } from '../shared/aws/sfn';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { checkCustomizationJob } from './core';

const config = loadConfig(['ADMISSION_TABLE']);
const bedrock = new BedrockGateway();
const admission = admissionPorts(new AdmissionTable(config.ADMISSION_TABLE), new SfnGateway());

export const handler = makeHandler(
  z.object({ jobArn: z.string().startsWith('arn:') }),
  'CheckCustomizationJob input',
  ({ jobArn }) =>
    checkCustomizationJob(jobArn, {
      getJob: (id) => bedrock.getJob(id),
      jobEnded: (jobName) => releaseJobSlot(jobName, admission),
    }),
);
