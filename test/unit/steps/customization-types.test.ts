/**
 * The steps with each customization type: what SubmitCustomizationJob sends Bedrock, what the
 * guard says of records in another model's format, the opt-in deploy of FinalizeCustomModel, the
 * expiry cleanup, and remediation deleting deployments before the model.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { JobDefaults } from '../../../functions/shared/catalog/job-spec';
import { expireDeployments } from '../../../functions/expire-deployments/core';
import { finalizeCustomModel, type FinalizePorts } from '../../../functions/finalize-custom-model/core';
import { remediate, type RemediatePorts } from '../../../functions/remediate/core';
import { formatHint, type ScanPorts } from '../../../functions/scan-training-data/core';
import { resolveJobSpec } from '../../../functions/shared/catalog/job-spec';
import { scanTrainingData } from '../../../functions/shared/guard';
import { EXPIRES_AT_TAG, STACK_TAG } from '../../../functions/shared/provenance';
import type { DatasetOptions } from '../../../functions/shared/types';
import { buildJobRequest, type SubmitInput } from '../../../functions/submit-customization-job/core';

const GRADER = 'arn:aws:lambda:us-east-1:111122223333:function:reward-exact-match';
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SOURCE = { bucket: 'tunevault-dev-training-data', key: 'training/data.jsonl', versionId: 'v1' };
const MODEL = 'arn:aws:bedrock:us-east-1:111122223333:custom-model/amazon.nova-micro-v1:0:128k/abcdefghijkl';
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:tunevault-dev-customization:run-1';

const job: JobDefaults = {
  region: 'us-east-1',
  baseModelId: 'amazon.nova-micro-v1:0:128k',
  customizationType: 'FINE_TUNING',
  hyperParameters: {},
  rftGraderLambdaArns: [GRADER],
  deploy: 'none',
  provisionedModelUnits: 1,
};

function submitInput(dataset: DatasetOptions): SubmitInput {
  return {
    source: SOURCE,
    dataset,
    key: { keyArn: KEY },
    scan: {
      trainingS3Uri: 's3://out/runs/1/training.jsonl',
      sha256: 'abc',
      verdict: 'pass',
      totalFindings: 0,
    },
    executionArn: EXECUTION,
  };
}

const settings = {
  roleArn: 'arn:aws:iam::111122223333:role/bedrock',
  job,
  outputBucket: 'tunevault-dev-output',
  outputPrefix: 'output/',
};

describe('SubmitCustomizationJob, per customization type', () => {
  it('FINE_TUNING with no sidecar: the default Nova Micro, its catalog id and the Nova defaults', () => {
    const r = buildJobRequest(submitInput({}), settings);
    expect(r).toMatchObject({
      baseModelId: 'amazon.nova-micro-v1:0:128k',
      customizationType: 'FINE_TUNING',
      hyperParameters: { epochCount: '2', learningRate: '0.00001', learningRateWarmupSteps: '10' },
    });
    expect(r.customizationConfig).toBeUndefined();
  });

  it('DISTILLATION: sends the teacher in customizationConfig.distillationConfig', () => {
    const teacherModelConfig = { teacherModelIdentifier: 'amazon.nova-pro-v1:0' };
    const r = buildJobRequest(
      submitInput({
        customizationType: 'DISTILLATION',
        customizationConfig: { distillationConfig: { teacherModelConfig } },
      }),
      settings,
    );
    expect(r).toMatchObject({
      customizationType: 'DISTILLATION',
      hyperParameters: {},
      customizationConfig: { distillationConfig: { teacherModelConfig } },
    });
  });

  it('REINFORCEMENT_FINE_TUNING: sends the grader and typed hyper-parameters in rftConfig', () => {
    const r = buildJobRequest(
      submitInput({
        baseModelId: 'amazon.nova-2-lite-v1:0:256k',
        customizationType: 'REINFORCEMENT_FINE_TUNING',
        customizationConfig: {
          rftConfig: {
            graderConfig: { lambdaGrader: { lambdaArn: GRADER } },
            hyperParameters: { batchSize: '32' },
          },
        },
      }),
      settings,
    );
    expect(r.customizationConfig).toEqual({
      rftConfig: {
        graderConfig: { lambdaGrader: { lambdaArn: GRADER } },
        hyperParameters: { batchSize: 32 },
      },
    });
    expect(r.hyperParameters).toEqual({});
  });

  it('CONTINUED_PRE_TRAINING: Titan Text Express by its catalog id, with the Titan defaults', () => {
    const r = buildJobRequest(
      submitInput({
        baseModelId: 'amazon.titan-text-express-v1',
        customizationType: 'CONTINUED_PRE_TRAINING',
      }),
      settings,
    );
    expect(r).toMatchObject({
      baseModelId: 'amazon.titan-text-express-v1:0:8k',
      customizationType: 'CONTINUED_PRE_TRAINING',
      hyperParameters: { epochCount: '5', batchSize: '1' },
    });
  });

  it('passes the stage VPC as vpcConfig', () => {
    const vpc = { subnetIds: ['subnet-0a1b'], securityGroupIds: ['sg-0a1b'] };
    expect(buildJobRequest(submitInput({}), { ...settings, job: { ...job, vpc } }).vpcConfig).toEqual(vpc);
  });

  it('refuses, without calling Bedrock, a job the catalog refuses', () => {
    expect(() =>
      buildJobRequest(submitInput({ baseModelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k' }), settings),
    ).toThrow(
      expect.objectContaining({
        name: 'JobSubmissionError',
        message: expect.stringContaining('only in us-west-2'),
      }),
    );
  });
});

describe('the guard on records in another format', () => {
  function ports(text: string): ScanPorts {
    return {
      openStream: async () => Readable.from([Buffer.from(text)]),
      uploadEncrypted: async () => undefined,
      copyVersionEncrypted: async () => 'copied',
      mergeObjectTags: async () => undefined,
      scan: (body, options) => scanTrainingData(body, options),
    };
  }
  const promptCompletion = Array.from({ length: 4 }, (_, i) =>
    JSON.stringify({ prompt: `q${i}`, completion: `a${i}` }),
  ).join('\n');

  it('names the models that take prompt/completion records and the sidecar field to set', async () => {
    const hint = await formatHint(ports(promptCompletion), SOURCE, resolveJobSpec({}, job));
    expect(hint).toMatch(/^These records are in the prompt\/completion format, which /);
    expect(hint).toContain(
      'meta.llama3-1-8b-instruct-v1:0:128k (Llama 3.1 8B Instruct, FINE_TUNING, us-west-2)',
    );
    expect(hint).toContain('set the sidecar field baseModelId to one of them');
    expect(hint).toContain('or convert the records to bedrock-conversation-2024');
  });

  it('sends unlabelled prompts to DISTILLATION of the same model', async () => {
    const prompts = JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [{ role: 'user', content: [{ text: 'Why is the sky blue?' }] }],
    });
    const hint = await formatHint(ports(prompts), SOURCE, resolveJobSpec({}, job));
    expect(hint).toContain('set the sidecar field customizationType to DISTILLATION');
  });

  it('names a single taker in the singular, with the whole fix', async () => {
    const hint = await formatHint(ports('{"input":"a"}\n{"input":"b"}'), SOURCE, resolveJobSpec({}, job));
    expect(hint).toBe(
      'These records are in the continued pre-training input format, which amazon.titan-text-express-v1:0:8k (Titan Text G1 - Express, CONTINUED_PRE_TRAINING, us-east-1/us-west-2) takes: set the sidecar field baseModelId to one of them (with customizationType when it differs, in a stack in its Region), or convert the records to bedrock-conversation-2024 (Converse API messages).',
    );
  });

  it('names several takers in the plural, each with its id, name, type and Regions', async () => {
    const hint = await formatHint(ports(promptCompletion), SOURCE, resolveJobSpec({}, job));
    expect(hint).toBe(
      'These records are in the prompt/completion format, which meta.llama3-1-8b-instruct-v1:0:128k (Llama 3.1 8B Instruct, FINE_TUNING, us-west-2), meta.llama3-1-70b-instruct-v1:0:128k (Llama 3.1 70B Instruct, FINE_TUNING, us-west-2) take: set the sidecar field baseModelId to one of them (with customizationType when it differs, in a stack in its Region), or convert the records to bedrock-conversation-2024 (Converse API messages).',
    );
  });

  it("says nothing when the records are in the job's own format", async () => {
    const own = JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: 'hi' }] },
        { role: 'assistant', content: [{ text: 'hello' }] },
      ],
    });
    expect(await formatHint(ports(own), SOURCE, resolveJobSpec({}, job))).toBeUndefined();
  });

  it('goes by a strict majority of the first five records', async () => {
    const pc = (i: number) => JSON.stringify({ prompt: `q${i}`, completion: `a${i}` });
    const other = (i: number) => JSON.stringify({ foo: i });
    const lines = (...l: string[]) => l.join('\n');
    const spec = resolveJobSpec({}, job);
    // 3 of 5: a majority.
    expect(await formatHint(ports(lines(pc(1), pc(2), pc(3), other(4), other(5))), SOURCE, spec)).toMatch(
      /prompt\/completion/,
    );
    // 2 of 4: half is not a majority.
    expect(await formatHint(ports(lines(pc(1), pc(2), other(3), other(4))), SOURCE, spec)).toBeUndefined();
    // Records after the fifth are not read: 2 of the first 5 (4 of all 7) is no majority.
    expect(
      await formatHint(ports(lines(other(1), other(2), other(3), pc(4), pc(5), pc(6), pc(7))), SOURCE, spec),
    ).toBeUndefined();
  });

  it('names the format most of the records are in when two foreign formats both have a majority', async () => {
    // {prompt, completion, input} is valid prompt/completion and continued pre-training input
    // alike; two more {input} records make continued pre-training the larger majority (5 of 5
    // against 3 of 5), though prompt/completion is the first format seen.
    const both = (i: number) => JSON.stringify({ prompt: `q${i}`, completion: `a${i}`, input: `t${i}` });
    const input = (i: number) => JSON.stringify({ input: `t${i}` });
    const lines = [both(1), both(2), both(3), input(4), input(5)].join('\n');
    expect(await formatHint(ports(lines), SOURCE, resolveJobSpec({}, job))).toMatch(
      /^These records are in the continued pre-training input format, /,
    );
  });

  it('reads only the head of the object: a few lines, or 1 MiB of one long line', async () => {
    const spec = resolveJobSpec({}, job);
    let pulled = 0;
    const endless = (chunk: () => string) =>
      Readable.from(
        (function* () {
          for (pulled = 0; pulled < 5_000; pulled += 1) yield Buffer.from(chunk());
        })(),
      );
    const read = (chunk: () => string) =>
      formatHint({ ...ports(''), openStream: async () => endless(chunk) }, SOURCE, spec);
    expect(await read(() => `${JSON.stringify({ prompt: 'q', completion: 'a' })}\n`)).toMatch(
      /prompt\/completion/,
    );
    expect(pulled).toBeLessThan(50);
    expect(await read(() => 'x'.repeat(64 * 1024))).toBeUndefined();
    expect(pulled).toBeGreaterThanOrEqual(16);
    expect(pulled).toBeLessThan(50);
  });

  it('says nothing when the records fit no other format either', async () => {
    expect(
      await formatHint(ports('{"foo": 1}\n{"bar": 2}'), SOURCE, resolveJobSpec({}, job)),
    ).toBeUndefined();
  });
});

describe('FinalizeCustomModel deploy', () => {
  function ports() {
    const calls: Array<{ op: string; r: unknown }> = [];
    const p: FinalizePorts = {
      getCustomModel: async () => ({ modelArn: MODEL, modelName: 'm', modelKmsKeyArn: KEY }),
      tagResource: async () => undefined,
      mergeObjectTags: async () => undefined,
      createDeployment: async (r) => {
        calls.push({ op: 'deployment', r });
        return 'arn:aws:bedrock:us-east-1:111122223333:custom-model-deployment/aaaaaaaaaaaa';
      },
      createProvisioned: async (r) => {
        calls.push({ op: 'provisioned', r });
        return 'arn:aws:bedrock:us-east-1:111122223333:provisioned-model/bbbbbbbbbbbb';
      },
    };
    return { p, calls };
  }
  /** Ports whose on-demand deployment Bedrock answers with this error. */
  const refusing = (name: string, message: string) => {
    const { p } = ports();
    p.createDeployment = async () => {
      throw Object.assign(new Error(message), { name, $metadata: {} });
    };
    return p;
  };
  const input = (dataset: DatasetOptions) => ({
    source: SOURCE,
    dataset,
    key: { keyArn: KEY },
    scan: { sha256: 'abc', verdict: 'pass' as const, totalFindings: 0 },
    job: {
      jobArn: 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/x/abc',
      customModelName: 'm',
    },
    jobResult: { outputModelArn: MODEL },
    executionArn: EXECUTION,
  });
  const fin = { job, stackName: 'tunevault-dev', now: () => Date.parse('2026-12-06T10:00:00Z') };

  it('ends in DeploymentError, deploying nothing, when the dataset job is no longer valid for the stage', async () => {
    const { p, calls } = ports();
    const attempt = finalizeCustomModel(input({ deploy: 'on-demand' }), p, {
      ...fin,
      job: { ...job, region: 'ap-south-2' },
    });
    await expect(attempt).rejects.toMatchObject({
      name: 'DeploymentError',
      message: expect.stringMatching(
        /^The dataset's job is not valid: Nova Micro \(amazon\.nova-micro-v1:0:128k\) can be customized with FINE_TUNING only in us-east-1/,
      ),
    });
    expect(calls).toEqual([]);
  });

  it('deploys nothing by default', async () => {
    const { p, calls } = ports();
    expect((await finalizeCustomModel(input({}), p, fin)).deployment).toEqual({ mode: 'none' });
    expect(calls).toEqual([]);
  });

  it('creates an on-demand deployment, named and tokened from the object version, tagged with provenance', async () => {
    const { p, calls } = ports();
    const out = await finalizeCustomModel(input({ deploy: 'on-demand' }), p, fin);
    expect(out.deployment).toEqual({
      mode: 'on-demand',
      arn: 'arn:aws:bedrock:us-east-1:111122223333:custom-model-deployment/aaaaaaaaaaaa',
    });
    expect(calls[0]?.r).toMatchObject({
      modelArn: MODEL,
      name: expect.stringMatching(
        /^tunevault-training-data-jsonl-deploy-[0-9a-f]{18}$|^tunevault-.*-deploy-/,
      ),
      tags: expect.objectContaining({ 'tunevault:source': expect.any(String), [STACK_TAG]: 'tunevault-dev' }),
    });
  });

  it('provisions throughput only with an expiry, tagged with the time the cleanup deletes it', async () => {
    const { p, calls } = ports();
    const out = await finalizeCustomModel(
      input({ deploy: 'provisioned', provisioned: { expiresInHours: 2 } }),
      p,
      fin,
    );
    expect(out.deployment).toMatchObject({ mode: 'provisioned', expiresAt: '2026-12-06T12:00:00.000Z' });
    expect(calls[0]).toMatchObject({
      op: 'provisioned',
      r: { modelUnits: 1, tags: expect.objectContaining({ [EXPIRES_AT_TAG]: '2026-12-06T12:00:00.000Z' }) },
    });
  });

  it('ends in DeploymentError when Bedrock refuses (the model stays; remediation removes what was deployed)', async () => {
    const p = refusing('ValidationException', 'not supported');
    await expect(finalizeCustomModel(input({ deploy: 'on-demand' }), p, fin)).rejects.toMatchObject({
      name: 'DeploymentError',
    });
  });

  it.each([
    'ValidationException',
    'AccessDeniedException',
    'ResourceNotFoundException',
    'TooManyTagsException',
  ])('a refusal that no retry fixes (%s) ends in DeploymentError naming it', async (name) => {
    const p = refusing(name, 'refused');
    await expect(finalizeCustomModel(input({ deploy: 'on-demand' }), p, fin)).rejects.toMatchObject({
      name: 'DeploymentError',
      message: expect.stringContaining(`on-demand deployment of ${MODEL}: ${name}: refused`),
    });
  });

  it('a throttle is thrown as it came, for the state machine to retry', async () => {
    const p = refusing('ThrottlingException', 'slow down');
    await expect(finalizeCustomModel(input({ deploy: 'on-demand' }), p, fin)).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });

  it('a retried step asks for the same deployment: one client request token per object version', async () => {
    const first = ports();
    const again = ports();
    await finalizeCustomModel(input({ deploy: 'on-demand' }), first.p, fin);
    await finalizeCustomModel(input({ deploy: 'on-demand' }), again.p, fin);
    const token = (c: { r: unknown }[]) =>
      (c[0]?.r as { clientRequestToken?: string } | undefined)?.clientRequestToken ?? '';
    expect(token(first.calls)).toMatch(/-deploy$/);
    expect(token(first.calls).length).toBeGreaterThan('-deploy'.length);
    expect(token(again.calls)).toBe(token(first.calls));
  });
});

