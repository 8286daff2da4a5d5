import {
  CHARS_PER_TOKEN,
  familyForModel,
  knownModelPrefixes,
  limitsFor,
  normalizeModelId,
} from '../../../functions/shared/guard';

describe('familyForModel', () => {
  it.each([
    ['meta.llama3-1-8b-instruct-v1:0', 'prompt-completion'],
    ['meta.llama3-2-3b-instruct-v1:0:128k', 'bedrock-conversation-2024'],
    ['amazon.nova-micro-v1:0', 'bedrock-conversation-2024'],
    ['arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k', 'bedrock-conversation-2024'],
    ['us.amazon.nova-pro-v1:0', 'bedrock-conversation-2024'],
    ['anthropic.claude-3-haiku-20240307-v1:0:200k', 'claude-messages'],
  ] as const)('%s → %s', (modelId, family) => {
    expect(familyForModel(modelId)).toBe(family);
  });

  it('takes the format of the customization type', () => {
    expect(familyForModel('amazon.nova-micro-v1:0:128k', 'DISTILLATION')).toBe('conversation-prompts');
    expect(familyForModel('amazon.nova-2-lite-v1:0:256k', 'REINFORCEMENT_FINE_TUNING')).toBe('rft-chat');
    // Titan Text Express left the fine-tuning table; continued pre-training is what it still takes.
    expect(familyForModel('amazon.titan-text-express-v1')).toBe('continued-pretraining');
    expect(familyForModel('amazon.titan-text-express-v1', 'FINE_TUNING')).toBeUndefined();
  });

  it('knows nothing of models outside the catalog', () => {
    expect(familyForModel('anthropic.claude-3-5-sonnet-20240620-v1:0')).toBeUndefined();
    expect(familyForModel('cohere.command-light-text-v14')).toBeUndefined();
    expect(familyForModel('')).toBeUndefined();
  });

  it('normalizes ARNs, versions and inference-profile prefixes', () => {
    expect(normalizeModelId('arn:aws:bedrock:eu-west-1::foundation-model/Amazon.Nova-Micro-v1:0:128k')).toBe(
      'amazon.nova-micro-v1',
    );
    expect(normalizeModelId('eu.amazon.nova-lite-v1:0')).toBe('amazon.nova-lite-v1');
  });

  it('lists the prefixes it knows, for error messages', () => {
    expect(knownModelPrefixes()).toContain('anthropic.claude-3-haiku-20240307-v1:0:200k');
    // Image models are listed by the catalog but not trainable by TuneVault.
    expect(knownModelPrefixes()).not.toContain('amazon.nova-canvas-v1:0');
  });
});

describe('limitsFor', () => {
  it('takes the model row when the model is known and matches the family', () => {
    expect(limitsFor('claude-messages', 'anthropic.claude-3-haiku-20240307-v1:0')).toMatchObject({
      minRecords: 32,
      maxRecords: 10_000,
      maxTokensPerRecord: 32_000,
    });
  });

  it('takes distillation limits from the Nova guide (100 to 15K prompts)', () => {
    expect(limitsFor('conversation-prompts', 'amazon.nova-micro-v1:0:128k')).toMatchObject({
      minRecords: 100,
      maxRecords: 15_000,
    });
  });

  it('falls back to the family default row', () => {
    expect(limitsFor('prompt-completion')).toMatchObject({
      maxTokensPerRecord: 4_096,
      maxFileBytes: 1_000_000_000,
    });
    expect(limitsFor('prompt-completion', 'anthropic.claude-3-haiku-20240307-v1:0').maxTokensPerRecord).toBe(
      4_096,
    );
  });

  it('sizes the longest line so no record within its character quota is cut', () => {
    const limits = limitsFor('bedrock-conversation-2024');
    expect(limits.maxLineBytes).toBeGreaterThanOrEqual(limits.maxTokensPerRecord * CHARS_PER_TOKEN * 6);
  });
});

describe('model ids with extra text', () => {
  it('normalizeModelId trims spaces around an id without an ARN prefix', () => {
    expect(normalizeModelId('  amazon.nova-lite-v1:0  ')).toBe('amazon.nova-lite-v1');
  });

  it('normalizeModelId strips a Region prefix only at the start of the id', () => {
    expect(normalizeModelId('acme.plus.model-v1:0')).toBe('acme.plus.model-v1');
  });

  it('finds an inference-profile id with spaces around it', () => {
    expect(familyForModel(' us.amazon.nova-micro-v1:0 ')).toBe('bedrock-conversation-2024');
  });

  it('does not strip a Region-like segment from the middle of an id', () => {
    expect(familyForModel('amazon.eu.nova-micro-v1:0')).toBeUndefined();
  });
});

describe('limitsFor, model rows and unknown formats', () => {
  it('takes the model row over the format default when they differ', () => {
    expect(limitsFor('bedrock-conversation-2024', 'meta.llama3-2-1b-instruct-v1:0')).toStrictEqual({
      minRecords: 1,
      maxRecords: 10_000,
      maxTokensPerRecord: 4096,
      maxFileBytes: 1_000_000_000,
      maxLineBytes: 4096 * CHARS_PER_TOKEN * 6 + 64 * 1024,
    });
  });

  it('names the format when no catalog model takes it', () => {
    expect(() => limitsFor('no-such-format' as Parameters<typeof limitsFor>[0])).toThrow(
      new Error('the model catalog lists no model that takes the no-such-format format'),
    );
  });
});
