import * as z from 'zod';
import { parseArn } from '../shared/aws/arns';
import { KmsGateway } from '../shared/aws/kms';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { ensureCustomerManagedKey } from './core';

const config = loadConfig([
  'AWS_REGION',
  'ACCOUNT_ID',
  'STAGE',
  'KEY_ALIAS',
  'KEY_ARN',
  'KEY_BUILDER_ROLE_ARNS',
  'KEY_USER_ROLE_ARNS',
]);
const kms = new KmsGateway();

export const handler = makeHandler(
  z.object({}).passthrough(),
  'EnsureCustomerManagedKey input',
  async (_, context) => {
    const result = await ensureCustomerManagedKey(
      {
        // The partition of the deployment (aws, aws-cn, aws-us-gov), for the key policy's root ARN.
        partition: parseArn(context.invokedFunctionArn).partition,
        alias: config.KEY_ALIAS,
        ...(config.KEY_ARN ? { keyArn: config.KEY_ARN } : {}),
        stage: config.STAGE,
        accountId: config.ACCOUNT_ID,
        region: config.AWS_REGION,
        builderArns: config.KEY_BUILDER_ROLE_ARNS,
        userArns: config.KEY_USER_ROLE_ARNS,
      },
      kms,
    );
    logger.info('customer managed key ready', { key: result });
    return result;
  },
);
