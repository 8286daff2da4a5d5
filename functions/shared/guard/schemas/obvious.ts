/**
 * The fast path of checkRecord. Zod builds a copy of every record it accepts, which at millions of
 * records is most of the validation cost and much of the garbage. These predicates accept only
 * records the zod schemas (families.ts) and turn checks (turns.ts) would also accept (text-only
 * content; anything else falls through to zod), so zod stays the single definition of valid and of
 * every error message. A property test in test/unit/guard pins the implication.
 */
import type { FamilyId } from '../limits';
import { isRecordObject } from './turns';

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

export function obviouslyValid(family: FamilyId, value: unknown): boolean {
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
