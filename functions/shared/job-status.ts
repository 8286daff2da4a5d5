/** One reading of a job's status, shared by the event, the poll and the registration check. */
import type { JobInfo, JobStatusDetails } from './aws/bedrock';
import type { JobResult } from './types';

export const TERMINAL_STATUSES = new Set(['Completed', 'Failed', 'Stopped']);
export const FAILED_STATUSES = new Set(['Failed', 'Stopped']);

export function failureCause(job: Pick<JobInfo, 'jobName' | 'status' | 'failureMessage'>): string {
  return `Job ${job.jobName} ended ${job.status}${job.failureMessage ? `: ${job.failureMessage}` : ''}`;
}

export function toJobResult(job: JobInfo, resumedBy: JobResult['resumedBy']): JobResult {
  return {
    status: job.status as JobResult['status'],
    jobArn: job.jobArn,
    ...(job.outputModelArn ? { outputModelArn: job.outputModelArn } : {}),
    ...(job.failureMessage ? { failureMessage: job.failureMessage } : {}),
    resumedBy,
  };
}

const PHASES: Array<[keyof JobStatusDetails, string]> = [
  ['validation', 'validation'],
  ['dataProcessing', 'data processing'],
  ['training', 'training'],
];

/** `validation Completed · data processing Completed · training Failed` (GetModelCustomizationJob statusDetails). */
export function statusDetailsText(details: JobStatusDetails | undefined): string | undefined {
  if (!details) return undefined;
  const parts = PHASES.filter(([k]) => details[k] !== undefined).map(
    ([k, label]) => `${label} ${details[k]}`,
  );
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** The phase a job stopped in (Failed or Stopped), for "failed during training". */
export function haltedPhase(details: JobStatusDetails | undefined): string | undefined {
  if (!details) return undefined;
  return PHASES.find(([k]) => details[k] === 'Failed' || details[k] === 'Stopped')?.[1];
}
