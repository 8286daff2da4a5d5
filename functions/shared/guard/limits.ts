/**
 * Per-model dataset limits: the one table the guard reads.
 *
 * Sources (Amazon Bedrock user guide):
 * - "Prepare your training datasets for fine-tuning and continued pre-training"
 *   (model-customization-prepare.html) and its "Model requirements for training and validation
 *   datasets" section (model-training-validation-requirements.html): Titan Text token sums
 *   (4,096 at batch size 1), training file size (1 GB for fine-tuning), "character quota per
 *   sample = token quota × 6".
 * - "Prepare data for fine-tuning text-to-text models" (preparing-text-data.html): the prompt /
 *   completion and bedrock-conversation-2024 formats, "approximately 6 characters per token".
 * - Amazon Nova user guide, "Preparing data for fine-tuning Understanding models": conversation
 *   format constraints (roles, reserved keywords).
 * - AWS General Reference, "Amazon Bedrock endpoints and quotas": the "Sum of training and
 *   validation records" quotas (defaults; an account can have them raised).
 *
 * Where a figure is marked ASSUMPTION it could not be confirmed against those pages when this
 * table was written; it is the value the guard enforces until someone confirms or corrects it.
 * Quotas are adjustable per account, so every figure can be overridden through ScanOptions.limits.
 */

export type FamilyId = 'prompt-completion' | 'bedrock-conversation-2024' | 'claude-messages';

export const FAMILIES: readonly FamilyId[] = [
  'prompt-completion',
  'bedrock-conversation-2024',
  'claude-messages',
];

export interface DatasetLimits {
  minRecords: number;
  maxRecords: number;
  /** Estimated tokens (characters / 6) of one record. */
  maxTokensPerRecord: number;
  maxFileBytes: number;
  /**
   * Longest line read into memory. Derived, not documented: 6 bytes per allowed character (the
   * worst case of JSON `\uXXXX` escaping) plus 64 KiB of structure, so a record within its
   * character quota can never be cut. It also bounds the scanner's memory.
   */
  maxLineBytes: number;
}

interface ModelRow {
  /** Matched against the base model id with any ARN prefix and `:version` suffix removed. */
  prefix: string;
  family: FamilyId;
  minRecords: number;
  maxRecords: number;
  maxTokensPerRecord: number;
  maxFileBytes: number;
}

const GB = 1_000_000_000;

/** Longest prefixes first is not required: prefixes below never overlap. */
const MODELS: readonly ModelRow[] = [
  // Titan Text: 4,096-token sum at batch size 1 and 1 GB fine-tuning file (documented).
  // Records 10,000: ASSUMPTION (default "Sum of training and validation records" quota as recalled).
  // minRecords 1: ASSUMPTION, no documented minimum; an empty file is reported separately.
  {
    prefix: 'amazon.titan-text-express',
    family: 'prompt-completion',
    minRecords: 1,
    maxRecords: 10_000,
    maxTokensPerRecord: 4_096,
    maxFileBytes: 1 * GB,
  },
  {
    prefix: 'amazon.titan-text-lite',
    family: 'prompt-completion',
    minRecords: 1,
    maxRecords: 10_000,
    maxTokensPerRecord: 4_096,
    maxFileBytes: 1 * GB,
  },
  {
    prefix: 'amazon.titan-text-premier',
    family: 'prompt-completion',
    minRecords: 1,
    maxRecords: 10_000,
    maxTokensPerRecord: 4_096,
    maxFileBytes: 1 * GB,
  },
  // Cohere Command and Meta Llama (non-conversational list of the guide): every figure here is an
  // ASSUMPTION modelled on Titan Text (4,096 tokens, 10,000 records, 1 GB).
  {
    prefix: 'cohere.command-text',
    family: 'prompt-completion',
    minRecords: 1,
    maxRecords: 10_000,
    maxTokensPerRecord: 4_096,
    maxFileBytes: 1 * GB,
  },
  {
    prefix: 'cohere.command-light-text',
    family: 'prompt-completion',
    minRecords: 1,
    maxRecords: 10_000,
    maxTokensPerRecord: 4_096,
    maxFileBytes: 1 * GB,
  },
  {
    prefix: 'meta.llama2',
    family: 'prompt-completion',
    minRecords: 1,
    maxRecords: 10_000,
    maxTokensPerRecord: 4_096,
    maxFileBytes: 1 * GB,
  },
  {
    prefix: 'meta.llama3',
    family: 'prompt-completion',
    minRecords: 1,
    maxRecords: 10_000,
    maxTokensPerRecord: 4_096,
    maxFileBytes: 1 * GB,
  },
  // Nova: 20,000 records is the figure AWS samples quote as Bedrock's limit; minRecords 8,
  // 32,000 tokens and 1 GB are ASSUMPTIONS (the Nova guide recommends ≥ 100 samples per task but
  // documents no hard minimum here).
  {
    prefix: 'amazon.nova-micro',
    family: 'bedrock-conversation-2024',
    minRecords: 8,
    maxRecords: 20_000,
    maxTokensPerRecord: 32_000,
    maxFileBytes: 1 * GB,
  },
  {
    prefix: 'amazon.nova-lite',
    family: 'bedrock-conversation-2024',
    minRecords: 8,
    maxRecords: 20_000,
    maxTokensPerRecord: 32_000,
    maxFileBytes: 1 * GB,
  },
  {
    prefix: 'amazon.nova-pro',
    family: 'bedrock-conversation-2024',
    minRecords: 8,
    maxRecords: 20_000,
    maxTokensPerRecord: 32_000,
    maxFileBytes: 1 * GB,
  },
  {
    prefix: 'amazon.nova-2-lite',
    family: 'bedrock-conversation-2024',
    minRecords: 8,
    maxRecords: 20_000,
    maxTokensPerRecord: 32_000,
    maxFileBytes: 1 * GB,
  },
  // Claude 3 Haiku: 32–10,000 training records, 32,000 tokens, 10 GB: ASSUMPTION — the values of
  // the guide's requirements table as recalled; the stored copies searched did not show that row.
  {
    prefix: 'anthropic.claude-3-haiku',
    family: 'claude-messages',
    minRecords: 32,
    maxRecords: 10_000,
    maxTokensPerRecord: 32_000,
    maxFileBytes: 10 * GB,
  },
];

