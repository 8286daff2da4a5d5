/**
 * The rules zod does not say well: turn order (first turn user, strict alternation, last turn
 * the answer) and one kind of block per content entry, as sentences naming the turn.
 */
import type { RecordIssue } from './messages';

export function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** First turn user, strict alternation, last turn assistant (or user, for distillation prompts). */
export function checkTurns(messages: readonly unknown[], out: RecordIssue[], lastMayBeUser = false): void {
  const roles = messages.map((m) => (isRecordObject(m) ? m['role'] : undefined));
  // An empty list or an unknown role: already reported by the schema.
  if (roles.length === 0 || roles.some((r) => r !== 'user' && r !== 'assistant')) return;
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
export function checkRftTurns(messages: readonly unknown[], out: RecordIssue[]): void {
  const roles = messages.map((m) => (isRecordObject(m) ? m['role'] : undefined));
  // An empty list (the schema asks for one entry) or an unknown role: already reported by the schema.
  if (roles.length === 0 || roles.some((r) => r !== 'system' && r !== 'user' && r !== 'assistant')) return;
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

export function checkContentBlocks(record: Record<string, unknown>, out: RecordIssue[]): void {
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
