import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per process; handlers append `executionArn` / `jobName` as they learn them. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tunevault' });
