import { SfnGateway } from '../shared/aws/sfn';
import { TaskTokenStore } from '../shared/aws/task-tokens';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { jobStateEventSchema, onJobStateChange } from './core';

const config = loadConfig(['TASK_TOKEN_TABLE']);
const tokens = new TaskTokenStore(config.TASK_TOKEN_TABLE);
const sfn = new SfnGateway();

export const handler = makeHandler(jobStateEventSchema, 'Bedrock job state event', async (event) => {
  logger.appendKeys({ jobName: event.detail.jobName });
  const outcome = await onJobStateChange(event, {
    getToken: (j) => tokens.get(j),
    claim: (j, t) => tokens.claim(j, t),
    sendTaskSuccess: (t, o) => sfn.sendTaskSuccess(t, o),
    sendTaskFailure: (t, e, c) => sfn.sendTaskFailure(t, e, c),
  });
  logger.info('job state event handled', { jobStatus: event.detail.jobStatus, outcome });
  return { outcome };
});
