import fs from 'node:fs';
import path from 'node:path';
import { registerWait, type WaitPorts } from '../../../functions/wait-for-job/core';
import {
  type EventPorts,
  jobStateEventSchema,
  onJobStateChange,
} from '../../../functions/on-job-state-change/core';
import { checkCustomizationJob } from '../../../functions/check-customization-job/core';
import { CustomizationJobFailedError } from '../../../functions/shared/errors';
import type { JobInfo } from '../../../functions/shared/aws/bedrock';
import type { WaitingTask } from '../../../functions/shared/aws/task-tokens';
import { FAILED_STATUSES, TERMINAL_STATUSES, toJobResult } from '../../../functions/shared/job-status';
import { type ResumePorts, resumeWaitingTask } from '../../../functions/shared/resume';

const JOB_ARN = 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/m/abc123';
const input = {
  jobName: 'job-1',
  jobArn: JOB_ARN,
  taskToken: 'token-1',
  executionArn: 'arn:aws:states:us-east-1:1:execution:sm:run',
};

/** An in-memory table with the conditional delete the real one has. */
function tokenTable() {
  const rows = new Map<string, WaitingTask>();
  return {
    rows,
    put: async (t: WaitingTask) => {
      rows.set(t.jobName, t);
    },
    get: async (jobName: string) => rows.get(jobName),
    claim: async (jobName: string, token: string) =>
      rows.get(jobName)?.taskToken === token && rows.delete(jobName),
  };
}

function waitPorts(job: JobInfo | undefined) {
  const table = tokenTable();
  const sent: { kind: string; token: string; payload: unknown }[] = [];
  const ports: WaitPorts = {
    putToken: table.put,
    getJob: async () => job,
    claim: table.claim,
    sendTaskSuccess: async (token, output) => {
      sent.push({ kind: 'success', token, payload: output });
      return 'sent';
    },
    sendTaskFailure: async (token, error, cause) => {
      sent.push({ kind: 'failure', token, payload: { error, cause } });
      return 'sent';
    },
    now: () => 1_700_000_000_000,
  };
  return { ports, sent, table };
}

describe('WaitForJob registration', () => {
  it('parks the token when the job is still running', async () => {
    const { ports, sent, table } = waitPorts({
      jobArn: JOB_ARN,
      jobName: 'job-1',
      status: 'InProgress',
    });
    const result = await registerWait(input, 3600, ports);
    expect(result.answeredAtOnce).toBe(false);
    expect(sent).toHaveLength(0);
    expect(table.rows.get('job-1')).toMatchObject({ taskToken: 'token-1', expiresAt: 1_700_000_000 + 3600 });
  });

  it('answers at once when the job is already Completed', async () => {
    const { ports, sent, table } = waitPorts({
      jobArn: JOB_ARN,
      jobName: 'job-1',
      status: 'Completed',
      outputModelArn: 'arn:model',
    });
    const result = await registerWait(input, 3600, ports);
    expect(result.answeredAtOnce).toBe('resumed');
    expect(sent).toEqual([
      {
        kind: 'success',
        token: 'token-1',
        payload: { status: 'Completed', jobArn: JOB_ARN, outputModelArn: 'arn:model', resumedBy: 'register' },
      },
    ]);
    expect(table.rows.size).toBe(0);
  });

  it('fails the task at once with CustomizationJobFailedError when the job already Failed', async () => {
    const { ports, sent } = waitPorts({
      jobArn: JOB_ARN,
      jobName: 'job-1',
      status: 'Failed',
      failureMessage: 'bad data',
    });
    await registerWait(input, 3600, ports);
    expect(sent).toEqual([
      {
        kind: 'failure',
        token: 'token-1',
        payload: { error: 'CustomizationJobFailedError', cause: 'Job job-1 ended Failed: bad data' },
      },
    ]);
  });
});

describe('onJobStateChange', () => {
  const event = (jobStatus: string) => ({
    source: 'aws.bedrock' as const,
    'detail-type': 'Model Customization Job State Change' as const,
    detail: { jobName: 'job-1', jobArn: JOB_ARN, jobStatus, outputModelArn: 'arn:model' },
  });

  function eventPorts() {
    const table = tokenTable();
    const sent: string[] = [];
    const ended: string[] = [];
    const ports: EventPorts = {
      jobEnded: async (jobName) => ended.push(jobName),
      getToken: table.get,
      claim: table.claim,
      sendTaskSuccess: async (t) => {
        sent.push(`success:${t}`);
        return 'sent';
      },
      sendTaskFailure: async (t) => {
        sent.push(`failure:${t}`);
        return 'sent';
      },
    };
    return { ports, sent, table, ended };
  }

  it('resumes once when the Completed event is delivered twice, and ignores a late InProgress', async () => {
    const { ports, sent, table, ended } = eventPorts();
    await table.put({ jobName: 'job-1', taskToken: 'token-1', expiresAt: 0 });
    const outcomes = await Promise.all([
      onJobStateChange(event('Completed'), ports),
      onJobStateChange(event('Completed'), ports),
    ]);
    const late = await onJobStateChange(event('InProgress'), ports);
    expect(outcomes.filter((o) => o === 'resumed')).toHaveLength(1);
    expect(['already-claimed', 'no-waiting-task']).toContain(outcomes.find((o) => o !== 'resumed'));
    expect(late).toBe('ignored-non-terminal');
    expect(sent).toEqual(['success:token-1']);
    // Each delivery frees the slot (idempotent); the InProgress event does not.
    expect(ended).toEqual(['job-1', 'job-1']);
  });

  it('resumes nobody when no run waits (the poll covers it), but still frees the job slot', async () => {
    const { ports, sent, ended } = eventPorts();
    await expect(onJobStateChange(event('Completed'), ports)).resolves.toBe('no-waiting-task');
    expect(sent).toHaveLength(0);
    expect(ended).toEqual(['job-1']);
  });
});

