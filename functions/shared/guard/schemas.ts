/**
 * Record schemas of the catalog's formats (functions/shared/catalog, `formats`), and their
 * translation into sentences.
 *
 * Shapes: Bedrock user guide "Prepare data for fine-tuning text-to-text models" (prompt /
 * completion; bedrock-conversation-2024; continued pre-training `{"input"}`), Amazon Nova user
 * guide "Preparing data for fine-tuning Understanding models" (roles, first turn user, last turn
 * assistant, reserved keywords, image / video blocks) and "Preparing data for distilling
 * understanding models" (prompts whose last turn may be the user's), Anthropic's "Finetuning
 * Claude 3 Haiku on Bedrock" (optional string `system`, at least two alternating messages, "no
 * extraneous keys are allowed"), and the Bedrock guide's "Prepare data for Amazon Nova models"
 * for reinforcement fine-tuning (OpenAI chat messages plus `reference_answer`; extra fields for
 * the grader are allowed).
 *
 * Zod checks structure; turn order and reserved keywords are checked in code because a person
 * needs "messages[2].role must be 'assistant' after a 'user' turn", not a path dump.
 * No message ever quotes a value from the record: only paths, types and the fixed role names.
 */
import * as z from 'zod';
import type { FamilyId } from './limits';
import type { ProblemCode, ProblemLevel } from './types';

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

interface FamilySpec {
  schema: z.ZodType;
  /** Claude's format rejects extra keys; Bedrock documents no such rule for the others. */
  unknownFields: ProblemLevel;
  label: string;
}

const FAMILY_SPECS: Record<FamilyId, FamilySpec> = {
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

export interface RecordIssue {
  level: ProblemLevel;
  code: ProblemCode;
  reason: string;
}

const NO_ISSUES: RecordIssue[] = [];

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/**
 * A field name is echoed only when it is a plain identifier: an unknown key can itself be a
 * secret or a line of text pasted in the wrong place.
 */
export function safeFieldName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]{0,31}$/.test(key) && !/\d{4}|[A-Z0-9]{12}/.test(key)
    ? `"${key}"`
    : '(a field whose name is not shown)';
}

function issueToRecordIssue(issue: z.core.$ZodIssue, root: unknown, spec: FamilySpec): RecordIssue[] {
  const where = formatPath(issue.path);
  const subject = where || 'the record';
  switch (issue.code) {
    case 'invalid_type': {
      const actual = valueAt(root, issue.path);
      if (where === '' && (typeof root !== 'object' || root === null || Array.isArray(root))) {
        return [
          {
            level: 'error',
            code: 'SCHEMA',
            reason: `the record must be a JSON object with the ${spec.label} fields (got ${describeType(root)})`,
          },
        ];
      }
      const reason =
        actual === undefined
          ? `${subject} is missing`
          : `${subject} must be ${article(String(issue.expected))} (got ${describeType(actual)})`;
      return [{ level: 'error', code: 'SCHEMA', reason }];
    }
    case 'invalid_value':
      return [
        {
          level: 'error',
          code: 'SCHEMA',
          reason: `${subject} must be ${issue.values.map((v) => `'${String(v)}'`).join(' or ')}`,
        },
      ];
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        level: spec.unknownFields,
        code: 'UNKNOWN_FIELD' as const,
        reason:
          spec.unknownFields === 'error'
            ? `unknown field ${safeFieldName(key)} in ${subject}: the ${spec.label} format allows no extra fields`
            : `unknown field ${safeFieldName(key)} in ${subject} is not part of the ${spec.label} format`,
      }));
    case 'too_small':
      if (issue.origin === 'array' && where === 'messages') {
        return [
          {
            level: 'error',
            code: 'SCHEMA',
            reason: `messages must have at least ${String(issue.minimum)} entries (a user turn, then the assistant's answer)`,
          },
        ];
      }
      return [
        {
          level: 'error',
          code: 'SCHEMA',
          reason: `${subject} must have at least ${String(issue.minimum)} ${issue.origin === 'array' ? 'entries' : 'characters'}`,
        },
      ];
    case 'custom':
      return [{ level: 'error', code: 'SCHEMA', reason: issue.message }];
    default:
      return [
        { level: 'error', code: 'SCHEMA', reason: `${subject} is not valid for the ${spec.label} format` },
      ];
  }
}

function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** First turn user, strict alternation, last turn assistant (or user, for distillation prompts). */
function checkTurns(messages: readonly unknown[], out: RecordIssue[], lastMayBeUser = false): void {
  const roles = messages.map((m) => (isRecordObject(m) ? m['role'] : undefined));
  if (roles.some((r) => r !== 'user' && r !== 'assistant')) return; // already reported by the schema
  if (roles[0] !== 'user') {
    out.push({
      level: 'error',
      code: 'SCHEMA',
      reason: `messages[0].role must be 'user': a conversation starts with the user`,
    });
  }
  for (let i = 1; i < roles.length; i++) {
    if (roles[i] === roles[i - 1]) {
      const other = roles[i] === 'user' ? 'assistant' : 'user';
      out.push({
        level: 'error',
        code: 'SCHEMA',
        reason: `messages[${i}].role must be '${other}' after a '${String(roles[i - 1])}' turn`,
      });
    }
  }
  const last = roles.length - 1;
  if (!lastMayBeUser && last >= 1 && roles[last] !== 'assistant') {
    out.push({
      level: 'error',
      code: 'SCHEMA',
      reason: `messages[${last}].role must be 'assistant': the last message is the answer the model learns`,
    });
  }
}

