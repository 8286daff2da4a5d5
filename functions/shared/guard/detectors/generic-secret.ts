/**
 * The generic detector: a secret-naming keyword, an assignment operator and a high-entropy
 * value (`password = …`, `"api_key": "…"`, `Authorization: Bearer …`). Scans operators,
 * not keywords, so its cost follows the number of `=` and `:` in the text.
 */
import type { DetectorMatch } from '../types';
import { colonsOf, defineDetector } from './define';
import { hasLowerUpperDigit, match, NONE, shannonEntropy } from './match';

const SECRET_KEYWORDS = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'api_key',
  'apikey',
  'api-key',
  'access_key',
  'accesskey',
  'private_key',
  'privatekey',
  'credential',
];
const ENTROPY_THRESHOLD = 3;
const PLACEHOLDER =
  /^(?:<.*>|\$\{.*\}|\{\{.*\}\}|%.*%|\*+|x+|\.+)$|changeme|example|redacted|placeholder|your[_-]/i;

function lowerEquals(text: string, start: number, word: string): boolean {
  if (start < 0 || start + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) {
    // ASCII letters only: OR-ing 0x20 lower-cases A–Z and leaves a–z alone.
    if ((text.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

function isIdentChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46
  );
}

function isValueChar(c: number): boolean {
  // Whitespace, quotes, `,;` and the backslash end a value (the backslash so a raw JSON line is
  // never cut inside an escape sequence when redacted).
  return !(c <= 32 || c === 34 || c === 39 || c === 96 || c === 44 || c === 59 || c === 92);
}

/** Keyword before an assignment operator at `op` (`password = `, `"api_key": `, `TOKEN:`)? */
function keywordBefore(text: string, op: number): boolean {
  let i = op - 1;
  while (i >= 0 && text.charCodeAt(i) === 32) i--;
  if (i >= 0 && (text.charCodeAt(i) === 34 || text.charCodeAt(i) === 39)) i--;
  // Every keyword ends in a letter: "10:30", "a == b" and the like are rejected without a slice.
  if (i < 0 || (text.charCodeAt(i) | 0x20) < 97 || (text.charCodeAt(i) | 0x20) > 122) return false;
  const identEnd = i + 1;
  while (i >= 0 && identEnd - i <= 40 && isIdentChar(text.charCodeAt(i))) i--;
  if (identEnd - (i + 1) < 3) return false;
  const ident = text.slice(i + 1, identEnd).toLowerCase();
  for (const keyword of SECRET_KEYWORDS) if (ident.includes(keyword)) return true;
  return false;
}

/** Where the value after an operator at `op` (`=`, `:`, `:=`, `=>`) starts: past spaces and a quote. */
function valueStart(text: string, op: number): number {
  let i = op + 1;
  const next = text.charCodeAt(i);
  if (next === 61 || next === 62) i++;
  let spaces = 0;
  while (i < text.length && text.charCodeAt(i) === 32 && spaces < 3) {
    i++;
    spaces++;
  }
  if (text.charCodeAt(i) === 34 || text.charCodeAt(i) === 39) i++;
  return i;
}

/**
 * `keyword = value`, or `Authorization: Bearer value` (the keyword after the operator). A bearer
 * token with no operator before it ("use bearer abc…") is not looked for: JWT bearer tokens are
 * found by the JWT detector wherever they are. Returns where the operator search may resume.
 */
function considerAssignment(text: string, opStart: number, op: number, found: DetectorMatch[]): number {
  let start = valueStart(text, op);
  if (!keywordBefore(text, opStart)) {
    if (!lowerEquals(text, start, 'bearer ')) return 0;
    start += 7;
    while (text.charCodeAt(start) === 32) start++;
  }
  let end = start;
  while (end < text.length && end - start < 200 && isValueChar(text.charCodeAt(end))) {
    // A query string goes on with `&name=`: the next parameter is not part of this value.
    if (text.charCodeAt(end) === 38 && /^&\w{1,40}=/.test(text.slice(end, end + 42))) break;
    end++;
  }
  const resume = end;
  // Punctuation that ends a sentence, or closes a bracket the value did not open, is not part of it.
  while (end > start && endsOutside(text, start, end)) end--;
  if (end - start >= 8 && looksLikeSecret(text.slice(start, end))) found.push(match(start, end, 'high'));
  return resume;
}

const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{', '>': '<' };

/** Is the last character of text[start, end) punctuation after the value rather than in it? */
function endsOutside(text: string, start: number, end: number): boolean {
  const last = text[end - 1] as string;
  if (last === '.' || last === '!' || last === '?' || last === ':') return true;
  const opener = CLOSERS[last];
  return opener !== undefined && !text.slice(start, end - 1).includes(opener);
}

function looksLikeSecret(value: string): boolean {
  if (value.length < 8 || value.includes('://') || PLACEHOLDER.test(value)) return false;
  const classes = hasLowerUpperDigit(value);
  const kinds = Number(classes.lower) + Number(classes.upper) + Number(classes.digit) + Number(classes.other);
  // One character class (a word, a number) is prose; mixed classes with spread-out characters is a
  // credential.
  if (kinds < 2) return false;
  return shannonEntropy(value) >= ENTROPY_THRESHOLD;
}

/** A colon not after a quote, with a keyword before it or `Bearer` after it? */
function assignmentColon(line: string): boolean {
  for (const i of colonsOf(line)) {
    if (line.charCodeAt(i - 1) === 34) continue;
    if (keywordBefore(line, i) || lowerEquals(line, valueStart(line, i), 'bearer ')) return true;
  }
  return false;
}

export const genericSecret = defineDetector({
  type: 'GENERIC_SECRET',
  severity: 'high',
  gate: (text) => text.includes('=') || text.includes(':'),
  // JSON's own colons follow a closing quote; a quote inside a string is escaped (`\"`), which
  // switches the gate on by itself.
  lineGate: (line) => line.includes('=') || line.includes('\\"') || assignmentColon(line),
  find(text) {
    const found: DetectorMatch[] = [];
    // Scan operators, not keywords: operators are rare in prose, keywords ("key", "token") are not,
    // so the cost follows the number of `=` and `:` rather than the text length. After a value has
    // been read, the search resumes past it, so each character is read as a value at most once.
    let resume = 0;
    for (let i = text.indexOf('='); i !== -1; i = text.indexOf('=', Math.max(i + 1, resume))) {
      const before = text.charCodeAt(i - 1);
      if (before === 61 || before === 33 || text.charCodeAt(i + 1) === 61) continue; // == != ==
      resume = considerAssignment(text, before === 58 ? i - 1 : i, i, found);
    }
    resume = 0;
    for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', Math.max(i + 1, resume))) {
      if (text.charCodeAt(i + 1) === 61) continue; // `:=` is handled at its `=`
      resume = considerAssignment(text, i, i, found);
    }
    if (found.length === 0) return NONE;
    found.sort((a, b) => a.start - b.start);
    return found;
  },
});