describe('checkCustomizationJob', () => {
  it('returns the running status for the Choice', async () => {
    await expect(
      checkCustomizationJob(JOB_ARN, {
        getJob: async () => ({ jobArn: JOB_ARN, jobName: 'j', status: 'InProgress' }),
      }),
    ).resolves.toEqual({
      status: 'InProgress',
      jobArn: JOB_ARN,
      resumedBy: 'poll',
    });
  });

  it.each(['Failed', 'Stopped'])('raises CustomizationJobFailedError for %s', async (status) => {
    const attempt = checkCustomizationJob(JOB_ARN, {
      getJob: async () => ({ jobArn: JOB_ARN, jobName: 'j', status, failureMessage: 'boom' }),
    });
    await expect(attempt).rejects.toBeInstanceOf(CustomizationJobFailedError);
    await expect(attempt).rejects.toThrow(`Job j ended ${status}: boom`);
  });
});

describe('resumeWaitingTask', () => {
  function resumePorts(claimed: boolean, answer: 'sent' | 'closed' = 'sent') {
    const calls: string[] = [];
    const ports: ResumePorts = {
      claim: async (jobName, token) => {
        calls.push(`claim ${jobName} ${token}`);
        return claimed;
      },
      sendTaskSuccess: async (token, output) => {
        calls.push(`success ${token} ${JSON.stringify(output)}`);
        return answer;
      },
      sendTaskFailure: async (token, error, cause) => {
        calls.push(`failure ${token} ${error} ${cause}`);
        return answer;
      },
    };
    return { ports, calls };
  }
  const task = { jobName: 'job-1', taskToken: 'token-1' };

  it('answers nothing when another caller claimed the token first', async () => {
    const { ports, calls } = resumePorts(false);
    await expect(
      resumeWaitingTask(task, { jobArn: JOB_ARN, jobName: 'job-1', status: 'Completed' }, 'event', ports),
    ).resolves.toBe('already-claimed');
    expect(calls).toEqual(['claim job-1 token-1']);
  });

  it('claims before it answers, and reports a token Step Functions already closed as task-closed', async () => {
    const { ports, calls } = resumePorts(true, 'closed');
    await expect(
      resumeWaitingTask(task, { jobArn: JOB_ARN, jobName: 'job-1', status: 'Completed' }, 'poll', ports),
    ).resolves.toBe('task-closed');
    expect(calls).toEqual([
      'claim job-1 token-1',
      `success token-1 {"status":"Completed","jobArn":"${JOB_ARN}","resumedBy":"poll"}`,
    ]);
  });

  it('fails the task with CustomizationJobFailedError for a Stopped job, the cause naming job and status', async () => {
    const { ports, calls } = resumePorts(true);
    await resumeWaitingTask(task, { jobArn: JOB_ARN, jobName: 'job-1', status: 'Stopped' }, 'event', ports);
    expect(calls[1]).toBe('failure token-1 CustomizationJobFailedError Job job-1 ended Stopped');
  });
});

describe('job status readings', () => {
  it('knows which statuses end a job and which of those are failures', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(['Completed', 'Failed', 'Stopped']);
    expect([...FAILED_STATUSES].sort()).toEqual(['Failed', 'Stopped']);
  });

  it('passes the model and the failure message on, only when present', () => {
    expect(
      toJobResult(
        { jobArn: JOB_ARN, jobName: 'j', status: 'Failed', outputModelArn: 'arn:m', failureMessage: 'bad' },
        'event',
      ),
    ).toEqual({
      status: 'Failed',
      jobArn: JOB_ARN,
      outputModelArn: 'arn:m',
      failureMessage: 'bad',
      resumedBy: 'event',
    });
    expect(toJobResult({ jobArn: JOB_ARN, jobName: 'j', status: 'InProgress' }, 'register')).toEqual({
      status: 'InProgress',
      jobArn: JOB_ARN,
      resumedBy: 'register',
    });
  });
});