/** RFT prompts: at least one user turn, and the conversation does not end with the answer. */
function checkRftTurns(messages: readonly unknown[], out: RecordIssue[]): void {
  const roles = messages.map((m) => (isRecordObject(m) ? m['role'] : undefined));
  if (roles.some((r) => r !== 'system' && r !== 'user' && r !== 'assistant')) return;
  if (!roles.includes('user')) {
    out.push({
      level: 'error',
      code: 'SCHEMA',
      reason: `messages must hold a 'user' turn: the prompt to answer`,
    });
  }
  const last = roles.length - 1;
  if (last >= 0 && roles[last] === 'assistant') {
    out.push({
      level: 'error',
      code: 'SCHEMA',
      reason: `messages[${last}].role must not be 'assistant': the model writes the answer the grader scores`,
    });
  }
}

/**
 * Nova fails the whole job when a prompt contains one of these (Nova user guide). Searched by
 * their rare characters (`:`, `<`, `[`) instead of one alternation regex, which V8 cannot skip
 * through quickly and which cost more than the rest of the record check together.
 */
function reservedKeyword(text: string): string | undefined {
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    const keyword = reservedKeywordAtColon(text, i);
    if (keyword) return keyword;
  }
  return reservedKeywordWithoutColon(text);
}

/** The reserved keyword ending in the colon at `colon`, if any. */
export function reservedKeywordAtColon(text: string, colon: number): string | undefined {
  // Dispatch on the letter before the colon; JSON's own colons follow a quote and fall through.
  const i = colon;
  const last = text.charCodeAt(i - 1);
  if (last === 114 && i >= 4 && text.startsWith('User', i - 4)) return 'User:';
  if (last === 116) {
    if (i >= 3 && text.startsWith('Bot', i - 3)) return 'Bot:';
    if (i >= 9 && text.startsWith('Assistant', i - 9)) return 'Assistant:';
  }
  if (last === 109 && i >= 6 && text.startsWith('System', i - 6)) return 'System:';
  return undefined;
}

/** The first reserved keyword without a colon in text (`<image>`, `<video>`, `[EOS]`), if any. */
export function reservedKeywordWithoutColon(text: string): string | undefined {
  if (text.includes('<')) {
    if (text.includes('<image>')) return '<image>';
    if (text.includes('<video>')) return '<video>';
  }
  if (text.includes('[EOS]')) return '[EOS]';
  return undefined;
}

function checkReservedKeywords(record: Record<string, unknown>, out: RecordIssue[]): void {
  const visit = (text: unknown, path: string) => {
    if (typeof text !== 'string') return;
    const keyword = reservedKeyword(text);
    if (keyword) {
      out.push({
        level: 'error',
        code: 'RESERVED_KEYWORD',
        reason: `${path} contains the reserved keyword '${keyword}', which makes Nova training jobs fail; reword it`,
      });
    }
  };
  const system = record['system'];
  if (Array.isArray(system)) {
    for (const [i, block] of system.entries())
      visit(isRecordObject(block) && block['text'], `system[${i}].text`);
  }
  const messages = record['messages'];
  if (!Array.isArray(messages)) return;
  for (const [i, message] of messages.entries()) {
    if (!isRecordObject(message) || !Array.isArray(message['content'])) continue;
    for (const [j, block] of message['content'].entries()) {
      visit(isRecordObject(block) && block['text'], `messages[${i}].content[${j}].text`);
    }
  }
}

