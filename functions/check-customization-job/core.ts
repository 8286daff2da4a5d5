/** The poll: the job's status for the Choice, or the named failure when it ended badly. */
import type { JobInfo } from '../shared/aws/bedrock';
import { CustomizationJobFailedError } from '../shared/errors';
import { FAILED_STATUSES, failureCause, TERMINAL_STATUSES, toJobResult } from '../shared/job-status';
import type { JobResult } from '../shared/types';

export interface CheckPorts {
  getJob(id: string): Promise<JobInfo | undefined>;
  /** The job has ended: its admission slot goes to the next waiting run (idempotent). */
  jobEnded(jobName: string): Promise<unknown>;
}

export async function checkCustomizationJob(jobArn: string, ports: CheckPorts): Promise<JobResult> {
  const job = await ports.getJob(jobArn);
  if (!job) throw new CustomizationJobFailedError(`Job ${jobArn} no longer exists.`);
  // A lost job-state event must not keep the slot busy until the run ends.
  if (TERMINAL_STATUSES.has(job.status)) await ports.jobEnded(job.jobName);
  if (FAILED_STATUSES.has(job.status)) throw new CustomizationJobFailedError(failureCause(job));
  return toJobResult(job, 'poll');
}
