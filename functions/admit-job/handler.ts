import * as z from 'zod';
import { admitJob, BEDROCK_JOB_QUOTA, requeueJob, resolveCapacity, ticketOf } from '../shared/admission';
import { admissionPorts } from '../shared/admission-ports';
import { AdmissionTable } from '../shared/aws/admission';
import { QuotasGateway } from '../shared/aws/quotas';
import { SfnGateway } from '../shared/aws/sfn';
import { loadConfig } from '../shared/config';
import { makeHandler } from '../shared/handler';
import { logger } from '../shared/logger';
import { jobNameFor } from '../shared/naming';
import { sourceObjectSchema } from '../shared/types';

const config = loadConfig([
  'ADMISSION_TABLE',
  'MAX_CONCURRENT_JOBS',
  'SLOT_LEASE_SECONDS',
  'QUOTA_RETRY_SECONDS',
]);
const ports = admissionPorts(new AdmissionTable(config.ADMISSION_TABLE), new SfnGateway());
const quotas = new QuotasGateway();

/** The quota is read at most every 15 minutes per container: it changes by a request to AWS, rarely. */
const QUOTA_CACHE_MS = 15 * 60_000;
let capacity: { value: number; at: number } | undefined;
/** What this container last wrote to the slot record: written again only when it changes. */
let configured: string | undefined;

async function currentCapacity(): Promise<number> {
  if (capacity && Date.now() - capacity.at < QUOTA_CACHE_MS) return capacity.value;
  const resolved = await resolveCapacity(config.MAX_CONCURRENT_JOBS, () =>
    quotas.quotaValue(BEDROCK_JOB_QUOTA.serviceCode, BEDROCK_JOB_QUOTA.quotaCode),
  );
  if (resolved.error)
    logger.warn('Bedrock job quota not readable; using the default', {
      ...resolved,
      quota: BEDROCK_JOB_QUOTA,
    });
  capacity = { value: resolved.capacity, at: Date.now() };
  return resolved.capacity;
}

const inputSchema = z.object({
  mode: z.enum(['admit', 'requeue']),
  source: sourceObjectSchema,
  taskToken: z.string().min(1),
  executionArn: z.string().startsWith('arn:'),
  executionStartTime: z.string().min(1),
});

export const handler = makeHandler(inputSchema, 'AdmitJob input', async (input) => {
  const jobName = jobNameFor(input.source);
  logger.appendKeys({ executionArn: input.executionArn, jobName });
  const run = {
    jobName,
    executionArn: input.executionArn,
    taskToken: input.taskToken,
    ticket: ticketOf(input.executionStartTime, jobName),
  };
  let outcome: Awaited<ReturnType<typeof admitJob>>;
  if (input.mode === 'admit') {
    const settings = { capacity: await currentCapacity(), slotLeaseMs: config.SLOT_LEASE_SECONDS * 1000 };
    const key = JSON.stringify(settings);
    outcome = await admitJob(run, { ...settings, configure: configured !== key }, ports);
    configured = key;
  } else {
    outcome = await requeueJob(run, { quotaRetryMs: config.QUOTA_RETRY_SECONDS * 1000 }, ports);
  }
  logger.info(outcome.admitted ? 'job slot taken' : 'waiting for a job slot', {
    mode: input.mode,
    ...outcome,
  });
  return outcome;
});
