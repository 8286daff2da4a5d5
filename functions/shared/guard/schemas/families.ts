/**
 * The record shape of each format of the catalog (functions/shared/catalog, `formats`), as zod
 * schemas, with what the messages call it and how strictly it treats extra fields. Sources: see
 * index.ts.
 */
import * as z from 'zod';
import type { FamilyId } from '../limits';
import type { ProblemLevel } from '../types';

const textBlock = z.strictObject({ text: z.string() });

const s3Source = z.strictObject({
  s3Location: z.strictObject({ uri: z.string(), bucketOwner: z.string().optional() }),
});

const conversationContentBlock = z.strictObject({
  text: z.string().optional(),
  image: z.strictObject({ format: z.string(), source: s3Source }).optional(),
  video: z.strictObject({ format: z.string(), source: s3Source }).optional(),
  // Nova 2.0 assistant turns may carry the reasoning that led to the answer.
  reasoningContent: z.strictObject({ reasoningText: z.strictObject({ text: z.string() }) }).optional(),
});

const role = z.enum(['user', 'assistant']);

export const promptCompletionRecord = z.strictObject({
  prompt: z.string(),
  completion: z.string(),
});

export const conversationRecord = z.strictObject({
  schemaVersion: z.string(),
  system: z.array(textBlock).optional(),
  messages: z.array(z.strictObject({ role, content: z.array(conversationContentBlock).min(1) })).min(2),
});

export const claudeMessagesRecord = z.strictObject({
  system: z.string().optional(),
  messages: z.array(z.strictObject({ role, content: z.string() })).min(2),
});

/** Distillation prompts: the conversation format, answers optional (the teacher writes them). */
export const conversationPromptsRecord = z.strictObject({
  schemaVersion: z.string(),
  system: z.array(textBlock).optional(),
  messages: z.array(z.strictObject({ role, content: z.array(conversationContentBlock).min(1) })).min(1),
});

export const continuedPretrainingRecord = z.strictObject({ input: z.string() });

/** Extra top-level fields are the grader's to read ("You can add fields used by grader Lambda"). */
export const rftChatRecord = z.looseObject({
  id: z.string().optional(),
  messages: z
    .array(z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }))
    .min(1),
  reference_answer: z
    .unknown()
    .refine(
      (v) => v !== undefined,
      'reference_answer is missing: the expected answer the grader scores against',
    ),
  tools: z.array(z.unknown()).optional(),
});

export interface FamilySpec {
  schema: z.ZodType;
  /** Claude's format rejects extra keys; Bedrock documents no such rule for the others. */
  unknownFields: ProblemLevel;
  label: string;
}

export const FAMILY_SPECS: Record<FamilyId, FamilySpec> = {
  'prompt-completion': {
    schema: promptCompletionRecord,
    unknownFields: 'warning',
    label: 'prompt/completion',
  },
  'bedrock-conversation-2024': {
    schema: conversationRecord,
    unknownFields: 'warning',
    label: 'bedrock-conversation-2024',
  },
  'claude-messages': { schema: claudeMessagesRecord, unknownFields: 'error', label: 'Claude messages' },
  'conversation-prompts': {
    schema: conversationPromptsRecord,
    unknownFields: 'warning',
    label: 'bedrock-conversation-2024 prompts',
  },
  'continued-pretraining': {
    schema: continuedPretrainingRecord,
    unknownFields: 'warning',
    label: 'continued pre-training {"input"}',
  },
  'rft-chat': {
    schema: rftChatRecord,
    unknownFields: 'warning',
    label: 'RFT chat (messages + reference_answer)',
  },
};

export function familyLabel(family: FamilyId): string {
  return FAMILY_SPECS[family].label;
}
