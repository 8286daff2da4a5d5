/**
 * Registers the waiting task token under the job name, then looks once at the job: a job that
 * finished before we registered would otherwise wait a whole poll interval for nothing.
 */
import type { JobInfo } from '../shared/aws/bedrock';
import type { WaitingTask } from '../shared/aws/task-tokens';
import { TERMINAL_STATUSES } from '../shared/job-status';
import { type ResumeOutcome, type ResumePorts, resumeWaitingTask } from '../shared/resume';

export interface WaitPorts extends ResumePorts {
  putToken(task: WaitingTask): Promise<void>;
  getJob(jobIdentifier: string): Promise<JobInfo | undefined>;
  now(): number;
}

export interface WaitInput {
  jobName: string;
  jobArn: string;
  taskToken: string;
  executionArn: string;
}

export async function registerWait(
  input: WaitInput,
  ttlSeconds: number,
  ports: WaitPorts,
): Promise<{ registered: true; answeredAtOnce: ResumeOutcome | false }> {
  await ports.putToken({
    jobName: input.jobName,
    taskToken: input.taskToken,
    executionArn: input.executionArn,
    expiresAt: Math.floor(ports.now() / 1000) + ttlSeconds,
  });
  const job = await ports.getJob(input.jobArn);
  if (!job || !TERMINAL_STATUSES.has(job.status)) return { registered: true, answeredAtOnce: false };
  return { registered: true, answeredAtOnce: await resumeWaitingTask(input, job, 'register', ports) };
}
