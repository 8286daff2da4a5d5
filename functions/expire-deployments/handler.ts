import * as z from 'zod';
import { BedrockGateway } from '../shared/aws/bedrock';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { expireDeployments } from './core';

const config = loadConfig(['STACK_NAME']);
const bedrock = new BedrockGateway();

// An EventBridge scheduled event; only its time is read (the cleanup works on what exists now).
const scheduledEventSchema = z.object({ time: z.string().optional() }).loose();

export const handler = makeHandler(scheduledEventSchema, 'scheduled event', async () => {
  const result = await expireDeployments(
    { stackName: config.STACK_NAME, now: Date.now() },
    {
      listProvisioned: () => bedrock.listProvisioned(),
      listTags: (arn) => bedrock.listTags(arn),
      deleteProvisioned: (arn) => bedrock.deleteProvisioned(arn),
    },
  );
  if (result.deleted.length > 0) logger.warn('expired Provisioned Throughput deleted', { ...result });
  return result;
});
