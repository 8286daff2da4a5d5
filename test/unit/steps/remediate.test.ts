import type { JobInfo, ModelInfo } from '../../../functions/shared/aws/bedrock';
import { jobNameFor } from '../../../functions/shared/naming';
import { type RemediateInput, type RemediatePorts, remediate } from '../../../functions/remediate/core';

const JOB_ARN = 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/x/abc';
const MODEL_ARN = 'arn:aws:bedrock:us-east-1:111122223333:custom-model/x/model1';
const source = { bucket: 'training', key: 'training/a.jsonl', versionId: 'v1' };

interface World {
  job?: JobInfo;
  model?: ModelInfo;
  stopAnswers?: boolean;
  deleteAnswers?: boolean;
  tagError?: Error;
}

function ports(world: World) {
  const calls: string[] = [];
  const tags: { key: string; tags: Record<string, string>; versionId?: string | undefined }[] = [];
  const p: RemediatePorts = {
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
    mergeObjectTags: async (_bucket, key, t, versionId) => {
      if (world.tagError) throw world.tagError;
      tags.push({ key, tags: t, versionId });
    },
  };
  return { p, calls, tags };
}

const input = (over: Partial<RemediateInput>): RemediateInput => ({
  source,
  error: { Error: 'States.TaskFailed' },
  ...over,
});

describe('remediate', () => {
  it('stops a job that is still running, tags the data remediated and reports it', async () => {
    const { p, calls, tags } = ports({ job: { jobArn: JOB_ARN, jobName: 'j', status: 'InProgress' } });
    const result = await remediate(input({ job: { jobArn: JOB_ARN } }), p);
    expect(calls).toEqual([`getJob ${JOB_ARN}`, `stopJob ${JOB_ARN}`]);
    expect(result).toEqual({
      outcome: 'remediated',
      actions: [
        { action: 'stopped-job', target: JOB_ARN },
        { action: 'tagged-data', target: 's3://training/training/a.jsonl' },
      ],
      notes: [],
    });
    expect(tags).toEqual([
      {
        key: 'training/a.jsonl',
        tags: { 'tunevault:status': 'remediated', 'tunevault:reason': 'States.TaskFailed' },
        versionId: 'v1',
      },
    ]);
  });

  it('stops a job that is Stopping too (a stop may not have taken), but not one that ended', async () => {
    const stopping = ports({ job: { jobArn: JOB_ARN, jobName: 'j', status: 'Stopping' } });
    await remediate(input({ job: { jobArn: JOB_ARN } }), stopping.p);
    expect(stopping.calls).toContain(`stopJob ${JOB_ARN}`);
    const ended = ports({ job: { jobArn: JOB_ARN, jobName: 'j', status: 'Failed' } });
    const result = await remediate(input({ job: { jobArn: JOB_ARN } }), ended.p);
    expect(ended.calls).toEqual([`getJob ${JOB_ARN}`]);
    expect(result.outcome).toBe('failed');
    expect(ended.tags[0]?.tags['tunevault:status']).toBe('failed');
  });

  it('does not claim a stop that Bedrock says had nothing to stop', async () => {
    const { p } = ports({ job: { jobArn: JOB_ARN, jobName: 'j', status: 'InProgress' }, stopAnswers: false });
    const result = await remediate(input({ job: { jobArn: JOB_ARN } }), p);
    expect(result.actions.map((a) => a.action)).toEqual(['tagged-data']);
    expect(result.outcome).toBe('failed');
  });

  it('looks the job up by its deterministic name when the submit answer was lost', async () => {
    const { p, calls } = ports({});
    await remediate(input({}), p);
    expect(calls).toEqual([`getJob ${jobNameFor(source)}`]);
  });

  it.each(['ModelNotCompliantError', 'SensitiveDataError'])(
    'deletes the model a %s run produced',
    async (cause) => {
      const { p, calls } = ports({
        job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL_ARN },
        model: { modelArn: MODEL_ARN, modelName: 'm' },
      });
      const result = await remediate(input({ error: { Error: cause }, job: { jobArn: JOB_ARN } }), p);
      expect(calls).toEqual([
        `getJob ${JOB_ARN}`,
        `listDeployments ${MODEL_ARN}`,
        `listProvisioned ${MODEL_ARN}`,
        `getCustomModel ${MODEL_ARN}`,
        `deleteCustomModel ${MODEL_ARN}`,
      ]);
      expect(result.actions[0]).toEqual({ action: 'deleted-model', target: MODEL_ARN });
      expect(result.outcome).toBe('remediated');
    },
  );

  it("prefers the job result's model ARN to the job's", async () => {
    const other = `${MODEL_ARN}-from-result`;
    const { p, calls } = ports({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL_ARN },
      model: { modelArn: other, modelName: 'm' },
    });
    await remediate(
      input({ error: { Error: 'ModelNotCompliantError' }, jobResult: { outputModelArn: other } }),
      p,
    );
    expect(calls).toContain(`getCustomModel ${other}`);
  });

  it('keeps a model whose run failed for a reason that does not make it unsafe, and says so', async () => {
    const { p, calls } = ports({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL_ARN },
    });
    const result = await remediate(input({ error: { Error: 'States.Timeout' } }), p);
    expect(calls).not.toContain(`getCustomModel ${MODEL_ARN}`);
    expect(result.notes).toEqual([`model ${MODEL_ARN} kept: States.Timeout does not make it unsafe`]);
  });

  it('reports nothing deleted when the model is already gone', async () => {
    const gone = ports({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL_ARN },
    });
    const result = await remediate(input({ error: { Error: 'ModelNotCompliantError' } }), gone.p);
    expect(gone.calls).not.toContain(`deleteCustomModel ${MODEL_ARN}`);
    expect(result.actions.map((a) => a.action)).toEqual(['tagged-data']);
    const raced = ports({
      job: { jobArn: JOB_ARN, jobName: 'j', status: 'Completed', outputModelArn: MODEL_ARN },
      model: { modelArn: MODEL_ARN, modelName: 'm' },
      deleteAnswers: false,
    });
    const again = await remediate(input({ error: { Error: 'ModelNotCompliantError' } }), raced.p);
    expect(again.actions.map((a) => a.action)).toEqual(['tagged-data']);
  });

  it('quarantines data the guard blocked, with the cause as the reason, and counts that as remediated', async () => {
    const { p, tags } = ports({});
    const result = await remediate(input({ error: { Error: 'SensitiveDataError' } }), p);
    expect(tags[0]?.tags).toEqual({
      'tunevault:status': 'quarantined',
      'tunevault:reason': 'SensitiveDataError',
    });
    expect(result).toEqual({
      outcome: 'remediated',
      actions: [{ action: 'quarantined-data', target: 's3://training/training/a.jsonl' }],
      notes: [],
    });
  });

  it('never fails when the data cannot be tagged (it was deleted): notes the error name instead', async () => {
    const { p } = ports({ tagError: Object.assign(new Error('gone'), { name: 'NoSuchKey' }) });
    const result = await remediate(input({}), p);
    expect(result).toEqual({
      outcome: 'failed',
      actions: [],
      notes: ['could not tag the training object: NoSuchKey'],
    });
  });
});
