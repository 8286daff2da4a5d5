/**
 * The model catalog's lookups (functions/shared/catalog/index.ts) against the shipped data file:
 * the answers the workflow and the CLI build their checks and messages on.
 */
import raw from '../../../functions/shared/catalog/bedrock-models.json';
import {
  catalog,
  customizationOf,
  findModel,
  findTeacher,
  formatLabel,
  hyperParameterSetOf,
  modelsTakingFormat,
  regionsFor,
  sourceUrl,
  stripFoundationArn,
  teacherName,
  trainableModels,
  typesIn,
} from '../../../functions/shared/catalog';

const NOVA_MICRO = 'amazon.nova-micro-v1:0:128k';
const micro = () => {
  const m = findModel(NOVA_MICRO);
  if (!m) throw new Error('Nova Micro is not in the catalog');
  return m;
};

describe('model catalog lookups', () => {
  it('strips a foundation-model ARN of any partition and region to its id; other identifiers are trimmed only', () => {
    expect(stripFoundationArn('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0')).toBe(
      'amazon.nova-micro-v1:0',
    );
    expect(stripFoundationArn(' arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/x ')).toBe('x');
    expect(stripFoundationArn('  amazon.nova-micro-v1:0 ')).toBe('amazon.nova-micro-v1:0');
    // An account-scoped ARN is not a foundation model: kept as given.
    const custom = 'arn:aws:bedrock:us-east-1:111122223333:custom-model/m';
    expect(stripFoundationArn(custom)).toBe(custom);
    expect(stripFoundationArn('xarn:aws:bedrock:us-east-1::foundation-model/x')).toBe(
      'xarn:aws:bedrock:us-east-1::foundation-model/x',
    );
  });

  it('finds a model by its customization id, its on-demand id, or the ARN of either; an unknown one is undefined', () => {
    expect(micro().id).toBe(NOVA_MICRO);
    expect(findModel('amazon.nova-micro-v1:0')?.id).toBe(NOVA_MICRO);
    expect(findModel('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0')?.id).toBe(
      NOVA_MICRO,
    );
    expect(findModel('amazon.no-such-model-v9:0')).toBeUndefined();
  });

  it("reads a model's customization types, their Regions and hyperparameter set", () => {
    const m = micro();
    expect(customizationOf(m, 'FINE_TUNING')?.format).toBe('bedrock-conversation-2024');
    expect(customizationOf(m, 'CONTINUED_PRE_TRAINING')).toBeUndefined();
    expect(typesIn(m, 'us-east-1')).toEqual(['FINE_TUNING', 'DISTILLATION']);
    expect(typesIn(m, 'eu-west-1')).toEqual([]);
    expect(regionsFor(m, 'FINE_TUNING')).toEqual(['us-east-1']);
    expect(regionsFor(m, 'CONTINUED_PRE_TRAINING')).toEqual([]);
    expect(hyperParameterSetOf(customizationOf(m, 'FINE_TUNING'))).toEqual(raw.hyperParameterSets.nova);
    expect(hyperParameterSetOf(undefined)).toBeUndefined();
    expect(
      hyperParameterSetOf({ ...customizationOf(m, 'FINE_TUNING'), hyperParameters: undefined } as never),
    ).toBe(undefined);
  });

  it('lists as trainable only supported models of that type in that Region', () => {
    const trainable = trainableModels('FINE_TUNING', 'us-east-1');
    expect(trainable.map((m) => m.id)).toContain(NOVA_MICRO);
    expect(trainable.every((m) => m.unsupported === undefined)).toBe(true);
    expect(trainable.every((m) => m.customizations.FINE_TUNING?.regions.includes('us-east-1'))).toBe(true);
    const unsupported = catalog.models.filter(
      (m) => m.unsupported !== undefined && m.customizations.FINE_TUNING?.regions.includes('us-east-1'),
    );
    expect(unsupported.length).toBeGreaterThan(0);
    for (const m of unsupported) expect(trainable).not.toContain(m);
    expect(trainableModels('FINE_TUNING', 'xx-nowhere-1')).toEqual([]);
  });

  it('names the models that take a data format, with the type and Regions, leaving out unsupported ones', () => {
    const takers = modelsTakingFormat('bedrock-conversation-2024');
    expect(takers).toContainEqual({ model: micro(), type: 'FINE_TUNING', regions: ['us-east-1'] });
    expect(
      takers.every(({ model, type }) => model.customizations[type]?.format === 'bedrock-conversation-2024'),
    ).toBe(true);
    expect(takers.every(({ model }) => model.unsupported === undefined)).toBe(true);
    expect(formatLabel('bedrock-conversation-2024')).toBe(
      'bedrock-conversation-2024 (Converse API messages)',
    );
  });

  it('finds a teacher by id, foundation-model ARN, inference profile id or profile ARN; names it, or echoes an unknown id', () => {
    expect(findTeacher('amazon.nova-pro-v1:0')?.name).toBe('Nova Pro');
    expect(findTeacher('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0')?.id).toBe(
      'amazon.nova-pro-v1:0',
    );
    expect(findTeacher('us.amazon.nova-pro-v1:0')?.id).toBe('amazon.nova-pro-v1:0');
    expect(
      findTeacher('arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0')?.id,
    ).toBe('amazon.nova-pro-v1:0');
    expect(
      findTeacher('arn:aws:bedrock:us-east-1:1111:inference-profile/us.amazon.nova-pro-v1:0'),
    ).toBeUndefined();
    expect(findTeacher('amazon.nova-micro-v1:0')).toBeUndefined();
    // Any partition's profile ARN; only a whole ARN (nothing before it, no line break after the id).
    expect(
      findTeacher(
        'arn:aws-us-gov:bedrock:us-gov-west-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0',
      )?.id,
    ).toBe('amazon.nova-pro-v1:0');
    expect(
      findTeacher('xarn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0'),
    ).toBeUndefined();
    expect(
      findTeacher('arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0\nx'),
    ).toBeUndefined();
    expect(
      findModel('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0\nx'),
    ).toBeUndefined();
    expect(teacherName('amazon.nova-pro-v1:0')).toBe('Nova Pro');
    expect(teacherName('amazon.unknown-v1:0')).toBe('amazon.unknown-v1:0');
  });

  it("gives a source's URL, or the key itself when the catalog has no such source", () => {
    expect(sourceUrl('ft-table')).toBe(raw.sources['ft-table'].url);
    expect(sourceUrl('ft-table')).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
    expect(sourceUrl('no-such-source')).toBe('no-such-source');
  });
});
