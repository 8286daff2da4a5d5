import * as z from 'zod';
import { S3Gateway } from '../shared/aws/s3';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { sourceObjectSchema } from '../shared/types';
import { validateBucketEncryption } from './core';

const config = loadConfig(['OUTPUT_BUCKET', 'REQUIRED_ENCRYPTION']);
const s3 = new S3Gateway();

export const handler = makeHandler(
  z.object({ source: sourceObjectSchema }),
  'ValidateBucketEncryption input',
  ({ source }) => validateBucketEncryption(source, config.OUTPUT_BUCKET, config.REQUIRED_ENCRYPTION, s3),
);
