/**
 * Remediate through its ports: what it tolerates (things already gone) and what it does not
 * (any other error), which fails the step with what was already done.
 */
import type { JobInfo, ModelInfo } from '../../../functions/shared/aws/bedrock';
import { jobNameFor } from '../../../functions/shared/naming';
import { type RemediateInput, type RemediatePorts, remediate } from '../../../functions/remediate/core';

const SOURCE = { bucket: 'training', key: 'training/chat.jsonl', versionId: 'v1' };
const MODEL = 'arn:aws:bedrock:us-east-1:111122223333:custom-model/m/abc';

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: {} });

function ports(tag: RemediatePorts['mergeObjectTagsIfPresent']): RemediatePorts & { deleted: string[] } {
  const deleted: string[] = [];
  return {
    deleted,
    getJob: async () => undefined,
    stopJob: async () => true,
    getCustomModel: async () => ({ modelArn: MODEL, modelName: 'm' }),
    deleteCustomModel: async (id) => {
      deleted.push(id);
      return true;
    },
    listDeployments: async () => [],
    deleteDeployment: async () => true,
    listProvisioned: async () => [],
    deleteProvisioned: async () => true,
    mergeObjectTagsIfPresent: tag,
    releaseJobSlot: async () => undefined,
  };
}

describe('remediate: tagging the training object', () => {
  it('quarantines the object version it was given', async () => {
    const calls: unknown[][] = [];
    const result = await remediate(
      { source: SOURCE, error: { Error: 'SensitiveDataError' } },
      ports(async (...args) => {
        calls.push(args);
        return true;
      }),
    );
    expect(calls).toEqual([
      [
        'training',
        'training/chat.jsonl',
        { 'tunevault:status': 'quarantined', 'tunevault:reason': 'SensitiveDataError' },
        'v1',
      ],
    ]);
    expect(result).toEqual({
      outcome: 'remediated',
      actions: [{ action: 'quarantined-data', target: 's3://training/training/chat.jsonl' }],
      notes: [],
    });
  });

  it('notes an object deleted before the run read it, and goes on', async () => {
    const result = await remediate(
      { source: SOURCE, error: { Error: 'InvalidInputError' } },
      ports(async () => false),
    );
    expect(result).toEqual({
      outcome: 'failed',
      actions: [],
      notes: [
        'the training object s3://training/training/chat.jsonl no longer exists; there was nothing to tag',
      ],
    });
  });

  it('fails on any other error, keeping its name and saying what was already done', async () => {
    const p = ports(async () => {
      throw awsError('AccessDenied', 'User: arn:aws:sts::1:assumed-role/r/s is not authorized');
    });
    const attempt = remediate(
      { source: SOURCE, error: { Error: 'ModelNotCompliantError' }, jobResult: { outputModelArn: MODEL } },
      p,
    );
    await expect(attempt).rejects.toMatchObject({
      name: 'AccessDenied',
      message:
        'remediating ModelNotCompliantError: could not tag s3://training/training/chat.jsonl (version v1) tunevault:status=remediated' +
        ` after deleted-model ${MODEL}: User: arn:aws:sts::1:assumed-role/r/s is not authorized`,
    });
    expect(p.deleted).toEqual([MODEL]);
  });

  it('lists everything already done, comma-separated, when the tag fails', async () => {
    const p = ports(async () => {
      throw awsError('AccessDenied', 'denied');
    });
    const running: JobInfo = {
      jobArn: 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/j',
      status: 'InProgress',
      outputModelArn: MODEL,
    } as JobInfo;
    p.getJob = async () => running;
    const attempt = remediate({ source: SOURCE, error: { Error: 'ModelNotCompliantError' } }, p);
    await expect(attempt).rejects.toMatchObject({
      message: `remediating ModelNotCompliantError: could not tag s3://training/training/chat.jsonl (version v1) tunevault:status=remediated after stopped-job ${running.jobArn}, deleted-model ${MODEL}: denied`,
    });
  });

  it('says neither a version nor what was done when there is none', async () => {
    const attempt = remediate(
      { source: { bucket: 'training', key: 'training/chat.jsonl' }, error: { Error: 'InvalidInputError' } },
      ports(async () => {
        throw awsError('AccessDenied', 'denied');
      }),
    );
    await expect(attempt).rejects.toMatchObject({
      message:
        'remediating InvalidInputError: could not tag s3://training/training/chat.jsonl tunevault:status=failed: denied',
    });
  });

  it('keeps a transient error’s name, so the ASL retries the step', async () => {
    const attempt = remediate(
      { source: SOURCE, error: { Error: 'InvalidInputError' } },
      ports(async () => {
        throw awsError('SlowDown', 'Please reduce your request rate.');
      }),
    );
    await expect(attempt).rejects.toMatchObject({ name: 'SlowDown' });
  });
});

