import type { ModelInfo } from '../../../functions/shared/aws/bedrock';
import { ModelNotCompliantError } from '../../../functions/shared/errors';
import {
  type FinalizeInput,
  type FinalizePorts,
  finalizeCustomModel,
} from '../../../functions/finalize-custom-model/core';

const KEY_ID = '0b3d5c8e-1111-2222-3333-444455556666';
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const MODEL_ARN = 'arn:aws:bedrock:us-east-1:111122223333:custom-model/amazon.titan/qrstuvwx1234';
const EXECUTION_ARN = 'arn:aws:states:us-east-1:111122223333:execution:sm:tv-run';

const input = (over: Partial<FinalizeInput> = {}): FinalizeInput => ({
  source: { bucket: 'training', key: 'training/a.jsonl', versionId: 'v1' },
  key: { keyArn: KEY_ARN },
  scan: { sha256: 'a'.repeat(64), verdict: 'pass', totalFindings: 0 },
  job: {
    jobArn: 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/x/abc',
    customModelName: 'tv-model',
  },
  jobResult: { outputModelArn: MODEL_ARN },
  executionArn: EXECUTION_ARN,
  ...over,
});

function ports(model: ModelInfo | undefined) {
  const asked: string[] = [];
  const modelTags: { arn: string; tags: Record<string, string> }[] = [];
  const objectTags: { bucket: string; key: string; tags: Record<string, string>; versionId?: string }[] = [];
  const p: FinalizePorts = {
    getCustomModel: async (id) => {
      asked.push(id);
      return model;
    },
    tagResource: async (arn, tags) => {
      modelTags.push({ arn, tags });
    },
    mergeObjectTags: async (bucket, key, tags, versionId) => {
      objectTags.push({ bucket, key, tags, ...(versionId ? { versionId } : {}) });
    },
    // Without deploy settings nothing is deployed (the deploy paths are in customization-types.test.ts).
    createDeployment: async (r) => {
      throw new Error(`unexpected deployment ${r.name}`);
    },
    createProvisioned: async (r) => {
      throw new Error(`unexpected Provisioned Throughput ${r.name}`);
    },
  };
  return { p, asked, modelTags, objectTags };
}

const ours: ModelInfo = { modelArn: MODEL_ARN, modelName: 'tv-model', modelKmsKeyArn: KEY_ARN };

describe('finalizeCustomModel', () => {
  it('accepts a model encrypted with our key, tags it with provenance and marks the data version trained', async () => {
    const { p, asked, modelTags, objectTags } = ports(ours);
    const result = await finalizeCustomModel(input(), p);
    expect(asked).toEqual([MODEL_ARN]);
    expect(result).toEqual({
      modelArn: MODEL_ARN,
      modelName: 'tv-model',
      modelKmsKeyArn: KEY_ARN,
      tags: modelTags[0]?.tags,
      deployment: { mode: 'none' },
    });
    expect(modelTags).toEqual([
      {
        arn: MODEL_ARN,
        tags: {
          'tunevault:source': 's3://training/training/a.jsonl',
          'tunevault:source-version': 'v:v1',
          'tunevault:kms-key-arn': KEY_ARN,
          'tunevault:execution-arn': EXECUTION_ARN,
          'tunevault:data-sha256': 'a'.repeat(64),
          'tunevault:guard-verdict': 'pass',
          'tunevault:guard-findings': '0',
        },
      },
    ]);
    expect(objectTags).toEqual([
      {
        bucket: 'training',
        key: 'training/a.jsonl',
        tags: { 'tunevault:status': 'trained', 'tunevault:model': 'tv-model' },
        versionId: 'v1',
      },
    ]);
  });

  it('compares key ids: a model reporting the bare key id of our key is ours', async () => {
    const { p } = ports({ ...ours, modelKmsKeyArn: KEY_ID });
    await expect(finalizeCustomModel(input(), p)).resolves.toMatchObject({ modelArn: MODEL_ARN });
  });

  it('looks the model up by its name when the job result carries no model ARN', async () => {
    const { p, asked } = ports(ours);
    await finalizeCustomModel(input({ jobResult: {} }), p);
    expect(asked).toEqual(['tv-model']);
  });

  it.each([
    ['an AWS owned key', undefined, /is encrypted with an AWS owned key, not TuneVault's key/],
    [
      'another customer managed key',
      'arn:aws:kms:us-east-1:111122223333:key/ffffffff-0000-0000-0000-000000000000',
      /is encrypted with arn:aws:kms:us-east-1:111122223333:key\/ffffffff-0000-0000-0000-000000000000, not TuneVault's key/,
    ],
  ])('refuses a model encrypted with %s, tagging nothing', async (_label, modelKmsKeyArn, message) => {
    const model: ModelInfo = { modelArn: MODEL_ARN, modelName: 'tv-model' };
    if (modelKmsKeyArn) model.modelKmsKeyArn = modelKmsKeyArn;
    const { p, modelTags, objectTags } = ports(model);
    const attempt = finalizeCustomModel(input(), p);
    await expect(attempt).rejects.toBeInstanceOf(ModelNotCompliantError);
    await expect(attempt).rejects.toThrow(message);
    expect(modelTags).toEqual([]);
    expect(objectTags).toEqual([]);
  });

  it('refuses a model that does not exist, naming the model and the job', async () => {
    const { p } = ports(undefined);
    const attempt = finalizeCustomModel(input(), p);
    await expect(attempt).rejects.toBeInstanceOf(ModelNotCompliantError);
    await expect(attempt).rejects.toThrow(
      `Custom model ${MODEL_ARN} from job arn:aws:bedrock:us-east-1:111122223333:model-customization-job/x/abc does not exist.`,
    );
  });
});
