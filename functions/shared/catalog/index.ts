/**
 * The model catalog (bedrock-models.json), parsed once and typed. The JSON is the single record
 * of what Bedrock accepts per base model and Region; this module only reads it. The workflow
 * validates jobs with it (job-spec.ts), the guard takes its formats and limits from it, the
 * embedded Bedrock answers from it.
 */
import * as z from 'zod';
import raw from './bedrock-models.json';

export const CUSTOMIZATION_TYPES = [
  'FINE_TUNING',
  'CONTINUED_PRE_TRAINING',
  'DISTILLATION',
  'REINFORCEMENT_FINE_TUNING',
] as const;
export type CustomizationTypeName = (typeof CUSTOMIZATION_TYPES)[number];

export const FORMAT_IDS = [
  'bedrock-conversation-2024',
  'conversation-prompts',
  'prompt-completion',
  'claude-messages',
  'continued-pretraining',
  'rft-chat',
] as const;
export type FormatId = (typeof FORMAT_IDS)[number];

const modality = z.enum(['TEXT', 'IMAGE', 'EMBEDDING']);

const numericParameter = z.strictObject({
  type: z.enum(['integer', 'float']),
  min: z.number().optional(),
  max: z.number().optional(),
  /** As Bedrock takes it: a string. */
  default: z.string().optional(),
  required: z.boolean().optional(),
});
const enumParameter = z.strictObject({ type: z.literal('enum'), values: z.array(z.string()).min(1) });
const parameter = z.union([numericParameter, enumParameter]);
export type ParameterSpec = z.infer<typeof parameter>;

const hyperParameterSet = z.strictObject({
  source: z.string(),
  note: z.string().optional(),
  parameters: z.record(z.string(), parameter),
});
export type HyperParameterSet = z.infer<typeof hyperParameterSet>;

const limits = z.strictObject({
  minRecords: z.number().int().min(0),
  maxRecords: z.number().int().min(1),
  maxTokensPerRecord: z.number().int().min(1),
  maxFileBytes: z.number().int().min(1),
});
export type CatalogLimits = z.infer<typeof limits>;

const customization = z.strictObject({
  regions: z.array(z.string()).min(1),
  format: z.enum(FORMAT_IDS).optional(),
  hyperParameters: z.string().optional(),
  teachers: z.array(z.string()).optional(),
  limits: limits.optional(),
  assumed: z.array(z.enum(['minRecords', 'maxRecords', 'maxTokensPerRecord', 'maxFileBytes'])).optional(),
  sources: z.array(z.string()).min(1),
});
export type CatalogCustomization = z.infer<typeof customization>;

const model = z.strictObject({
  id: z.string(),
  onDemandId: z.string().optional(),
  name: z.string(),
  provider: z.string(),
  inputModalities: z.array(modality),
  outputModalities: z.array(modality),
  note: z.string().optional(),
  /** Why the workflow cannot train this model (it is still listed and emulated). */
  unsupported: z.string().optional(),
  customizations: z.partialRecord(z.enum(CUSTOMIZATION_TYPES), customization),
  onDemandDeployment: z.strictObject({ regions: z.array(z.string()), source: z.string() }).optional(),
});
export type CatalogModel = z.infer<typeof model>;

const teacher = z.strictObject({
  id: z.string(),
  name: z.string(),
  provider: z.string(),
  regions: z.array(z.string()).min(1),
  inferenceProfiles: z.array(z.string()),
  sources: z.array(z.string()).min(1),
});
export type CatalogTeacher = z.infer<typeof teacher>;

const catalogSchema = z.strictObject({
  about: z.string(),
  checked: z.string(),
  sources: z.record(z.string(), z.strictObject({ title: z.string(), url: z.url() })),
  formats: z.record(
    z.enum(FORMAT_IDS),
    z.strictObject({ label: z.string(), description: z.string(), sources: z.array(z.string()).min(1) }),
  ),
  hyperParameterSets: z.record(z.string(), hyperParameterSet),
  rftHyperParameters: hyperParameterSet,
  models: z.array(model).min(1),
  teachers: z.array(teacher),
  notDistilled: z.string(),
  notListed: z.string(),
});
export type Catalog = z.infer<typeof catalogSchema>;

/** Throws at load when the data file does not have the shape this module reads. */
export const catalog: Catalog = catalogSchema.parse(raw);

/** The model the stack trains when nothing else is configured: listed for fine-tuning in us-east-1. */
export const DEFAULT_BASE_MODEL_ID = 'amazon.nova-micro-v1:0:128k';

/** `arn:aws:bedrock:us-east-1::foundation-model/x` → `x`; other identifiers unchanged. */
export function stripFoundationArn(identifier: string): string {
  const m = /^arn:aws[a-z-]*:bedrock:[^:]*::foundation-model\/(.+)$/.exec(identifier.trim());
  return m ? (m[1] as string) : identifier.trim();
}

/** The catalog entry an identifier names: the customization id, the on-demand id, or their ARNs. */
export function findModel(identifier: string): CatalogModel | undefined {
  const id = stripFoundationArn(identifier);
  return catalog.models.find((m) => m.id === id || m.onDemandId === id);
}

export function customizationOf(
  m: CatalogModel,
  type: CustomizationTypeName,
): CatalogCustomization | undefined {
  return m.customizations[type];
}

/** Customization types of a model in a Region. */
export function typesIn(m: CatalogModel, region: string): CustomizationTypeName[] {
  return CUSTOMIZATION_TYPES.filter((t) => m.customizations[t]?.regions.includes(region));
}

/** Every Region where the model supports the type (empty: not at all). */
export function regionsFor(m: CatalogModel, type: CustomizationTypeName): string[] {
  return m.customizations[type]?.regions ?? [];
}

/** Models that support the type in the Region and that TuneVault can train. */
export function trainableModels(type: CustomizationTypeName, region: string): CatalogModel[] {
  return catalog.models.filter(
    (m) => m.unsupported === undefined && m.customizations[type]?.regions.includes(region) === true,
  );
}

export function hyperParameterSetOf(c: CatalogCustomization | undefined): HyperParameterSet | undefined {
  if (!c?.hyperParameters) return undefined;
  return catalog.hyperParameterSets[c.hyperParameters];
}

export function formatLabel(format: FormatId): string {
  return catalog.formats[format].label;
}

/** Models (and the type) that take a data format: for messages that say which model fits the data. */
export function modelsTakingFormat(
  format: FormatId,
): Array<{ model: CatalogModel; type: CustomizationTypeName; regions: string[] }> {
  const out: Array<{ model: CatalogModel; type: CustomizationTypeName; regions: string[] }> = [];
  for (const m of catalog.models) {
    if (m.unsupported !== undefined) continue;
    for (const type of CUSTOMIZATION_TYPES) {
      const c = m.customizations[type];
      if (c?.format === format) out.push({ model: m, type, regions: c.regions });
    }
  }
  return out;
}

/** A teacher by model id, ARN or inference profile id. */
export function findTeacher(identifier: string): CatalogTeacher | undefined {
  const id = stripFoundationArn(identifier);
  const profile = /^arn:aws[a-z-]*:bedrock:[^:]*:\d{12}:inference-profile\/(.+)$/.exec(id);
  const plain = profile ? (profile[1] as string) : id;
  return catalog.teachers.find((t) => t.id === plain || t.inferenceProfiles.includes(plain));
}

export function teacherName(id: string): string {
  return catalog.teachers.find((t) => t.id === id)?.name ?? id;
}

export function sourceUrl(key: string): string {
  return catalog.sources[key]?.url ?? key;
}
