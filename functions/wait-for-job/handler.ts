import * as z from 'zod';
import { BedrockGateway } from '../shared/aws/bedrock';
import { SfnGateway } from '../shared/aws/sfn';
import { TaskTokenStore } from '../shared/aws/task-tokens';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { registerWait } from './core';

const config = loadConfig(['TASK_TOKEN_TABLE', 'TOKEN_TTL_SECONDS']);
const tokens = new TaskTokenStore(config.TASK_TOKEN_TABLE);
const bedrock = new BedrockGateway();
const sfn = new SfnGateway();

const inputSchema = z.object({
  jobName: z.string().min(1),
  jobArn: z.string().startsWith('arn:'),
  taskToken: z.string().min(1),
  executionArn: z.string().startsWith('arn:'),
});

export const handler = makeHandler(inputSchema, 'WaitForJob input', async (input) => {
  logger.appendKeys({ executionArn: input.executionArn, jobName: input.jobName });
  const result = await registerWait(input, config.TOKEN_TTL_SECONDS, {
    putToken: (t) => tokens.put(t),
    getJob: (id) => bedrock.getJob(id),
    claim: (j, t) => tokens.claim(j, t),
    sendTaskSuccess: (t, o) => sfn.sendTaskSuccess(t, o),
    sendTaskFailure: (t, e, c) => sfn.sendTaskFailure(t, e, c),
    now: () => Date.now(),
  });
  logger.info('waiting for job', { answeredAtOnce: result.answeredAtOnce });
  return result;
});
