import { releaseJobSlot } from '../shared/admission';
import { admissionPorts } from '../shared/admission-ports';
import { AdmissionTable } from '../shared/aws/admission';
import { SfnGateway } from '../shared/aws/sfn';
import { TaskTokenStore } from '../shared/aws/task-tokens';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { jobStateEventSchema, onJobStateChange } from './core';

const config = loadConfig(['TASK_TOKEN_TABLE', 'ADMISSION_TABLE']);
const tokens = new TaskTokenStore(config.TASK_TOKEN_TABLE);
const sfn = new SfnGateway();
const admission = admissionPorts(new AdmissionTable(config.ADMISSION_TABLE), sfn);

export const handler = makeHandler(jobStateEventSchema, 'Bedrock job state event', async (event) => {
  logger.appendKeys({ jobName: event.detail.jobName });
  const outcome = await onJobStateChange(event, {
    getToken: (j) => tokens.get(j),
    claim: (j, t) => tokens.claim(j, t),
    sendTaskSuccess: (t, o) => sfn.sendTaskSuccess(t, o),
    sendTaskFailure: (t, e, c) => sfn.sendTaskFailure(t, e, c),
    jobEnded: (jobName) => releaseJobSlot(jobName, admission, { anyJob: true }),
  });
  logger.info('job state event handled', { jobStatus: event.detail.jobStatus, outcome });
  return { outcome };
});
