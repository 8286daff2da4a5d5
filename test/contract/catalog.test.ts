/**
 * Pins the model catalog (functions/shared/catalog/bedrock-models.json) to its sources. The
 * expected values below were read from the pages named in each test (checked 2026-12-06) and
 * from botocore 1.43.11's bedrock service model; the SDK's own enums are read from node_modules.
 * A change of the catalog that its sources do not support fails here; when AWS changes a table,
 * change the catalog, this file and the `checked` date together.
 */
import { CustomizationType, ModelCustomization } from '@aws-sdk/client-bedrock';
import { describe, expect, it } from '@jest/globals';
import {
  CUSTOMIZATION_TYPES,
  type CustomizationTypeName,
  catalog,
  findModel,
  FORMAT_IDS,
} from '../../functions/shared/catalog';

/** botocore bedrock 2023-04-20 BaseModelIdentifier (foundation-model alternative). */
const BASE_MODEL_ID = /^[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2}$/;

function entry(id: string, type: CustomizationTypeName) {
  const model = findModel(id);
  if (!model) throw new Error(`${id} is not in the catalog`);
  const c = model.customizations[type];
  if (!c) throw new Error(`${id} has no ${type} entry`);
  return c;
}

describe('the catalog file', () => {
  it('names a known source for everything it states', () => {
    const keys = new Set(Object.keys(catalog.sources));
    const cited: string[] = [];
    for (const f of Object.values(catalog.formats)) cited.push(...f.sources);
    for (const s of Object.values(catalog.hyperParameterSets)) cited.push(s.source);
    cited.push(catalog.rftHyperParameters.source);
    for (const m of catalog.models) {
      for (const c of Object.values(m.customizations)) cited.push(...(c?.sources ?? []));
      if (m.onDemandDeployment) cited.push(m.onDemandDeployment.source);
    }
    for (const t of catalog.teachers) cited.push(...t.sources);
    expect(cited.filter((k) => !keys.has(k))).toEqual([]);
    for (const s of Object.values(catalog.sources)) expect(s.url).toMatch(/^https:\/\//);
  });

  it('refers only to hyper-parameter sets, formats and teachers it defines', () => {
    for (const m of catalog.models) {
      for (const c of Object.values(m.customizations)) {
        if (c?.hyperParameters) expect(Object.keys(catalog.hyperParameterSets)).toContain(c.hyperParameters);
        if (c?.format) expect(FORMAT_IDS).toContain(c.format);
        for (const t of c?.teachers ?? []) expect(catalog.teachers.map((x) => x.id)).toContain(t);
      }
      // A model TuneVault trains has a format and limits for each of its types.
      if (!m.unsupported) {
        for (const c of Object.values(m.customizations)) {
          expect(c?.format).toBeDefined();
          expect(c?.limits).toBeDefined();
        }
      }
    }
  });

  it('uses identifiers of the shape Bedrock accepts (botocore BaseModelIdentifier, TeacherModelIdentifier)', () => {
    for (const m of catalog.models) {
      expect(m.id).toMatch(BASE_MODEL_ID);
      if (m.onDemandId) expect(m.onDemandId).toMatch(BASE_MODEL_ID);
    }
    for (const t of catalog.teachers) {
      expect(t.id).toMatch(BASE_MODEL_ID);
      for (const p of t.inferenceProfiles)
        expect(p).toMatch(/^(us|eu|apac|global)\.[a-z0-9-]+\.[a-z0-9-.:]+$/);
    }
  });

  it('knows the customization types of the SDK, and lists by the ones ListFoundationModels filters on', () => {
    // @aws-sdk/client-bedrock (node_modules): CustomizationType also has IMPORTED (imported models).
    expect([...CUSTOMIZATION_TYPES, 'IMPORTED'].sort()).toEqual(Object.values(CustomizationType).sort());
    // ModelCustomization (byCustomizationType): no REINFORCEMENT_FINE_TUNING there.
    expect(Object.values(ModelCustomization).sort()).toEqual([
      'CONTINUED_PRE_TRAINING',
      'DISTILLATION',
      'FINE_TUNING',
    ]);
  });
});

describe('fine-tuning table (Bedrock user guide, custom-model-fine-tuning, "Supported models and Regions for fine-tuning")', () => {
  const TABLE: Array<[string, string[]]> = [
    ['amazon.nova-2-lite-v1:0:256k', ['us-east-1']],
    ['amazon.nova-canvas-v1:0', ['us-east-1']],
    ['amazon.nova-lite-v1:0:300k', ['us-east-1']],
    ['amazon.nova-micro-v1:0:128k', ['us-east-1']],
    ['amazon.nova-pro-v1:0:300k', ['us-east-1']],
    ['amazon.titan-image-generator-v2:0', ['us-east-1', 'us-west-2']],
    ['amazon.titan-embed-image-v1:0', ['us-east-1', 'us-west-2']],
    ['anthropic.claude-3-haiku-20240307-v1:0:200k', ['us-west-2']],
    ['meta.llama3-1-70b-instruct-v1:0:128k', ['us-west-2']],
    ['meta.llama3-1-8b-instruct-v1:0:128k', ['us-west-2']],
    ['meta.llama3-2-11b-instruct-v1:0:128k', ['us-west-2']],
    ['meta.llama3-2-1b-instruct-v1:0:128k', ['us-west-2']],
    ['meta.llama3-2-3b-instruct-v1:0:128k', ['us-west-2']],
    ['meta.llama3-2-90b-instruct-v1:0:128k', ['us-west-2']],
  ];

  it('lists exactly the table, with its Regions', () => {
    const listed = catalog.models
      .filter((m) => m.customizations.FINE_TUNING)
      .map((m) => [m.id, m.customizations.FINE_TUNING?.regions] as [string, string[]]);
    expect(listed.sort()).toEqual([...TABLE].sort());
  });

  it('no longer fine-tunes Titan Text G1 - Express (only continued pre-training, cpt-list)', () => {
    expect(findModel('amazon.titan-text-express-v1')?.customizations).toEqual({
      CONTINUED_PRE_TRAINING: expect.objectContaining({ regions: ['us-east-1', 'us-west-2'] }),
    });
  });
});

describe('hyper-parameter tables', () => {
  const table = (set: string) =>
    Object.fromEntries(
      Object.entries(catalog.hyperParameterSets[set]?.parameters ?? {}).map(([k, v]) => [
        k,
        v.type === 'enum'
          ? v.values
          : [v.type, v.min, v.max, v.default ?? (v.required ? 'required' : undefined)],
      ]),
    );

  it('Nova Lite, Micro, Pro (cm-hp-nova-mm)', () => {
    expect(table('nova')).toEqual({
      epochCount: ['integer', 1, 5, '2'],
      learningRate: ['float', 1e-6, 1e-4, '0.00001'],
      learningRateWarmupSteps: ['integer', 0, 100, '10'],
    });
    for (const id of [
      'amazon.nova-micro-v1:0:128k',
      'amazon.nova-lite-v1:0:300k',
      'amazon.nova-pro-v1:0:300k',
    ])
      expect(entry(id, 'FINE_TUNING').hyperParameters).toBe('nova');
  });

  it('Claude 3 (cm-hp-anth-claude-3)', () => {
    expect(table('claude-3')).toEqual({
      epochCount: ['integer', 1, 10, '2'],
      batchSize: ['integer', 4, 256, '32'],
      learningRateMultiplier: ['float', 0.1, 2, '1'],
      earlyStoppingThreshold: ['float', 0, 0.1, '0.001'],
      earlyStoppingPatience: ['integer', 1, 10, '2'],
    });
  });

  it('Llama 3.1 and 3.2 (cm-hp-meta-llama31, cm-hp-meta-llama32)', () => {
    const llama = {
      epochCount: ['integer', 1, 10, '5'],
      batchSize: ['integer', 1, 1, '1'],
      learningRate: ['float', 5e-6, 0.1, '0.0001'],
    };
    expect(table('llama-3-1')).toEqual(llama);
    expect(table('llama-3-2')).toEqual(llama);
  });

  it('Titan Text Lite and Express (cm-hp-titan-text), Titan Multimodal Embeddings (cm-hp-titan-mm)', () => {
    expect(table('titan-text')).toEqual({
      epochCount: ['integer', 1, 10, '5'],
      batchSize: ['integer', 1, 64, '1'],
      learningRate: ['float', 0, 1, '0.00001'],
      learningRateWarmupSteps: ['integer', 0, 250, '5'],
    });
    expect(table('titan-multimodal-embeddings')).toEqual({
      epochCount: ['integer', 1, 100, 'required'],
      batchSize: ['integer', 256, 9216, '576'],
      learningRate: ['float', 5e-8, 1, '0.00005'],
    });
  });

  it('RFT hyper-parameters (botocore RFTHyperParameters and its member shapes)', () => {
    const rft = Object.fromEntries(
      Object.entries(catalog.rftHyperParameters.parameters).map(([k, v]) => [
        k,
        v.type === 'enum' ? v.values : [v.type, v.min, v.max],
      ]),
    );
    expect(rft).toEqual({
      epochCount: ['integer', 1, 50],
      batchSize: ['integer', 16, 512],
      learningRate: ['float', 1e-7, 0.001],
      maxPromptLength: ['integer', undefined, undefined],
      trainingSamplePerPrompt: ['integer', 2, 16],
      inferenceMaxTokens: ['integer', undefined, undefined],
      reasoningEffort: ['low', 'medium', 'high'],
      evalInterval: ['integer', 1, 100],
    });
  });
});

describe('distillation (Nova user guide: customization, customize-distill, custom-distill-prepare)', () => {
  it('pairs Nova Pro (teacher) with Micro and Lite, Nova Premier with Micro, Lite and Pro', () => {
    expect(entry('amazon.nova-micro-v1:0:128k', 'DISTILLATION').teachers).toEqual([
      'amazon.nova-pro-v1:0',
      'amazon.nova-premier-v1:0',
    ]);
    expect(entry('amazon.nova-lite-v1:0:300k', 'DISTILLATION').teachers).toEqual([
      'amazon.nova-pro-v1:0',
      'amazon.nova-premier-v1:0',
    ]);
    expect(entry('amazon.nova-pro-v1:0:300k', 'DISTILLATION').teachers).toEqual(['amazon.nova-premier-v1:0']);
    const students = catalog.models.filter((m) => m.customizations.DISTILLATION).map((m) => m.name);
    expect(students).toEqual(['Nova Micro', 'Nova Lite', 'Nova Pro']);
  });

  it('takes 100 to 15K prompts in the conversation format', () => {
    for (const id of [
      'amazon.nova-micro-v1:0:128k',
      'amazon.nova-lite-v1:0:300k',
      'amazon.nova-pro-v1:0:300k',
    ]) {
      const c = entry(id, 'DISTILLATION');
      expect(c.format).toBe('conversation-prompts');
      expect(c.limits).toMatchObject({ minRecords: 100, maxRecords: 15_000 });
      expect(c.assumed).not.toContain('minRecords');
      expect(c.assumed).not.toContain('maxRecords');
    }
  });
});

describe('reinforcement fine-tuning (reinforcement-fine-tuning, rft-prepare-data)', () => {
  it('is Nova 2 Lite in us-east-1, 100 to 20K prompts in the RFT chat format', () => {
    const rft = catalog.models.filter((m) => m.customizations.REINFORCEMENT_FINE_TUNING);
    expect(rft.map((m) => m.id)).toEqual(['amazon.nova-2-lite-v1:0:256k']);
    const c = entry('amazon.nova-2-lite-v1:0:256k', 'REINFORCEMENT_FINE_TUNING');
    expect(c).toMatchObject({
      regions: ['us-east-1'],
      format: 'rft-chat',
      limits: { minRecords: 100, maxRecords: 20_000 },
    });
  });
});

describe('on-demand deployment (deploy-custom-model-on-demand)', () => {
  it('is Nova Lite, Micro and Pro in us-east-1', () => {
    const able = catalog.models
      .filter((m) => m.onDemandDeployment?.regions.includes('us-east-1'))
      .map((m) => m.name);
    expect(able.sort()).toEqual(['Nova Lite', 'Nova Micro', 'Nova Pro']);
  });
});

describe('figures not confirmed by a source', () => {
  it('are marked assumed: only the pinned record counts of distillation and RFT are not', () => {
    for (const m of catalog.models) {
      for (const [type, c] of Object.entries(m.customizations)) {
        if (!c?.limits) continue;
        const pinned =
          type === 'DISTILLATION' || type === 'REINFORCEMENT_FINE_TUNING' ? ['minRecords', 'maxRecords'] : [];
        const unflagged = ['minRecords', 'maxRecords', 'maxTokensPerRecord', 'maxFileBytes'].filter(
          (k) => !(c.assumed ?? []).includes(k as never),
        );
        expect({ model: m.id, type, unflagged }).toEqual({ model: m.id, type, unflagged: pinned });
      }
    }
  });
});
