import * as z from 'zod';
import { BedrockGateway } from '../shared/aws/bedrock';
import { makeHandler } from '../shared/handler';
import { checkCustomizationJob } from './core';

const bedrock = new BedrockGateway();

export const handler = makeHandler(
  z.object({ jobArn: z.string().startsWith('arn:') }),
  'CheckCustomizationJob input',
  ({ jobArn }) => checkCustomizationJob(jobArn, bedrock),
);