/** The row used when only a family is known (CLI `--family`, or an unlisted model). */
const FAMILY_DEFAULT_PREFIX: Record<FamilyId, string> = {
  'prompt-completion': 'amazon.titan-text-express',
  'bedrock-conversation-2024': 'amazon.nova-micro',
  'claude-messages': 'anthropic.claude-3-haiku',
};

export const CHARS_PER_TOKEN = 6;

function deriveLimits(row: ModelRow): DatasetLimits {
  return {
    minRecords: row.minRecords,
    maxRecords: row.maxRecords,
    maxTokensPerRecord: row.maxTokensPerRecord,
    maxFileBytes: row.maxFileBytes,
    maxLineBytes: row.maxTokensPerRecord * CHARS_PER_TOKEN * 6 + 64 * 1024,
  };
}

/** `arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k` → `amazon.nova-micro-v1`. */
export function normalizeModelId(baseModelId: string): string {
  const afterSlash = baseModelId.slice(baseModelId.lastIndexOf('/') + 1).trim();
  const withoutVersion = afterSlash.split(':')[0] ?? afterSlash;
  // Cross-Region inference profile ids (us.amazon.nova-…) name the same model.
  return withoutVersion.replace(/^(?:us|eu|apac|us-gov|global)\./, '').toLowerCase();
}

function findRow(baseModelId: string): ModelRow | undefined {
  const id = normalizeModelId(baseModelId);
  return MODELS.find((row) => id.startsWith(row.prefix));
}

/** The data format Bedrock expects for a base model, or undefined for a model not in the table. */
export function familyForModel(baseModelId: string): FamilyId | undefined {
  return findRow(baseModelId)?.family;
}

/** Limits for a model when it is known, else the family's default row. */
export function limitsFor(family: FamilyId, baseModelId?: string): DatasetLimits {
  const row = baseModelId === undefined ? undefined : findRow(baseModelId);
  if (row && row.family === family) return deriveLimits(row);
  const fallback = MODELS.find((r) => r.prefix === FAMILY_DEFAULT_PREFIX[family]);
  if (!fallback) throw new Error(`limits table has no default row for family ${family}`);
  return deriveLimits(fallback);
}

/** Model id prefixes the table knows, for error messages that list the valid choices. */
export function knownModelPrefixes(): string[] {
  return MODELS.map((row) => row.prefix);
}

export function isFamilyId(value: string): value is FamilyId {
  return (FAMILIES as readonly string[]).includes(value);
}