const JOB_ARN = 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/x/abc';

interface World {
  job?: JobInfo;
  model?: ModelInfo;
  stopAnswers?: boolean;
  deleteAnswers?: boolean;
}

function portsIn(world: World) {
  const calls: string[] = [];
  const tags: { key: string; tags: Record<string, string>; versionId?: string | undefined }[] = [];
  const p: RemediatePorts = {
    // The job slot's release is checked in the tests above (admission); not part of these worlds.
    releaseJobSlot: async () => undefined,
    getJob: async (id) => {
      calls.push(`getJob ${id}`);
      return world.job;
    },
    stopJob: async (id) => {
      calls.push(`stopJob ${id}`);
      return world.stopAnswers ?? true;
    },
    getCustomModel: async (id) => {
      calls.push(`getCustomModel ${id}`);
      return world.model;
    },
    deleteCustomModel: async (id) => {
      calls.push(`deleteCustomModel ${id}`);
      return world.deleteAnswers ?? true;
    },
    // No deployments in these worlds (deletion of deployments: customization-types.test.ts).
    listDeployments: async (arn) => {
      calls.push(`listDeployments ${arn}`);
      return [];
    },
    deleteDeployment: async (arn) => {
      throw new Error(`unexpected deleteDeployment ${arn}`);
    },
    listProvisioned: async (arn) => {
      calls.push(`listProvisioned ${arn}`);
      return [];
    },
    deleteProvisioned: async (arn) => {
      throw new Error(`unexpected deleteProvisioned ${arn}`);
    },
    mergeObjectTagsIfPresent: async (_bucket, key, t, versionId) => {
      tags.push({ key, tags: t, versionId });
      return true;
    },
  };
  return { p, calls, tags };
}

const input = (over: Partial<RemediateInput>): RemediateInput => ({
  source: SOURCE,
  error: { Error: 'States.TaskFailed' },
  ...over,
});

