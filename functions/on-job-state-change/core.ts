/**
 * Bedrock's job-state event → the waiting task. Events are best effort and may repeat or
 * arrive out of order: non-terminal ones are ignored, and a missing token means the run is
 * between waits (the poll will see the status) or was already resumed.
 */
import * as z from 'zod';
import type { WaitingTask } from '../shared/aws/task-tokens';
import { TERMINAL_STATUSES } from '../shared/job-status';
import { type ResumePorts, resumeWaitingTask } from '../shared/resume';

export const jobStateEventSchema = z.object({
  source: z.literal('aws.bedrock'),
  'detail-type': z.literal('Model Customization Job State Change'),
  detail: z.object({
    jobName: z.string().min(1),
    jobArn: z.string().startsWith('arn:'),
    jobStatus: z.string().min(1),
    outputModelArn: z.string().optional(),
    failureMessage: z.string().optional(),
  }),
});
export type JobStateEvent = z.infer<typeof jobStateEventSchema>;

export interface EventPorts extends ResumePorts {
  getToken(jobName: string): Promise<WaitingTask | undefined>;
  /** The job ended: its admission slot goes to the next waiting run (idempotent). */
  jobEnded(jobName: string): Promise<unknown>;
}

export type EventOutcome =
  | 'ignored-non-terminal'
  | 'no-waiting-task'
  | 'resumed'
  | 'already-claimed'
  | 'task-closed';

export async function onJobStateChange(event: JobStateEvent, ports: EventPorts): Promise<EventOutcome> {
  const d = event.detail;
  if (!TERMINAL_STATUSES.has(d.jobStatus)) return 'ignored-non-terminal';
  // Independent: the finished run goes on while its slot goes to the next waiting run.
  const [outcome] = await Promise.all([resumeRun(d, ports), ports.jobEnded(d.jobName)]);
  return outcome;
}

async function resumeRun(d: JobStateEvent['detail'], ports: EventPorts): Promise<EventOutcome> {
  const task = await ports.getToken(d.jobName);
  if (!task) return 'no-waiting-task';
  return resumeWaitingTask(
    task,
    {
      jobArn: d.jobArn,
      jobName: d.jobName,
      status: d.jobStatus,
      ...(d.outputModelArn ? { outputModelArn: d.outputModelArn } : {}),
      ...(d.failureMessage ? { failureMessage: d.failureMessage } : {}),
    },
    'event',
    ports,
  );
}
