/**
 * Record schemas of the catalog's formats (functions/shared/catalog, `formats`), and their
 * translation into sentences: the shapes (families.ts), zod's issues as sentences (messages.ts),
 * turn order (turns.ts), Nova's reserved keywords (reserved.ts), and a fast path for records
 * that are plainly valid (obvious.ts). checkRecord runs them in the order a person fixes them.
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
import type { FamilyId } from '../limits';
import { FAMILY_SPECS } from './families';
import { issueToRecordIssue, type RecordIssue } from './messages';
import { obviouslyValid } from './obvious';
import { checkReservedKeywords, mayHoldReservedKeyword } from './reserved';
import { checkContentBlocks, checkRftTurns, checkTurns, isRecordObject } from './turns';

export {
  claudeMessagesRecord,
  continuedPretrainingRecord,
  conversationPromptsRecord,
  conversationRecord,
  familyLabel,
  promptCompletionRecord,
  rftChatRecord,
} from './families';
export { formatPath, type RecordIssue, safeFieldName } from './messages';
export { mayHoldReservedKeyword, reservedKeywordAtColon, reservedKeywordWithoutColon } from './reserved';

/** Returned for every record without a problem: frozen, and readonly to callers, so none can add to it. */
const NO_ISSUES: readonly RecordIssue[] = Object.freeze([]);

/**
 * Every problem of one parsed record, in the order a person would fix them. `rawLine`, when
 * given, lets the reserved-keyword check skip records whose line cannot contain one.
 */
export function checkRecord(family: FamilyId, value: unknown, rawLine?: string): readonly RecordIssue[] {
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