describe('remediate', () => {
  it('stops a job that is still running, tags the data remediated and reports it', async () => {
    const { p, calls, tags } = portsIn({ job: { jobArn: JOB_ARN, jobName: 'j', status: 'InProgress' } });
    const result = await remediate(input({ job: { jobArn: JOB_ARN } }), p);
    expect(calls).toEqual([`getJob ${JOB_ARN}`, `stopJob ${JOB_ARN}`]);
    expect(result).toEqual({
      outcome: 'remediated',
      actions: [
        { action: 'stopped-job', target: JOB_ARN },
        { action: 'tagged-data', target: 's3://training/training/chat.jsonl' },
      ],
      notes: [],
    });
    expect(tags).toEqual([
      {
        key: 'training/chat.jsonl',
        tags: { 'tunevault:status': 'remediated', 'tunevault:reason': 'States.TaskFailed' },
        versionId: 'v1',
      },
    ]);
  });

  it('stops a job that is Stopping too (a stop may not have taken), but not one that ended', async () => {
    const stopping = portsIn({ job: { jobArn: JOB_ARN, jobName: 'j', status: 'Stopping' } });
    await remediate(input({ job: { jobArn: JOB_ARN } }), stopping.p);
    expect(stopping.calls).toContain(`stopJob ${JOB_ARN}`);
    const ended = portsIn({ job: { jobArn: JOB_ARN, jobName: 'j', status: 'Failed' } });
    const result = await remediate(input({ job: { jobArn: JOB_ARN } }), ended.p);
    expect(ended.calls).toEqual([`getJob ${JOB_ARN}`]);
    expect(result.outcome).toBe('failed');
    expect(ended.tags[0]?.tags['tunevault:status']).toBe('failed');
  });

  it('does not claim a stop that Bedrock says had nothing to stop', async () => {
    const { p } = portsIn({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'InProgress' },
      stopAnswers: false,
    });
    const result = await remediate(input({ job: { jobArn: JOB_ARN } }), p);
    expect(result.actions.map((a) => a.action)).toEqual(['tagged-data']);
    expect(result.outcome).toBe('failed');
  });

  it('looks the job up by its deterministic name when the submit answer was lost', async () => {
    const { p, calls } = portsIn({});
    await remediate(input({}), p);
    expect(calls).toEqual([`getJob ${jobNameFor(SOURCE)}`]);
  });

  it.each(['ModelNotCompliantError', 'SensitiveDataError'])(
    'deletes the model a %s run produced',
    async (cause) => {
      const { p, calls } = portsIn({
        job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL },
        model: { modelArn: MODEL, modelName: 'm' },
      });
      const result = await remediate(input({ error: { Error: cause }, job: { jobArn: JOB_ARN } }), p);
      expect(calls).toEqual([
        `getJob ${JOB_ARN}`,
        `listDeployments ${MODEL}`,
        `listProvisioned ${MODEL}`,
        `getCustomModel ${MODEL}`,
        `deleteCustomModel ${MODEL}`,
      ]);
      expect(result.actions[0]).toEqual({ action: 'deleted-model', target: MODEL });
      expect(result.outcome).toBe('remediated');
    },
  );

  it("prefers the job result's model ARN to the job's", async () => {
    const other = `${MODEL}-from-result`;
    const { p, calls } = portsIn({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL },
      model: { modelArn: other, modelName: 'm' },
    });
    await remediate(
      input({ error: { Error: 'ModelNotCompliantError' }, jobResult: { outputModelArn: other } }),
      p,
    );
    expect(calls).toContain(`getCustomModel ${other}`);
  });

  it('keeps a model whose run failed for a reason that does not make it unsafe, and says so', async () => {
    const { p, calls } = portsIn({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL },
    });
    const result = await remediate(input({ error: { Error: 'States.Timeout' } }), p);
    expect(calls).not.toContain(`getCustomModel ${MODEL}`);
    expect(result.notes).toEqual([`model ${MODEL} kept: States.Timeout does not make it unsafe`]);
  });

  it('reports nothing deleted when the model is already gone', async () => {
    const gone = portsIn({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL },
    });
    const result = await remediate(input({ error: { Error: 'ModelNotCompliantError' } }), gone.p);
    expect(gone.calls).not.toContain(`deleteCustomModel ${MODEL}`);
    expect(result.actions.map((a) => a.action)).toEqual(['tagged-data']);
    const raced = portsIn({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL },
      model: { modelArn: MODEL, modelName: 'm' },
      deleteAnswers: false,
    });
    const again = await remediate(input({ error: { Error: 'ModelNotCompliantError' } }), raced.p);
    expect(again.actions.map((a) => a.action)).toEqual(['tagged-data']);
  });
});

describe('remediate: the job slot and the deployments', () => {
  it('gives the job slot of a run whose job is not running back at once', async () => {
    const released: string[] = [];
    const p = ports(async () => true);
    p.releaseJobSlot = async (jobName) => {
      released.push(jobName);
    };
    await remediate({ source: SOURCE, error: { Error: 'SensitiveDataError' } }, p);
    expect(released).toEqual([jobNameFor(SOURCE)]);
  });

  it('leaves a slot it cannot give back to the admission sweep, says so, and goes on', async () => {
    const p = ports(async () => true);
    p.releaseJobSlot = async () => {
      throw awsError('ProvisionedThroughputExceededException');
    };
    const result = await remediate({ source: SOURCE, error: { Error: 'SensitiveDataError' } }, p);
    expect(result.notes).toEqual([
      'job slot not released now (ProvisionedThroughputExceededException); the admission sweep reclaims it',
    ]);
    expect(result.actions).toEqual([
      { action: 'quarantined-data', target: 's3://training/training/chat.jsonl' },
    ]);
  });

  it('keeps the deployments of a model it keeps (a failure that is not the model’s)', async () => {
    const p = ports(async () => true);
    const listed: string[] = [];
    p.listDeployments = async (model) => {
      listed.push(model);
      return [{ arn: 'dep-1', name: 'dep-1', status: 'Active' }];
    };
    const result = await remediate(
      {
        source: SOURCE,
        error: { Error: 'CustomizationJobFailedError' },
        jobResult: { outputModelArn: MODEL },
      },
      p,
    );
    expect(listed).toEqual([]);
    expect(result.actions.map((a) => a.action)).not.toContain('deleted-deployment');
  });
});
