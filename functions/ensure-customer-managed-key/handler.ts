import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { AdmissionTable } from '../shared/aws/admission';
import { parseArn } from '../shared/aws/arns';
import { KmsGateway } from '../shared/aws/kms';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { ensureCustomerManagedKey, type LeasePorts } from './core';

const config = loadConfig([
  'AWS_REGION',
  'ACCOUNT_ID',
  'STAGE',
  'KEY_ALIAS',
  'KEY_ARN',
  'KEY_BUILDER_ROLE_ARNS',
  'KEY_USER_ROLE_ARNS',
  'ADMISSION_TABLE',
  'KEY_BOOTSTRAP',
  'KEY_LEASE_SECONDS',
]);
const kms = new KmsGateway();
const table = new AdmissionTable(config.ADMISSION_TABLE);

export const handler = makeHandler(
  z.object({}).passthrough(),
  'EnsureCustomerManagedKey input',
  async (_, context) => {
    const lease: LeasePorts = {
      getLease: (n) => table.getLease(n),
      acquireLease: (n, h, u, now) => table.acquireLease(n, h, u, now),
      recordLeaseKey: (n, h, k) => table.recordLeaseKey(n, h, k),
      abandonLease: (n, h) => table.abandonLease(n, h),
      releaseLease: (n, h) => table.releaseLease(n, h),
      now: () => Date.now(),
      sleep: (ms) => sleep(ms),
      // Unique per attempt (a retried step is a new holder): the lease's owner and the key's tag.
      newHolderToken: () => randomUUID(),
      remainingMs: () => context.getRemainingTimeInMillis(),
    };
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
        bootstrap: config.KEY_BOOTSTRAP,
        leaseMs: config.KEY_LEASE_SECONDS * 1000,
      },
      kms,
      lease,
    );
    logger.info('customer managed key ready', { key: result });
    return result;
  },
);
