import {
  parseSidecar,
  sidecarKeyFor,
  startCustomization,
  type StartPorts,
} from '../../../functions/start-customization/core';
import { executionNameFor } from '../../../functions/shared/naming';
import type { RunInput } from '../../../functions/shared/types';
import event from '../../../events/startCustomization.json';
import { InvalidInputError } from '../../../functions/shared/errors';

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

  it('README "Nothing runs twice": a duplicate delivery (execution name taken) starts nothing more and reports the existing run', async () => {
    const { p, started } = ports();
    p.startExecution = async (name, input) => {
      started.push({ name, input });
      return { executionArn: `arn:aws:states:us-east-1:1:execution:sm:${name}`, alreadyStarted: true };
    };
    const outcomes = await startCustomization(event, settings, p);
    expect(started).toHaveLength(1);
    expect(outcomes).toEqual([
      {
        key: 'training/my first seté.jsonl',
        outcome: 'already-started',
        executionArn: `arn:aws:states:us-east-1:1:execution:sm:${started[0]?.name}`,
      },
    ]);
  });

  it('asks for the same execution name for every delivery of one version, and a new one for a new version', async () => {
    const { p, started } = ports();
    await startCustomization(event, settings, p);
    await startCustomization(structuredClone(event), settings, p);
    const next = structuredClone(event);
    (next.Records[0] as (typeof next.Records)[number]).s3.object.versionId = 'another-version';
    await startCustomization(next, settings, p);
    expect(started.map((s) => s.name)).toEqual([started[0]?.name, started[0]?.name, expect.any(String)]);
    expect(started[2]?.name).not.toBe(started[0]?.name);
  });

  it('handles each record of a multi-record event on its own', async () => {
    const { p, started } = ports();
    const e = withKey('training/a.jsonl');
    const second = structuredClone(e.Records[0]) as (typeof e.Records)[number];
    second.s3.object.key = 'other/b.jsonl';
    e.Records.push(second);
    const outcomes = await startCustomization(e, settings, p);
    expect(outcomes.map((o) => [o.key, o.outcome])).toEqual([
      ['training/a.jsonl', 'started'],
      ['other/b.jsonl', 'skipped'],
    ]);
    expect(started).toHaveLength(1);
  });

  it('skips an event from another bucket, naming both buckets', async () => {
    const { p, started } = ports();
    const e = withKey('training/a.jsonl');
    (e.Records[0] as (typeof e.Records)[number]).s3.bucket.name = 'someone-elses-bucket';
    const [outcome] = await startCustomization(e, settings, p);
    expect(started).toHaveLength(0);
    expect(outcome).toEqual({
      key: 'training/a.jsonl',
      outcome: 'skipped',
      reason: "bucket 'someone-elses-bucket' is not the training bucket 'tunevault-dev-training-data'",
    });
  });

  it('refuses a key that is not valid percent-encoding with InvalidInputError naming it', async () => {
    const { p } = ports();
    const attempt = startCustomization(withKey('training/bad%E0%A4%A.jsonl'), settings, p);
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(
      "S3 event key 'training/bad%E0%A4%A.jsonl' is not valid percent-encoding",
    );
  });

  it('starts a run without version or size when the event has none (unversioned bucket), keeping the ETag unquoted', async () => {
    const { p, started } = ports();
    const e = withKey('training/a.jsonl');
    const object = (e.Records[0] as (typeof e.Records)[number]).s3.object as Record<string, unknown>;
    delete object.versionId;
    delete object.size;
    object.eTag = '"abc123"';
    await startCustomization(e, settings, p);
    expect(started[0]?.input.source).toEqual({
      bucket: 'tunevault-dev-training-data',
      key: 'training/a.jsonl',
      etag: 'abc123',
    });
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

  it("tags a zero-byte file with the reason too, as the tag's readable text", async () => {
    const { p, tags } = ports();
    await startCustomization(withKey('training/empty.jsonl', 0), settings, p);
    expect(tags['training/empty.jsonl']).toEqual({
      'tunevault:status': 'rejected',
      'tunevault:reason': 'the file is empty - 0 bytes',
    });
  });

  it('hands the run no size when the event has none', async () => {
    const { p, started } = ports();
    const e = withKey('training/a.jsonl');
    delete (e.Records[0] as { s3: { object: { size?: number } } }).s3.object.size;
    await startCustomization(e, settings, p);
    expect(Object.keys(started[0]?.input.source ?? {})).not.toContain('size');
  });

  it('names the unknown fields of one object together', () => {
    expect(() => parseSidecar('{"colour":1,"size":2}', 's3://b/a.job.json')).toThrow(
      "s3://b/a.job.json is not a valid dataset sidecar — unknown field(s) 'colour', 'size'.",
    );
  });

  it("without a sidecar, blames the stage's job settings for a job the catalog refuses", async () => {
    const { p, started } = ports();
    const stage = { ...settings, job: { ...settings.job, baseModelId: 'acme.unknown-v1' } };
    const [outcome] = await startCustomization(withKey('training/a.jsonl'), stage, p);
    expect(started).toHaveLength(0);
    expect(outcome?.outcome === 'rejected' && outcome.reason).toMatch(
      /^the stage's job settings \(no sidecar\) in us-east-1: baseModelId 'acme.unknown-v1' is not in TuneVault's model catalog/,
    );
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

describe('sidecars', () => {
  it('reads the sidecar beside the data: name.jsonl → name.job.json', () => {
    expect(sidecarKeyFor('training/a.jsonl', '.jsonl')).toBe('training/a.job.json');
    expect(sidecarKeyFor('training/a.txt', '.jsonl')).toBe('training/a.txt.job.json');
  });

  it('refuses a sidecar that is not JSON, naming the file', () => {
    expect(() => parseSidecar('{not json', 's3://b/training/a.job.json')).toThrow(
      /^s3:\/\/b\/training\/a\.job\.json is not valid JSON \(/,
    );
  });

  it('names the field and the rule for a wrong value, and lists the allowed fields', () => {
    let message = '';
    try {
      parseSidecar('{"customizationType":"MAGIC","dataPolicy":{"policy":"shred"}}', 'sidecar.json');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInputError);
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /^sidecar\.json is not a valid dataset sidecar — customizationType: .+; dataPolicy\.policy: .+\. Allowed fields: baseModelId, customizationType, hyperParameters, customizationConfig, vpcConfig, deploy, provisioned, validationKey, dataPolicy, tags\.$/,
    );
  });

  it('names (root) when the sidecar is not an object', () => {
    expect(() => parseSidecar('[1]', 'sidecar.json')).toThrow(/— \(root\): /);
  });

  it('lets an unexpected error reading the sidecar (not a bad sidecar) fail the invocation', async () => {
    const { p, started, tags } = ports();
    p.getText = async () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
    };
    await expect(startCustomization(withKey('training/a.jsonl'), settings, p)).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    expect(started).toHaveLength(0);
    expect(tags).toEqual({});
  });

  it('tags a rejected sidecar on the data version with a readable reason', async () => {
    const { p, tags } = ports({ 'training/a.job.json': '{"colour":"blue"}' });
    const versions: (string | undefined)[] = [];
    const merge = p.mergeObjectTags;
    p.mergeObjectTags = async (b, k, t, v) => {
      versions.push(v);
      await merge(b, k, t, v);
    };
    await startCustomization(withKey('training/a.jsonl'), settings, p);
    expect(versions).toEqual(['3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY']);
    expect(tags['training/a.jsonl']).toEqual({
      'tunevault:status': 'rejected',
      'tunevault:reason': expect.stringMatching(
        /^s3:\/\/tunevault-dev-training-data\/training\/a\.job\.json is not a valid dataset sidecar - unknown fields colour/,
      ),
    });
  });
});
