/** One reading of a job's status, shared by the event, the poll and the registration check. */
import type { JobInfo } from './aws/bedrock';
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
