/**
 * Remediate through its ports: what it tolerates (things already gone) and what it does not
 * (any other error), which fails the step with what was already done.
 */
import { remediate, type RemediatePorts } from '../../../functions/remediate/core';

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
