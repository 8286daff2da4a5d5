import {
  CHARS_PER_TOKEN,
  familyForModel,
  knownModelPrefixes,
  limitsFor,
  normalizeModelId,
} from '../../../functions/shared/guard';

describe('familyForModel', () => {
  it.each([
    ['amazon.titan-text-express-v1', 'prompt-completion'],
    ['amazon.titan-text-lite-v1:0:4k', 'prompt-completion'],
    ['meta.llama3-1-8b-instruct-v1:0', 'prompt-completion'],
    ['cohere.command-light-text-v14', 'prompt-completion'],
    ['amazon.nova-micro-v1:0', 'bedrock-conversation-2024'],
    ['arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k', 'bedrock-conversation-2024'],
    ['us.amazon.nova-pro-v1:0', 'bedrock-conversation-2024'],
    ['anthropic.claude-3-haiku-20240307-v1:0:200k', 'claude-messages'],
  ] as const)('%s → %s', (modelId, family) => {
    expect(familyForModel(modelId)).toBe(family);
  });

  it('knows nothing of models outside the table', () => {
    expect(familyForModel('anthropic.claude-3-5-sonnet-20240620-v1:0')).toBeUndefined();
    expect(familyForModel('')).toBeUndefined();
  });

  it('normalizes ARNs, versions and inference-profile prefixes', () => {
    expect(normalizeModelId('arn:aws:bedrock:eu-west-1::foundation-model/Amazon.Nova-Micro-v1:0:128k')).toBe(
      'amazon.nova-micro-v1',
    );
    expect(normalizeModelId('eu.amazon.nova-lite-v1:0')).toBe('amazon.nova-lite-v1');
  });

  it('lists the prefixes it knows, for error messages', () => {
    expect(knownModelPrefixes()).toContain('anthropic.claude-3-haiku');
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
