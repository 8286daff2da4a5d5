/** Nova's reserved keywords (`User:`, `<image>`, `[EOS]`, …), which fail a whole training job. */
import type { RecordIssue } from './messages';
import { isRecordObject } from './turns';

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

export function checkReservedKeywords(record: Record<string, unknown>, out: RecordIssue[]): void {
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

/**
 * Could the raw line hold a Nova reserved keyword? Checked once per line so the per-string check
 * runs only when one is near. JSON's own colons follow a quote, never a keyword; a `\u` escape
 * could spell any of them, so such lines are always checked per string.
 */
export function mayHoldReservedKeyword(line: string): boolean {
  return line.includes('\\u') || reservedKeyword(line) !== undefined;
}
