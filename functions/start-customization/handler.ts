import { SfnGateway } from '../shared/aws/sfn';
import { S3Gateway } from '../shared/aws/s3';
import { JOB_VARS, jobDefaultsFrom, loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { s3EventSchema, startCustomization } from './core';

const config = loadConfig([
  'STATE_MACHINE_ARN',
  'TRAINING_BUCKET',
  'TRAINING_PREFIX',
  'TRAINING_SUFFIX',
  ...JOB_VARS,
]);
const s3 = new S3Gateway();
const sfn = new SfnGateway();

export const handler = makeHandler(s3EventSchema, 'S3 ObjectCreated event', async (event) => {
  const outcomes = await startCustomization(
    event,
    {
      trainingBucket: config.TRAINING_BUCKET,
      prefix: config.TRAINING_PREFIX,
      suffix: config.TRAINING_SUFFIX,
      job: jobDefaultsFrom(config),
    },
    {
      getText: (b, k) => s3.getText(b, k),
      mergeObjectTags: (b, k, t, v) => s3.mergeObjectTags(b, k, t, v),
      startExecution: (name, input) => sfn.startExecution(config.STATE_MACHINE_ARN, name, input),
    },
  );
  for (const o of outcomes) {
    if (o.outcome === 'rejected') logger.error('object rejected', { outcome: o });
    else logger.info('object handled', { outcome: o });
  }
  return { outcomes };
});
