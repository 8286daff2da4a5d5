/**
 * Per-model dataset limits and record formats, as the guard reads them: taken from the model
 * catalog (functions/shared/catalog/bedrock-models.json), which names the sources of every
 * figure and marks the ones that could not be confirmed (`assumed`). Quotas are adjustable per
 * account, so every figure can be overridden through ScanOptions.limits.
 */
import {
  CUSTOMIZATION_TYPES,
  type CustomizationTypeName,
  catalog,
  FORMAT_IDS,
  type FormatId,
  findModel,
} from '../catalog';

/** A record format of the catalog (`formats`): what one JSONL line must look like. */
export type FamilyId = FormatId;

export const FAMILIES: readonly FamilyId[] = FORMAT_IDS;

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

export const CHARS_PER_TOKEN = 6;

/** `arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k` → `amazon.nova-micro-v1`. */
export function normalizeModelId(baseModelId: string): string {
  const afterSlash = baseModelId.slice(baseModelId.lastIndexOf('/') + 1).trim();
  const withoutVersion = afterSlash.split(':')[0] ?? afterSlash;
  // Cross-Region inference profile ids (us.amazon.nova-…) name the same model.
  return withoutVersion.replace(/^(?:us|eu|apac|us-gov|global)\./, '').toLowerCase();
}

/** The catalog entry for an id, an ARN, or a cross-Region inference profile id. */
function catalogModel(baseModelId: string) {
  const trimmed = baseModelId.trim();
  return findModel(trimmed) ?? findModel(trimmed.replace(/^(?:us|eu|apac|us-gov|global)\./, ''));
}

/**
 * The record format Bedrock expects for a base model and customization type (by default the
 * model's fine-tuning format, else its first), or undefined for a model or type not in the catalog.
 */
export function familyForModel(baseModelId: string, type?: CustomizationTypeName): FamilyId | undefined {
  const model = catalogModel(baseModelId);
  if (!model) return undefined;
  if (type) return model.customizations[type]?.format;
  const first = CUSTOMIZATION_TYPES.map((t) => model.customizations[t]?.format).find((f) => f !== undefined);
  return model.customizations.FINE_TUNING?.format ?? first;
}

function derive(l: {
  minRecords: number;
  maxRecords: number;
  maxTokensPerRecord: number;
  maxFileBytes: number;
}) {
  return {
    minRecords: l.minRecords,
    maxRecords: l.maxRecords,
    maxTokensPerRecord: l.maxTokensPerRecord,
    maxFileBytes: l.maxFileBytes,
    maxLineBytes: l.maxTokensPerRecord * CHARS_PER_TOKEN * 6 + 64 * 1024,
  };
}

/** Limits of the first catalog entry (models in catalog order) that takes this format. */
function familyDefault(family: FamilyId): DatasetLimits {
  for (const m of catalog.models) {
    for (const t of CUSTOMIZATION_TYPES) {
      const c = m.customizations[t];
      if (c?.format === family && c.limits) return derive(c.limits);
    }
  }
  throw new Error(`the model catalog lists no model that takes the ${family} format`);
}

/** Limits for a model when it takes this format, else the format's default entry. */
export function limitsFor(family: FamilyId, baseModelId?: string): DatasetLimits {
  const model = baseModelId === undefined ? undefined : catalogModel(baseModelId);
  const own = model
    ? CUSTOMIZATION_TYPES.map((t) => model.customizations[t]).find((c) => c?.format === family && c.limits)
    : undefined;
  return own?.limits ? derive(own.limits) : familyDefault(family);
}

/** Model ids the catalog knows (TuneVault can train), for error messages that list the valid choices. */
export function knownModelPrefixes(): string[] {
  return catalog.models.filter((m) => m.unsupported === undefined).map((m) => m.id);
}

export function isFamilyId(value: string): value is FamilyId {
  return (FAMILIES as readonly string[]).includes(value);
}