describe('WaitForJob registration: the record it parks', () => {
  it('stores token, execution and an expiry of now + TTL (in seconds) under the job name, then asks for the job by ARN', async () => {
    const asked: string[] = [];
    const { ports, table } = waitPorts(undefined);
    ports.getJob = async (id) => {
      asked.push(id);
      return undefined;
    };
    ports.now = () => 1_700_000_000_999;
    await expect(registerWait(input, 60, ports)).resolves.toEqual({
      registered: true,
      answeredAtOnce: false,
    });
    expect(table.rows.get('job-1')).toEqual({
      jobName: 'job-1',
      taskToken: 'token-1',
      executionArn: input.executionArn,
      expiresAt: 1_700_000_060,
    });
    expect(asked).toEqual([JOB_ARN]);
  });
});

describe('onJobStateChange: what it passes on', () => {
  it('resumes with the status and model of the event, and fails the task on a Failed event with its message', async () => {
    const table = new Map<string, WaitingTask>([
      ['job-1', { jobName: 'job-1', taskToken: 'token-1', expiresAt: 0 }],
    ]);
    const sent: unknown[] = [];
    const ended: string[] = [];
    const ports: EventPorts = {
      getToken: async (j) => table.get(j),
      claim: async (j, t) => table.get(j)?.taskToken === t && table.delete(j),
      jobEnded: async (jobName) => {
        ended.push(jobName);
      },
      sendTaskSuccess: async (t, o) => {
        sent.push(['success', t, o]);
        return 'sent';
      },
      sendTaskFailure: async (t, e, c) => {
        sent.push(['failure', t, e, c]);
        return 'sent';
      },
    };
    const failed = {
      source: 'aws.bedrock' as const,
      'detail-type': 'Model Customization Job State Change' as const,
      detail: { jobName: 'job-1', jobArn: JOB_ARN, jobStatus: 'Failed', failureMessage: 'quota' },
    };
    await expect(onJobStateChange(failed, ports)).resolves.toBe('resumed');
    expect(sent).toEqual([
      ['failure', 'token-1', 'CustomizationJobFailedError', 'Job job-1 ended Failed: quota'],
    ]);
    // A failed job ends too: its admission slot goes to the next waiting run.
    expect(ended).toEqual(['job-1']);
  });
});

describe('checkCustomizationJob: a job that disappeared', () => {
  it('raises CustomizationJobFailedError naming the job ARN', async () => {
    const attempt = checkCustomizationJob(JOB_ARN, { getJob: async () => undefined });
    await expect(attempt).rejects.toBeInstanceOf(CustomizationJobFailedError);
    await expect(attempt).rejects.toThrow(`Job ${JOB_ARN} no longer exists.`);
  });

  it('returns a Completed job with its model for the Choice', async () => {
    await expect(
      checkCustomizationJob(JOB_ARN, {
        getJob: async () => ({
          jobArn: JOB_ARN,
          jobName: 'j',
          status: 'Completed',
          outputModelArn: 'arn:m',
        }),
      }),
    ).resolves.toEqual({ status: 'Completed', jobArn: JOB_ARN, outputModelArn: 'arn:m', resumedBy: 'poll' });
  });
});

describe('onJobStateChange: the events it accepts (README "Events: repeated, out of order, lost")', () => {
  // The sample event is the shape Bedrock sends (aws-shapes.md, "Model Customization Job State Change").
  const sample = JSON.parse(
    fs.readFileSync(path.join(__dirname, '../../../events/onJobStateChange.json'), 'utf8'),
  );
  const withDetail = (detail: Record<string, unknown>) => ({
    ...sample,
    detail: { ...sample.detail, ...detail },
  });

  it("accepts Bedrock's job-state event as Bedrock sends it", () => {
    expect(jobStateEventSchema.safeParse(sample).success).toBe(true);
  });

  it.each([
    ['another source', { ...sample, source: 'aws.sagemaker' }],
    ['another detail-type', { ...sample, 'detail-type': 'Model Invocation Job State Change' }],
    ['an empty job name', withDetail({ jobName: '' })],
    ['a job ARN that is not an ARN', withDetail({ jobArn: 'model-customization-job/abc' })],
    ['a job ARN with arn: only at its end', withDetail({ jobArn: 'job/abc-arn:' })],
    ['an empty job status', withDetail({ jobStatus: '' })],
  ])('refuses %s', (_what, event) => {
    expect(jobStateEventSchema.safeParse(event).success).toBe(false);
  });

  it('accepts a one-character job name and status (min 1, not max 1)', () => {
    expect(jobStateEventSchema.safeParse(withDetail({ jobName: 'j', jobStatus: 'Completed' })).success).toBe(
      true,
    );
  });

  it("passes a Completed event's model ARN on to the waiting run", async () => {
    const sent: unknown[] = [];
    const ports: EventPorts = {
      getToken: async (jobName) => ({ jobName, taskToken: 'token-1', expiresAt: 0 }),
      claim: async () => true,
      jobEnded: async () => undefined,
      sendTaskSuccess: async (_t, output) => {
        sent.push(output);
        return 'sent';
      },
      sendTaskFailure: async () => 'sent',
    };
    await expect(onJobStateChange(jobStateEventSchema.parse(sample), ports)).resolves.toBe('resumed');
    expect(sent).toEqual([
      expect.objectContaining({ status: 'Completed', outputModelArn: sample.detail.outputModelArn }),
    ]);
  });
});
