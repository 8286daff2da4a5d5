import * as z from 'zod';
import { BedrockGateway } from '../shared/aws/bedrock';
import { EventsGateway } from '../shared/aws/events';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { createMetrics, jobTimesOf, publishMetrics, recordRunEnd } from '../shared/metrics';
import { RUN_OUTCOMES, sourceObjectSchema, stateErrorSchema } from '../shared/types';
import { notify } from './core';

const events = new EventsGateway();
const bedrock = new BedrockGateway();
const metrics = createMetrics('notify');

// `run` is the whole state (`$`): on a failure path any step's result may be missing.
const runSchema = z.object({
  source: sourceObjectSchema,
  job: z.object({ jobArn: z.string().optional(), jobName: z.string().optional() }).optional(),
  model: z
    .object({
      modelArn: z.string().optional(),
      deployment: z
        .object({ mode: z.string().optional(), arn: z.string().optional(), expiresAt: z.string().optional() })
        .optional(),
    })
    .optional(),
  jobResult: z.object({ outputModelArn: z.string().optional() }).optional(),
  key: z.object({ keyArn: z.string().optional() }).optional(),
  scan: z.object({ verdict: z.string().optional(), totalFindings: z.number().optional() }).optional(),
  error: stateErrorSchema.optional(),
  remediation: z
    .object({ actions: z.array(z.object({ action: z.string(), target: z.string() })).optional() })
    .optional(),
});
const inputSchema = z.object({
  outcome: z.enum(RUN_OUTCOMES),
  executionArn: z.string().startsWith('arn:'),
  run: runSchema,
});

export const handler = makeHandler(
  inputSchema,
  'Notify input',
  async (input) => {
    logger.appendKeys({ executionArn: input.executionArn });
    // The job as Bedrock reports it (status details, failure message, times); a run may have none.
    const job = await jobTimesOf(
      (arn) => bedrock.getJob(arn),
      input.run.job?.jobArn,
      (err) =>
        logger.warn('job unavailable; no job details and no JobDuration metric', { errorName: err.name }),
    );
    const sent = await notify(
      {
        ...input.run,
        outcome: input.outcome,
        executionArn: input.executionArn,
        jobInfo: job,
        deployment: input.run.model?.deployment,
      },
      (t, d, r) => events.publish(t, d, r),
    );
    logger.info('run notification published', sent);
    // Counted once the event is out, so a retried publish does not count the run twice.
    recordRunEnd(metrics, input.outcome, job);
    return sent;
  },
  [publishMetrics(metrics)],
);