describe('the expiry cleanup of Provisioned Throughput', () => {
  it("deletes its stack's expired ones only", async () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    const tags: Record<string, Record<string, string>> = {
      due: { [STACK_TAG]: 'tunevault-dev', [EXPIRES_AT_TAG]: '2026-12-06T11:59:00Z' },
      later: { [STACK_TAG]: 'tunevault-dev', [EXPIRES_AT_TAG]: '2026-12-06T13:00:00Z' },
      other: { [STACK_TAG]: 'tunevault-prod', [EXPIRES_AT_TAG]: '2026-12-01T00:00:00Z' },
      untagged: {},
    };
    const deleted: string[] = [];
    const result = await expireDeployments(
      { stackName: 'tunevault-dev', now },
      {
        listProvisioned: async () =>
          Object.keys(tags).map((arn) => ({ arn, name: arn, status: 'InService' })),
        listTags: async (arn) => tags[arn] ?? {},
        deleteProvisioned: async (arn) => {
          deleted.push(arn);
          return true;
        },
      },
    );
    expect(deleted).toEqual(['due']);
    expect(result).toEqual({ deleted: [{ arn: 'due', expiredAt: '2026-12-06T11:59:00Z' }], kept: 3 });
  });

  it('deletes one that expires at this very moment', async () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    const deleted: string[] = [];
    await expireDeployments(
      { stackName: 'tunevault-dev', now },
      {
        listProvisioned: async () => [{ arn: 'now', name: 'now', status: 'InService' }],
        listTags: async () => ({ [STACK_TAG]: 'tunevault-dev', [EXPIRES_AT_TAG]: '2026-12-06T12:00:00Z' }),
        deleteProvisioned: async (arn) => {
          deleted.push(arn);
          return true;
        },
      },
    );
    expect(deleted).toEqual(['now']);
  });
});

