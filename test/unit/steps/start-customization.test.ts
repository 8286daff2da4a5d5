import { startCustomization, type StartPorts } from '../../../functions/start-customization/core';
import { executionNameFor } from '../../../functions/shared/naming';
import type { RunInput } from '../../../functions/shared/types';
import event from '../../../events/startCustomization.json';

const settings = {
  trainingBucket: 'tunevault-dev-training-data',
  prefix: 'training/',
  suffix: '.jsonl',
  job: {
    region: 'us-east-1',
    baseModelId: 'amazon.nova-micro-v1:0:128k',
    customizationType: 'FINE_TUNING' as const,
    hyperParameters: {},
    rftGraderLambdaArns: [],
    deploy: 'none' as const,
    provisionedModelUnits: 1,
  },
};

function ports(objects: Record<string, string> = {}) {
  const started: { name: string; input: RunInput }[] = [];
  const tags: Record<string, Record<string, string>> = {};
  const p: StartPorts = {
    getText: async (_b, k) => objects[k],
    mergeObjectTags: async (_b, k, t) => {
      tags[k] = { ...tags[k], ...t };
    },
    startExecution: async (name, input) => {
      started.push({ name, input });
      return { executionArn: `arn:aws:states:us-east-1:1:execution:sm:${name}`, alreadyStarted: false };
    },
  };
  return { p, started, tags };
}

function withKey(key: string, size = 10) {
  const e = structuredClone(event);
  const record = e.Records[0] as (typeof e.Records)[number];
  record.s3.object.key = key;
  record.s3.object.size = size;
  return e;
}

describe('startCustomization', () => {
  it('decodes the URL-encoded key of the sample event and starts one run for that version', async () => {
    const { p, started } = ports();
    const outcomes = await startCustomization(event, settings, p);
    expect(started).toHaveLength(1);
    expect(started[0]?.input.source).toEqual({
      bucket: 'tunevault-dev-training-data',
      key: 'training/my first seté.jsonl',
      versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
      etag: 'd41d8cd98f00b204e9800998ecf8427e',
      size: 2048,
    });
    expect(started[0]?.name).toBe(executionNameFor(started[0]!.input.source));
    expect(outcomes[0]).toMatchObject({ outcome: 'started' });
  });

  it('decodes %2B as a literal plus', async () => {
    const { p, started } = ports();
    await startCustomization(withKey('training/c%2B%2B+notes.jsonl'), settings, p);
    expect(started[0]?.input.source.key).toBe('training/c++ notes.jsonl');
  });

  it('reports ExecutionAlreadyExists (a duplicate delivery) as already started', async () => {
    const { p } = ports();
    p.startExecution = async (name) => ({ executionArn: `arn:x:${name}`, alreadyStarted: true });
    await expect(startCustomization(event, settings, p)).resolves.toEqual([
      expect.objectContaining({ outcome: 'already-started' }),
    ]);
  });

  it.each([
    ['outside the prefix', 'other/data.jsonl', /outside the training prefix 'training\/'/],
    ['another suffix', 'training/data.csv', /does not end with '.jsonl'/],
  ])('skips an object %s with the reason', async (_label, key, reason) => {
    const { p, started } = ports();
    const [outcome] = await startCustomization(withKey(key), settings, p);
    expect(started).toHaveLength(0);
    expect(outcome).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(reason) });
  });

  it('rejects a zero-byte file and tags it, starting nothing', async () => {
    const { p, started, tags } = ports();
    const [outcome] = await startCustomization(withKey('training/empty.jsonl', 0), settings, p);
    expect(started).toHaveLength(0);
    expect(outcome).toMatchObject({ outcome: 'rejected', reason: 'the file is empty (0 bytes)' });
    expect(tags['training/empty.jsonl']).toMatchObject({ 'tunevault:status': 'rejected' });
  });

  it('passes a valid sidecar to the run and rejects one with unknown fields, naming them', async () => {
    const good = ports({
      'training/a.job.json': '{"baseModelId":"amazon.nova-micro-v1:0","hyperParameters":{"epochCount":"3"}}',
    });
    await startCustomization(withKey('training/a.jsonl'), settings, good.p);
    expect(good.started[0]?.input.dataset).toEqual({
      baseModelId: 'amazon.nova-micro-v1:0',
      hyperParameters: { epochCount: '3' },
    });

    const bad = ports({ 'training/a.job.json': '{"baseModel":"x","dataPolicy":{"mode":"y"}}' });
    const [outcome] = await startCustomization(withKey('training/a.jsonl'), settings, bad.p);
    expect(bad.started).toHaveLength(0);
    expect(outcome).toMatchObject({ outcome: 'rejected' });
    expect(outcome && 'reason' in outcome ? outcome.reason : '').toMatch(/'dataPolicy.mode'.*'baseModel'/);
  });

  it('refuses, before any run, a sidecar whose job the catalog says Bedrock would refuse', async () => {
    const sidecar = JSON.stringify({ baseModelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k' });
    const { p, started, tags } = ports({ 'training/a.job.json': sidecar });
    const [outcome] = await startCustomization(withKey('training/a.jsonl'), settings, p);
    expect(started).toHaveLength(0);
    expect(outcome).toMatchObject({ outcome: 'rejected' });
    expect(outcome?.outcome === 'rejected' && outcome.reason).toMatch(
      /^s3:\/\/tunevault-dev-training-data\/training\/a\.job\.json: Claude 3 Haiku .* only in us-west-2/,
    );
    // The tag keeps the Region that fixes it (S3 tag values are at most 256 characters).
    expect(tags['training/a.jsonl']?.['tunevault:status']).toBe('rejected');
    expect(tags['training/a.jsonl']?.['tunevault:reason']).toContain('us-west-2');
  });

  it('accepts numeric hyper-parameters in a sidecar and hands the run strings, as Bedrock takes them', async () => {
    const sidecar = JSON.stringify({
      baseModelId: 'amazon.nova-lite-v1:0:300k',
      hyperParameters: { epochCount: 3 },
    });
    const { p, started } = ports({ 'training/a.job.json': sidecar });
    await startCustomization(withKey('training/a.jsonl'), settings, p);
    expect(started[0]?.input.dataset.hyperParameters).toEqual({ epochCount: '3' });
  });
});
