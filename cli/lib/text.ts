/**
 * Text from data (S3 keys, tags, error causes, file names) shown on a terminal. A key may hold
 * ESC sequences that repaint the screen, fake a green SUCCEEDED or retitle the window, a
 * newline that fakes a row, or bidirectional overrides that reorder what is read: each such
 * character is shown as a visible escape instead (`\x1b` → `\u001b`, newline → `\n`).
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  return NAMED[c] ?? `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

/** One field of data, on one line: every control or invisible formatting character escaped. */
export function printable(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(UNSAFE, escapeChar);
}

/** A message of our own that may embed data: its line breaks stay, everything else is escaped. */
export function printableLines(message: string): string {
  return message.split('\n').map(printable).join('\n');
}