describe('remediation with deployments', () => {
  function ports(order: string[]): RemediatePorts {
    return {
      getJob: async () => ({ jobArn: 'j', jobName: 'j', status: 'Completed', outputModelArn: MODEL }),
      stopJob: async () => false,
      getCustomModel: async () => ({ modelArn: MODEL, modelName: 'm' }),
      deleteCustomModel: async (id) => {
        order.push(`model ${id}`);
        return true;
      },
      listDeployments: async () => [{ arn: 'dep-1', name: 'd', status: 'Active' }],
      deleteDeployment: async (arn) => {
        order.push(`deployment ${arn}`);
        return true;
      },
      listProvisioned: async () => [{ arn: 'pt-1', name: 'p', status: 'InService' }],
      deleteProvisioned: async (arn) => {
        order.push(`provisioned ${arn}`);
        return true;
      },
      mergeObjectTagsIfPresent: async () => true,
      // The job has ended: its slot is released (tested in admission.test.ts).
      releaseJobSlot: async () => undefined,
    };
  }

  it('deletes the deployments before the unsafe model', async () => {
    const order: string[] = [];
    const result = await remediate(
      { source: SOURCE, error: { Error: 'ModelNotCompliantError' }, jobResult: { outputModelArn: MODEL } },
      ports(order),
    );
    expect(order).toEqual(['deployment dep-1', 'provisioned pt-1', `model ${MODEL}`]);
    expect(result.actions.map((a) => a.action)).toEqual([
      'deleted-deployment',
      'deleted-provisioned-throughput',
      'deleted-model',
      'tagged-data',
    ]);
  });

  it('after a failed deployment, removes what was deployed and keeps the model', async () => {
    const order: string[] = [];
    await remediate(
      { source: SOURCE, error: { Error: 'DeploymentError' }, jobResult: { outputModelArn: MODEL } },
      ports(order),
    );
    expect(order).toEqual(['deployment dep-1', 'provisioned pt-1']);
  });
});
