/**
 * Answers the task waiting on a job, at most once: the record is claimed (conditionally deleted)
 * before the answer is sent, so a duplicated event, or the event racing the registration check,
 * resumes the run once and surfaces no error.
 */
import type { JobInfo } from './aws/bedrock';
import type { TaskAnswer } from './aws/sfn';
import type { WaitingTask } from './aws/task-tokens';
import { CustomizationJobFailedError } from './errors';
import { FAILED_STATUSES, failureCause, toJobResult } from './job-status';
import type { JobResult } from './types';

export interface ResumePorts {
  claim(jobName: string, taskToken: string): Promise<boolean>;
  sendTaskSuccess(taskToken: string, output: unknown): Promise<TaskAnswer>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<TaskAnswer>;
}

export type ResumeOutcome = 'resumed' | 'already-claimed' | 'task-closed';

export async function resumeWaitingTask(
  task: Pick<WaitingTask, 'jobName' | 'taskToken'>,
  job: JobInfo,
  resumedBy: JobResult['resumedBy'],
  ports: ResumePorts,
): Promise<ResumeOutcome> {
  if (!(await ports.claim(task.jobName, task.taskToken))) return 'already-claimed';
  const answer = FAILED_STATUSES.has(job.status)
    ? await ports.sendTaskFailure(task.taskToken, new CustomizationJobFailedError('').name, failureCause(job))
    : await ports.sendTaskSuccess(task.taskToken, toJobResult(job, resumedBy));
  return answer === 'sent' ? 'resumed' : 'task-closed';
}