function checkContentBlocks(record: Record<string, unknown>, out: RecordIssue[]): void {
  const messages = record['messages'];
  if (!Array.isArray(messages)) return;
  messages.forEach((message, i) => {
    if (!isRecordObject(message) || !Array.isArray(message['content'])) return;
    message['content'].forEach((block, j) => {
      if (!isRecordObject(block)) return;
      const kinds = ['text', 'image', 'video', 'reasoningContent'].filter(
        (k) => block[k] !== undefined,
      ).length;
      if (kinds !== 1) {
        out.push({
          level: 'error',
          code: 'SCHEMA',
          reason: `messages[${i}].content[${j}] must have exactly one of 'text', 'image', 'video' or 'reasoningContent'`,
        });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Fast path. Zod builds a copy of every record it accepts, which at millions of records is most
// of the validation cost and much of the garbage. These predicates accept only records the zod
// schemas and turn checks above would also accept (text-only content; anything else falls
// through to zod), so zod stays the single definition of valid and of every error message.
// A property test in test/unit/guard pins the implication.

const PROMPT_COMPLETION_KEYS = new Set(['prompt', 'completion']);
const CONVERSATION_KEYS = new Set(['schemaVersion', 'system', 'messages']);
const CLAUDE_KEYS = new Set(['system', 'messages']);
const MESSAGE_KEYS = new Set(['role', 'content']);
const TEXT_KEYS = new Set(['text']);
const INPUT_KEYS = new Set(['input']);

function onlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

function isTextBlock(value: unknown): boolean {
  return isRecordObject(value) && typeof value['text'] === 'string' && onlyKeys(value, TEXT_KEYS);
}

/** Non-empty, even length, user first, strictly alternating: which makes the last turn the assistant's. */
function alternates(messages: readonly unknown[], isContent: (content: unknown) => boolean): boolean {
  if (messages.length < 2 || messages.length % 2 !== 0) return false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isRecordObject(m) || m['role'] !== (i % 2 === 0 ? 'user' : 'assistant')) return false;
    if (!isContent(m['content']) || !onlyKeys(m, MESSAGE_KEYS)) return false;
  }
  return true;
}

function isTextContent(content: unknown): boolean {
  if (!Array.isArray(content) || content.length === 0) return false;
  for (const block of content) if (!isTextBlock(block)) return false;
  return true;
}

function obviouslyValid(family: FamilyId, value: unknown): boolean {
  if (!isRecordObject(value)) return false;
  switch (family) {
    case 'prompt-completion':
      return (
        typeof value['prompt'] === 'string' &&
        typeof value['completion'] === 'string' &&
        onlyKeys(value, PROMPT_COMPLETION_KEYS)
      );
    case 'bedrock-conversation-2024': {
      const system = value['system'];
      if (system !== undefined && !(Array.isArray(system) && system.every(isTextBlock))) return false;
      const messages = value['messages'];
      return (
        typeof value['schemaVersion'] === 'string' &&
        Array.isArray(messages) &&
        alternates(messages, isTextContent) &&
        onlyKeys(value, CONVERSATION_KEYS)
      );
    }
    case 'claude-messages': {
      const system = value['system'];
      const messages = value['messages'];
      return (
        (system === undefined || typeof system === 'string') &&
        Array.isArray(messages) &&
        alternates(messages, (content) => typeof content === 'string') &&
        onlyKeys(value, CLAUDE_KEYS)
      );
    }
    case 'continued-pretraining':
      return typeof value['input'] === 'string' && onlyKeys(value, INPUT_KEYS);
    // Formats of few, smaller datasets (distillation ≤ 15K, RFT ≤ 20K prompts): zod every time.
    case 'conversation-prompts':
    case 'rft-chat':
      return false;
  }
}

/**
 * Could the raw line hold a Nova reserved keyword? Checked once per line so the per-string check
 * runs only when one is near. JSON's own colons follow a quote, never a keyword; a `\u` escape
 * could spell any of them, so such lines are always checked per string.
 */
export function mayHoldReservedKeyword(line: string): boolean {
  return line.includes('\\u') || reservedKeyword(line) !== undefined;
}

/**
 * Every problem of one parsed record, in the order a person would fix them. `rawLine`, when
 * given, lets the reserved-keyword check skip records whose line cannot contain one.
 */
export function checkRecord(family: FamilyId, value: unknown, rawLine?: string): RecordIssue[] {
  const conversation = family === 'bedrock-conversation-2024' || family === 'conversation-prompts';
  const checkReserved = conversation && (rawLine === undefined || mayHoldReservedKeyword(rawLine));
  if (obviouslyValid(family, value) && !checkReserved) return NO_ISSUES;
  const spec = FAMILY_SPECS[family];
  const parsed = spec.schema.safeParse(value);
  const out: RecordIssue[] = parsed.success
    ? []
    : parsed.error.issues.flatMap((i) => issueToRecordIssue(i, value, spec));
  if (!isRecordObject(value)) return out;
  if (Array.isArray(value['messages'])) {
    if (family === 'rft-chat') checkRftTurns(value['messages'], out);
    else if (family !== 'prompt-completion' && family !== 'continued-pretraining')
      checkTurns(value['messages'], out, family === 'conversation-prompts');
  }
  if (conversation) {
    checkContentBlocks(value, out);
    if (checkReserved) checkReservedKeywords(value, out);
  }
  return out.length === 0 ? NO_ISSUES : out;
}

/** The fast path alone, exported for the test that pins it to the zod schemas. */
export function isObviouslyValid(family: FamilyId, value: unknown): boolean {
  return obviouslyValid(family, value);
}

export function familyLabel(family: FamilyId): string {
  return FAMILY_SPECS[family].label;
}

/**
 * The formats a parsed record is valid in, most specific first: for errors that say "these
 * records are in another model's format". The conversation format is also valid distillation
 * prompts, so the prompts format is named only when the conversation format is not.
 */
export function formatsOf(value: unknown): FamilyId[] {
  const order: FamilyId[] = [
    'bedrock-conversation-2024',
    'claude-messages',
    'prompt-completion',
    'continued-pretraining',
    'rft-chat',
    'conversation-prompts',
  ];
  const valid = order.filter((f) => checkRecord(f, value).every((i) => i.level !== 'error'));
  return valid.includes('bedrock-conversation-2024')
    ? valid.filter((f) => f !== 'conversation-prompts')
    : valid;
}
