/** The poll: the job's status for the Choice, or the named failure when it ended badly. */
import type { JobInfo } from '../shared/aws/bedrock';
import { CustomizationJobFailedError } from '../shared/errors';
import { FAILED_STATUSES, failureCause, toJobResult } from '../shared/job-status';
import type { JobResult } from '../shared/types';

export interface CheckPorts {
  /** The job as Bedrock reports it, or undefined when it no longer exists. */
  getJob(jobArn: string): Promise<JobInfo | undefined>;
}

export async function checkCustomizationJob(jobArn: string, ports: CheckPorts): Promise<JobResult> {
  const job = await ports.getJob(jobArn);
  if (!job) throw new CustomizationJobFailedError(`Job ${jobArn} no longer exists.`);
  if (FAILED_STATUSES.has(job.status)) throw new CustomizationJobFailedError(failureCause(job));
  return toJobResult(job, 'poll');
}
