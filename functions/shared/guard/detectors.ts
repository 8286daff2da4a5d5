/**
 * Secret and PII detectors: each one entry, `defineDetector({...})`, listed in registry.ts.
 *
 * A detector declares what must be in a text for it to match (`triggers`, literal strings, or a
 * `gate` function); the registry derives from that both its per-string gate and its bit in the
 * per-line gate, so a detector cannot be left out of either. Detectors read the view of the text
 * (normalize.ts: percent escapes, Unicode spaces, invisible characters decoded), never the raw
 * JSON line.
 *
 * Every regex here is flat: no quantified group contains another quantifier, every repetition is
 * bounded, and a token pattern starts with a lookbehind so it can only begin at a token boundary.
 * That keeps each `find` linear in the text length (the adversarial tests feed 1 MiB lines of the
 * characters each pattern likes). Regexes only propose candidates; the decision is made in code
 * (checksums, prefix tables, entropy, a library validator). Numbers are never taken as one greedy
 * match: every span of digit groups is tried (see digitGroupSpans), so a card or a phone number
 * is found whatever other numbers stand beside it.
 *
 * Libraries: validator (isEmail, isIP), libphonenumber-js/max (full metadata: the default
 * "min" metadata only checks lengths, which would accept most 10-digit numbers), ibantools
 * (country lengths and the mod-97 checksum). Written by hand: Luhn, card IIN table, SSN rules,
 * JWT header check, entropy, the generic key=value scanner — each is a few lines and none of the
 * libraries offers them with linear-time guarantees.
 */
import { isValidIBAN, getCountrySpecifications } from 'ibantools';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import isEmail from 'validator/lib/isEmail';
import isIP from 'validator/lib/isIP';
import type { Detector, DetectorMatch, Severity } from './types';

const NONE: DetectorMatch[] = [];

/** What a detector module declares; `defineDetector` completes it into a Detector. */
export interface DetectorSpec extends Pick<Detector, 'type' | 'severity' | 'find'> {
  /**
   * Literal strings, one of which is in every text `find` can match (case-sensitive). They must
   * hold no character JSON escapes (`"`, `\`, control characters), so that a string holding one
   * comes from a raw line holding it too. Each is searched for its rarest character first.
   */
  triggers?: readonly string[];
  /** A precondition of its own, when literals cannot say it. */
  gate?: (text: string) => boolean;
  /**
   * The precondition on a raw JSONL line: must pass whenever `gate` passes on any decoded string
   * of the line. Defaults to the gate itself (a literal in a string is in its line); 'always'
   * where nearly every line would pass anyway.
   */
  lineGate?: ((line: string) => boolean) | 'always';
}

/**
 * Characters from rarest to most common in training data (English prose inside JSON): symbols
 * prose hardly uses, rare letters, capitals (the sentence-starting ones last), lower-case letters
 * by their English frequency, digits and punctuation. Only used to pick which character of a
 * trigger to search for: a single-character search runs at memory speed, and the rarer the
 * character the fewer places need a closer look.
 */
const RARITY = `@_=|~^\`$#&*+<>[]{}\\QZXJKVYUGBPFDLNMRCEHWOTAIS/qzjx-vkbypgwfmucldhr!?;%9876543210()'":,.snioate \t`;

function rarestChar(trigger: string): string {
  let best = trigger[0] ?? '';
  const rank = (c: string) => {
    const i = RARITY.indexOf(c);
    return i === -1 ? 0 : i;
  };
  for (const c of trigger) if (rank(c) < rank(best)) best = c;
  return best;
}

/** Literals grouped by the character searched for: each with that character's offset in it. */
/**
 * Literals grouped by the character searched for, with `needle`: the longest text every literal
 * of the group holds from that character on (`xox` for Slack's `xoxb-`, `xoxp-`, …), which is what
 * is searched, so that frequent characters are passed over inside V8's search rather than one by
 * one in JavaScript. Each literal keeps the offset of that character in it.
 */
export type AnchoredLiterals = {
  anchor: string;
  needle: string;
  literals: { literal: string; offset: number; exact: boolean }[];
}[];

export function anchorLiterals(literals: readonly string[]): AnchoredLiterals {
  const groups = new Map<string, { literal: string; offset: number }[]>();
  for (const literal of literals) {
    const anchor = rarestChar(literal);
    groups.set(anchor, [...(groups.get(anchor) ?? []), { literal, offset: literal.indexOf(anchor) }]);
  }
  return [...groups].map(([anchor, group]) => {
    const tails = group.map(({ literal, offset }) => literal.slice(offset));
    let needle = tails[0] ?? anchor;
    for (const tail of tails) while (!tail.startsWith(needle)) needle = needle.slice(0, -1);
    return {
      anchor,
      needle,
      literals: group.map(({ literal, offset }) => ({
        literal,
        offset,
        exact: offset === 0 && literal === needle,
      })),
    };
  });
}

/**
 * Where the literals occur in text (start positions, unsorted), found by searching each group's
 * needle, which starts with the group's rarest character: one search per group, then a
 * comparison at each hit, instead of a search per literal (V8 searches a short needle by its
 * first character, which for "aws" or "secret" stops at nearly every word). With `first`, stops
 * at the first.
 */
function literalPositions(text: string, anchored: AnchoredLiterals, first: boolean): number[] | undefined {
  let positions: number[] | undefined;
  for (let g = 0; g < anchored.length; g++) {
    const { needle, literals } = anchored[g] as AnchoredLiterals[number];
    for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) {
      for (let l = 0; l < literals.length; l++) {
        const { literal, offset, exact } = literals[l] as AnchoredLiterals[number]['literals'][number];
        if (!exact && !text.startsWith(literal, i - offset)) continue;
        if (first) return FOUND;
        if (!positions) positions = [];
        positions.push(i - offset);
      }
    }
  }
  return positions;
}

const FOUND: number[] = [];

/** The gate of a detector declaring literal triggers: does text hold one of them? */
function literalGate(triggers: readonly string[]): (text: string) => boolean {
  for (const t of triggers) {
    if (t.length === 0 || /["\\\u0000-\u001f]/.test(t)) {
      throw new Error(`detector trigger ${JSON.stringify(t)} is empty or holds a character JSON escapes`);
    }
  }
  const anchored = anchorLiterals(triggers);
  return (text) => literalPositions(text, anchored, true) !== undefined;
}

const ALWAYS = () => true;

let colonText: string | undefined;
const colonList: number[] = [];

/**
 * Positions of the colons in text. Several line gates walk a line's colons (a record has a dozen
 * of JSON's own): the walk is made once, for the text last asked about.
 */
export function colonsOf(text: string): readonly number[] {
  if (text !== colonText) {
    colonText = text;
    colonList.length = 0;
    for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) colonList.push(i);
  }
  return colonList;
}

export function defineDetector(spec: DetectorSpec): Detector {
  if (!spec.triggers === !spec.gate) {
    throw new Error(`detector ${spec.type}: declare either triggers or a gate`);
  }
  const gate = spec.gate ?? literalGate(spec.triggers ?? []);
  const lineGate = spec.lineGate === 'always' ? ALWAYS : (spec.lineGate ?? gate);
  return {
    type: spec.type,
    severity: spec.severity,
    gate,
    lineGate,
    find: spec.find,
    // The registry searches the literals of all detectors at once on a line (see lineGateMask).
    ...(spec.triggers && !spec.lineGate ? { lineLiterals: spec.triggers } : {}),
  };
}

/** Reused by every entropy call: the scanner runs millions of them and must not allocate. */
const counts = new Uint16Array(256);

/** Shannon entropy in bits per character of text[start, end). */
export function shannonEntropy(text: string, start = 0, end = text.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) & 0xff;
    counts[c] = (counts[c] ?? 0) + 1;
  }
  let bits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) & 0xff;
    const k = counts[c] ?? 0;
    if (k > 0) {
      // Each distinct character contributes once; zeroing it both skips repeats and resets the table.
      const p = k / n;
      bits -= p * Math.log2(p);
      counts[c] = 0;
    }
  }
  return bits;
}

function match(start: number, end: number, severity: Severity, example = false): DetectorMatch {
  return { start, end, severity, example };
}

/** Runs a global regex over text; `accept` turns a regex hit into a match or rejects it. */
function scan(
  regex: RegExp,
  text: string,
  accept: (hit: RegExpExecArray) => DetectorMatch | undefined,
): DetectorMatch[] {
  let out: DetectorMatch[] | undefined;
  regex.lastIndex = 0;
  for (let hit = regex.exec(text); hit !== null; hit = regex.exec(text)) {
    const m = accept(hit);
    if (m) {
      if (!out) out = [];
      out.push(m);
      if (m.end > regex.lastIndex) regex.lastIndex = m.end;
    }
    if (hit[0].length === 0) regex.lastIndex++;
  }
  return out ?? NONE;
}

function lowerWindow(text: string, start: number, length: number): string {
  return text.slice(Math.max(0, start - length), start).toLowerCase();
}

function hasLowerUpperDigit(value: string): {
  lower: boolean;
  upper: boolean;
  digit: boolean;
  other: boolean;
} {
  let lower = false;
  let upper = false;
  let digit = false;
  let other = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = true;
    else if (c >= 65 && c <= 90) upper = true;
    else if (c >= 48 && c <= 57) digit = true;
    else other = true;
  }
  return { lower, upper, digit, other };
}

// ---------------------------------------------------------------------------------------------
// AWS

/** The credentials the AWS documentation prints; seeing them means a tutorial, not a leak. */
const AWS_EXAMPLE_IDS = new Set(['AKIAIOSFODNN7EXAMPLE', 'AKIAI44QH8DHBEXAMPLE', 'ASIAIOSFODNN7EXAMPLE']);
const AWS_EXAMPLE_SECRETS = new Set([
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
]);

const AWS_KEY_ID = /A(?<![A-Za-z0-9]A)(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;

export const awsAccessKeyId = defineDetector({
  type: 'AWS_ACCESS_KEY_ID',
  severity: 'high',
  triggers: ['AKIA', 'ASIA'],
  find(text) {
    return scan(AWS_KEY_ID, text, (hit) => {
      const value = hit[0];
      const example =
        AWS_EXAMPLE_IDS.has(value) || value.endsWith('EXAMPLE') || shannonEntropy(value, 4) < 2.5;
      return match(hit.index, hit.index + value.length, example ? 'low' : 'high', example);
    });
  },
});

// `=` may stand before the key (`aws_secret_access_key=…`): base64 pads at the end, never inside.
const B64_40 = /[A-Za-z0-9/+](?<![A-Za-z0-9/+].)[A-Za-z0-9/+]{39}(?![A-Za-z0-9/+=])/g;
const KEYWORD_WINDOW = 120;

function lowerEquals(text: string, start: number, word: string): boolean {
  if (start < 0 || start + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) {
    // ASCII letters only: OR-ing 0x20 lower-cases A–Z and leaves a–z alone.
    if ((text.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The words that name an AWS secret key, as configuration and code write them: in capitals
 * (AWS_SECRET_ACCESS_KEY, "SecretAccessKey"), or in lower case joined by an underscore
 * (aws_secret_access_key) or after a hyphen (--aws-secret-access-key). Lower-case "aws" or "secret" alone in prose is not searched for: its
 * letters are so common that the search would cost more than all other gates together
 * ("secret: <value>" is still caught by the generic detector).
 */
const AWS_KEYWORDS = ['AWS', 'aws_', '_aws', '-aws', 'SECRET', 'Secret', 'secret_', '_secret'];
const AWS_KEYWORDS_ANCHORED = anchorLiterals(AWS_KEYWORDS);

export const awsSecretAccessKey = defineDetector({
  type: 'AWS_SECRET_ACCESS_KEY',
  severity: 'critical',
  // The type comes from the context: a 40-character base64 string alone is as likely a hash as
  // a key, so only the text just after "aws" or "secret" (aws_secret_access_key=,
  // "SecretAccessKey": , AWS secret key) is searched.
  triggers: AWS_KEYWORDS,
  find(text) {
    const keywords = literalPositions(text, AWS_KEYWORDS_ANCHORED, false)?.sort((a, b) => a - b);
    if (!keywords) return NONE;
    let out: DetectorMatch[] | undefined;
    let scannedTo = 0;
    for (const keyword of keywords) {
      const from = Math.max(keyword, scannedTo);
      const to = Math.min(text.length, keyword + KEYWORD_WINDOW);
      if (to - from < 40) continue;
      // Slice one character early and late so the boundary lookarounds see the real neighbours.
      const windowStart = Math.max(0, from - 1);
      const window = text.slice(windowStart, Math.min(text.length, to + 1));
      for (const m of scan(B64_40, window, (hit) => {
        const value = hit[0];
        const classes = hasLowerUpperDigit(value);
        // Git SHAs and other hex digests have no upper case; real keys mix all three classes.
        if (!classes.lower || !classes.upper || !(classes.digit || classes.other)) return undefined;
        const example =
          AWS_EXAMPLE_SECRETS.has(value) || value.includes('EXAMPLE') || shannonEntropy(value) < 3.5;
        return match(
          windowStart + hit.index,
          windowStart + hit.index + 40,
          example ? 'low' : 'critical',
          example,
        );
      })) {
        if (m.start < from - 1 || m.end > to + 1) continue;
        if (!out) out = [];
        if (out.every((o) => o.start !== m.start)) out.push(m);
      }
      scannedTo = to;
    }
    return out ?? NONE;
  },
});

// ---------------------------------------------------------------------------------------------
// PEM private keys

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const MIN_KEY_BODY = 64;

function isBase64Char(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61
  );
}

/**
 * Extent of the key body after a BEGIN header when no END line is present: base64 lines, split by
 * line breaks or the JSON escapes `\n` / `\r` (so the span stays JSON-safe when a raw line is
 * redacted). A space ends it: prose after a header quoted in a sentence is not key material.
 */
function bodyEnd(text: string, from: number): { end: number; base64: number } {
  let i = from;
  let base64 = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isBase64Char(c)) {
      base64++;
      i++;
    } else if (c === 10 || c === 13) {
      i++;
    } else if (c === 92 && (text[i + 1] === 'n' || text[i + 1] === 'r')) {
      i += 2;
    } else {
      break;
    }
  }
  // A header followed by a word and a space ("…KEY-----and") has no body: give the word back.
  return base64 > 0 &&
    text.charCodeAt(from) !== 10 &&
    text.charCodeAt(from) !== 13 &&
    text.charCodeAt(from) !== 92
    ? { end: from, base64: 0 }
    : { end: i, base64 };
}

function base64Between(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (isBase64Char(text.charCodeAt(i))) n++;
  return n;
}

export const privateKey = defineDetector({
  type: 'PRIVATE_KEY',
  severity: 'critical',
  triggers: ['-----BEGIN'],
  find(text) {
    // One search for END per text: re-searching from every BEGIN would be quadratic on a line of
    // repeated headers with no END.
    let nextEnd = -2;
    return scan(PEM_BEGIN, text, (hit) => {
      const headerEnd = hit.index + hit[0].length;
      if (nextEnd !== -1 && nextEnd < headerEnd) nextEnd = text.indexOf('-----END', headerEnd);
      let end: number;
      let base64: number;
      if (nextEnd !== -1) {
        const closing = text.indexOf('-----', nextEnd + 8);
        end = closing === -1 ? nextEnd + 8 : Math.min(closing + 5, text.length);
        base64 = base64Between(text, headerEnd, nextEnd);
      } else {
        ({ end, base64 } = bodyEnd(text, headerEnd));
      }
      // A header with no key material is someone explaining the format.
      const example = base64 < MIN_KEY_BODY;
      return match(hit.index, end, example ? 'low' : 'critical', example);
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Tokens with a vendor prefix

const GITHUB =
  /g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36,251}|ithub_pat_[A-Za-z0-9_]{82,251})(?![A-Za-z0-9_])/g;

export const githubToken = defineDetector({
  type: 'GITHUB_TOKEN',
  severity: 'high',
  triggers: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  find(text) {
    return scan(GITHUB, text, (hit) => {
      const value = hit[0];
      const example = shannonEntropy(value, value.indexOf('_') + 1) < 3;
      return match(hit.index, hit.index + value.length, example ? 'low' : 'high', example);
    });
  },
});

const SLACK_TOKEN = /x(?<![A-Za-z0-9]x)ox[abposr]-[A-Za-z0-9-]{10,250}/g;
const SLACK_WEBHOOK = /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{20,200}/g;

export const slackToken = defineDetector({
  type: 'SLACK_TOKEN',
  severity: 'high',
  triggers: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxo-', 'xoxs-', 'xoxr-'],
  find(text) {
    return scan(SLACK_TOKEN, text, (hit) => {
      const body = hit[0].slice(5);
      // Real tokens carry numeric workspace/user ids; "xoxb-your-token-here" does not.
      const example = !/\d/.test(body) || shannonEntropy(body) < 3;
      return match(hit.index, hit.index + hit[0].length, example ? 'low' : 'high', example);
    });
  },
});

export const slackWebhook = defineDetector({
  type: 'SLACK_WEBHOOK',
  severity: 'high',
  triggers: ['hooks.slack.com/'],
  find(text) {
    return scan(SLACK_WEBHOOK, text, (hit) => {
      const path = hit[0].slice(hit[0].lastIndexOf('/') + 1);
      // Placeholders are runs of X or 0 (T00000000/B00000000/XXXXXXXX…).
      const example = shannonEntropy(path) < 3;
      return match(hit.index, hit.index + hit[0].length, example ? 'low' : 'high', example);
    });
  },
});

const STRIPE = /([spr])(?<![A-Za-z0-9_][spr])k_(live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9])/g;

export const stripeKey = defineDetector({
  type: 'STRIPE_KEY',
  severity: 'critical',
  triggers: ['k_live_', 'k_test_'],
  find(text) {
    return scan(STRIPE, text, (hit) => {
      const kind = `${hit[1] ?? ''}k`;
      const live = hit[2] === 'live';
      const body = hit[0].slice('sk_live_'.length);
      if (shannonEntropy(body) < 3) return match(hit.index, hit.index + hit[0].length, 'low', true);
      // Publishable keys are meant to ship in web pages; test-mode keys move no money.
      let severity: Severity = 'low';
      if (live && kind === 'sk') severity = 'critical';
      else if (live && kind === 'rk') severity = 'high';
      return match(hit.index, hit.index + hit[0].length, severity);
    });
  },
});

const GOOGLE_API_KEY = /A(?<![A-Za-z0-9_-]A)Iza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g;

export const googleApiKey = defineDetector({
  type: 'GOOGLE_API_KEY',
  severity: 'high',
  triggers: ['AIza'],
  find(text) {
    return scan(GOOGLE_API_KEY, text, (hit) => {
      const example = shannonEntropy(hit[0], 4) < 3;
      return match(hit.index, hit.index + hit[0].length, example ? 'low' : 'high', example);
    });
  },
});

const JWT =
  /e(?<![A-Za-z0-9_-]e)yJ[A-Za-z0-9_-]{2,2000}\.[A-Za-z0-9_-]{2,16000}\.[A-Za-z0-9_-]{0,4000}(?![A-Za-z0-9_-])/g;
/** The signature of jwt.io's sample token, reproduced in countless tutorials. */
const JWT_EXAMPLE_SIGNATURES = new Set(['SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c']);

function jwtHeaderHasAlg(encodedHeader: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
    return (
      typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string'
    );
  } catch {
    return false;
  }
}

export const jwt = defineDetector({
  type: 'JWT',
  severity: 'high',
  triggers: ['eyJ'],
  find(text) {
    return scan(JWT, text, (hit) => {
      const value = hit[0];
      const firstDot = value.indexOf('.');
      if (!jwtHeaderHasAlg(value.slice(0, firstDot))) return undefined;
      const example = JWT_EXAMPLE_SIGNATURES.has(value.slice(value.lastIndexOf('.') + 1));
      return match(hit.index, hit.index + value.length, example ? 'low' : 'high', example);
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Generic "keyword = high-entropy value"

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

// ---------------------------------------------------------------------------------------------
// PII

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{3,253}/g;
const EMAIL_TLD = /\.[A-Za-z]{2,63}$/;
/** RFC 2606 / 6761 names reserved for documentation and testing. */
const EXAMPLE_EMAIL_DOMAIN = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$/i;

export const email = defineDetector({
  type: 'EMAIL',
  severity: 'medium',
  triggers: ['@'],
  find(text) {
    return scan(EMAIL, text, (hit) => {
      let end = hit.index + hit[0].length;
      // The domain class also eats the full stop that ends a sentence.
      while (text[end - 1] === '.' || text[end - 1] === '-') end--;
      const value = text.slice(hit.index, end);
      const at = value.indexOf('@');
      if (value[0] === '.' || value[at - 1] === '.') return undefined;
      // A top-level domain of two or more letters, checked before the costlier full validation.
      if (!EMAIL_TLD.test(value) || !isEmail(value)) return undefined;
      const example = EXAMPLE_EMAIL_DOMAIN.test(value.slice(at + 1));
      return match(hit.index, end, example ? 'low' : 'medium', example);
    });
  },
});

/**
 * The five digit detectors share their work. First a gate: nine digits with at most two
 * separators between neighbours (unrolled to keep the pattern flat), or a dotted quad. Dates,
 * times, versions and prices fail it, and it is one fast test where extracting the clusters
 * straight away would be a slow exec loop over every date in the data. Then, for the few strings
 * that pass, the digit clusters: maximal runs of digits and the separators numbers are written
 * with, at least seven characters. Every card, SSN, phone and IPv4 candidate lies inside one, so
 * the detectors' regexes run on those short windows instead of the whole string. Cached for the
 * string last asked about, since the detectors run one after the other on the same string.
 *
 * The gate, in one pass: nine digits with at most two separators between neighbours, unrolled
 * (`\d(?:[ ().\-/]{0,2}\d){8}`), or a dotted quad (`\d\.\d{1,3}\.\d{1,3}\.\d`). The nine
 * digits are only tried from a digit with no digit within two separators before it: any other
 * start extends back to such a one, so whether the text matches is unchanged, and a long number
 * is not re-tried digit by digit.
 */
const DIGIT_GATE = new RegExp(
  `\\d(?:(?<!\\d[ ().\\-/]{0,2}.)${'[ ().\\-/]{0,2}\\d'.repeat(8)}|\\.\\d{1,3}\\.\\d{1,3}\\.\\d)`,
);
const DIGIT_CLUSTER = /\d(?<!\d\d)[\d ().\-/]{5,4096}\d/g;
const NO_CLUSTERS: number[] = [];
let clusterText: string | undefined;
let clusterBounds: number[] = NO_CLUSTERS;

/** Flat [start, end, start, end, …] of the digit clusters of text; empty when the gate fails. */
function digitClusters(text: string): number[] {
  if (text !== clusterText) {
    clusterText = text;
    clusterBounds = NO_CLUSTERS;
    if (DIGIT_GATE.test(text)) {
      const bounds: number[] = [];
      DIGIT_CLUSTER.lastIndex = 0;
      for (let m = DIGIT_CLUSTER.exec(text); m !== null; m = DIGIT_CLUSTER.exec(text)) {
        bounds.push(m.index, m.index + m[0].length);
      }
      clusterBounds = bounds;
    }
  }
  return clusterBounds;
}

/** Whether the digit detectors (card, SSN, IBAN, phone, IPv4) can match anything in text. */
export function hasDigitCluster(text: string): boolean {
  return digitClusters(text).length > 0;
}

/**
 * The gates of the digit detectors. On a raw line always on: nearly every line of real data
 * holds a date or a number, so a line-level search would cost a pass and switch nothing off.
 */
const DIGIT_GATES = { gate: hasDigitCluster, lineGate: 'always' } as const;

/**
 * Like `scan`, but only around the digit clusters of text: `before` and `after` characters of
 * context (by default enough for the patterns' boundary checks and a leading "(" or "+"). Hit
 * indexes are rewritten to positions in text before `accept` sees them.
 */
function scanClusters(
  regex: RegExp,
  text: string,
  accept: (hit: RegExpExecArray) => DetectorMatch | undefined,
  before = 2,
  after = 1,
): DetectorMatch[] {
  const bounds = digitClusters(text);
  let out: DetectorMatch[] | undefined;
  let taken = 0;
  for (let c = 0; c < bounds.length; c += 2) {
    const from = Math.max(0, (bounds[c] ?? 0) - before);
    const window = text.slice(from, Math.min(text.length, (bounds[c + 1] ?? 0) + after));
    regex.lastIndex = 0;
    for (let hit = regex.exec(window); hit !== null; hit = regex.exec(window)) {
      const empty = hit[0].length === 0;
      hit.index += from;
      // Windows of neighbouring clusters overlap: a hit already taken is not taken twice.
      const m = hit.index < taken ? undefined : accept(hit);
      if (m) {
        taken = m.end;
        if (!out) out = [];
        out.push(m);
        if (m.end - from > regex.lastIndex) regex.lastIndex = m.end - from;
      }
      if (empty) regex.lastIndex++;
    }
  }
  return out ?? NONE;
}

/**
 * Start and end of each maximal run of digits in text[from, to), flat: [start, end, start, end, …].
 * The array is reused by the next call.
 */
/** Reused by digitRuns: the digit detectors run one at a time and never nest. */
const runsScratch: number[] = [];

function digitRuns(text: string, from: number, to: number): number[] {
  const runs = runsScratch;
  runs.length = 0;
  let i = from;
  while (i < to) {
    while (i < to && !isDigit(text.charCodeAt(i))) i++;
    if (i >= to) break;
    const start = i;
    while (i < to && isDigit(text.charCodeAt(i))) i++;
    runs.push(start, i);
  }
  return runs;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `-`, `.` or `/`: characters that join the parts of one number (a date, a version, an id). */
function isJoiner(c: number): boolean {
  return c === 45 || c === 46 || c === 47;
}

function isWordChar(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * Every span of consecutive digit groups in the digit clusters of text, tried from each group in
 * turn (never one greedy match: a card beside a quantity, a date or a CVV is still a card).
 * `tryFrom(runs, a)` looks at the spans starting with group `a` (runs as digitRuns gives them)
 * and returns the match it accepts, if any; groups inside an accepted match are not tried again.
 * Each detector bounds its spans by digit count, so the work stays linear.
 */
function digitGroupSpans(
  text: string,
  tryFrom: (runs: number[], a: number) => DetectorMatch | undefined,
): DetectorMatch[] {
  const bounds = digitClusters(text);
  let out: DetectorMatch[] | undefined;
  for (let c = 0; c < bounds.length; c += 2) {
    const runs = digitRuns(text, bounds[c] ?? 0, bounds[c + 1] ?? 0);
    let taken = -1;
    for (let a = 0; a < runs.length; a += 2) {
      if ((runs[a] ?? 0) < taken) continue;
      const m = tryFrom(runs, a);
      if (!m) continue;
      if (!out) out = [];
      out.push(m);
      taken = m.end;
    }
  }
  return out ?? NONE;
}

const NANP_GROUPS = /^(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}$/;
/** What may stand between the groups of a phone number: one or two of ` ().-`. */
function phoneGap(text: string, from: number, to: number): boolean {
  if (to - from > 2) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 40 && c !== 41 && c !== 46 && c !== 45) return false;
  }
  return true;
}

/** A leading North American trunk or country code: "1 ", "1-", "+1 ". */
const NANP_PREFIX = /^\+?1[ .-]?/;

function phoneMatch(value: string, start: number, digits: number): DetectorMatch | undefined {
  // A bare run of digits is an id or an amount far more often than a phone number, also after a
  // lone 1 ("qty 1 6464108729").
  const national = value.replace(NANP_PREFIX, '');
  if (value.length === digits || /^\d+$/.test(national)) return undefined;
  // Without a country code only the default region (US) can match, so the digits must be
  // grouped the North American way: (NPA) NXX-XXXX, optionally after a 1. This rejects dates,
  // versions and runs of unrelated numbers before libphonenumber is asked.
  if (value.charCodeAt(0) !== 43 && !NANP_GROUPS.test(value)) return undefined;
  const parsed = parsePhoneNumberFromString(value, 'US');
  if (!parsed?.isValid()) return undefined;
  // 555-0100 … 555-0199 are reserved for fiction in the North American plan.
  const example = parsed.countryCallingCode === '1' && /^\d{3}55501\d{2}$/.test(parsed.nationalNumber);
  return match(start, start + value.length, example ? 'low' : 'medium', example);
}

export const phone = defineDetector({
  type: 'PHONE',
  severity: 'medium',
  ...DIGIT_GATES,
  find(text) {
    return digitGroupSpans(text, (runs, a) => {
      let start = runs[a] ?? 0;
      // "(415) …" and "+44 …" start with their bracket or plus (a bracket that closes after the group).
      const lead = text.charCodeAt(start - 1);
      if ((lead === 40 && text.charCodeAt(runs[a + 1] ?? 0) === 41) || lead === 43) start--;
      // Not inside a word, a version (1.2.…) or an identifier, nor cut out of a number joined by
      // hyphens, dots or slashes (a date: "512 512 2024-03-13" holds no phone number).
      const before = text.charCodeAt(start - 1);
      if (isWordChar(before) || before === 46 || (isJoiner(before) && isDigit(text.charCodeAt(start - 2)))) {
        return undefined;
      }
      let digits = 0;
      let best: DetectorMatch | undefined;
      for (let b = a; b < runs.length; b += 2) {
        const groupStart = runs[b] ?? 0;
        const groupEnd = runs[b + 1] ?? 0;
        // Phone numbers are written in at most six groups ("+33 1 42 68 53 11").
        if (b - a >= 12 || (b > a && !phoneGap(text, runs[b - 1] ?? 0, groupStart))) break;
        digits += groupEnd - groupStart;
        if (digits > 15) break;
        const after = text.charCodeAt(groupEnd);
        if (digits < 10 || isWordChar(after) || (isJoiner(after) && isDigit(text.charCodeAt(groupEnd + 1)))) {
          continue;
        }
        // The longest valid number from this start: "+44 20 7946 0958", not "+44 20 7946".
        best = phoneMatch(text.slice(start, groupEnd), start, digits) ?? best;
      }
      return best;
    });
  },
});

/** Issuer prefixes (IIN ranges) with the lengths the network issues. */
const CARD_BRANDS: readonly { ranges: readonly [number, number, number][]; lengths: readonly number[] }[] = [
  { ranges: [[4, 4, 1]], lengths: [13, 16, 19] }, // Visa
  {
    ranges: [
      [51, 55, 2],
      [2221, 2720, 4],
    ],
    lengths: [16],
  }, // Mastercard
  {
    ranges: [
      [34, 34, 2],
      [37, 37, 2],
    ],
    lengths: [15],
  }, // American Express
  {
    ranges: [
      [6011, 6011, 4],
      [644, 649, 3],
      [65, 65, 2],
    ],
    lengths: [16, 17, 18, 19],
  }, // Discover
  {
    ranges: [
      [300, 305, 3],
      [36, 36, 2],
      [38, 39, 2],
    ],
    lengths: [14, 15, 16, 17, 18, 19],
  }, // Diners Club
  { ranges: [[3528, 3589, 4]], lengths: [16, 17, 18, 19] }, // JCB
  { ranges: [[62, 62, 2]], lengths: [16, 17, 18, 19] }, // UnionPay
  {
    ranges: [
      [50, 50, 2],
      [56, 58, 2],
      [67, 67, 2],
    ],
    lengths: [12, 13, 14, 15, 16, 17, 18, 19],
  }, // Maestro
];

/** Test numbers published by Stripe, PayPal and the networks. */
const TEST_CARDS = new Set([
  '4242424242424242',
  '4000056655665556',
  '4111111111111111',
  '4012888888881881',
  '4222222222222',
  '5555555555554444',
  '5105105105105100',
  '2223003122003222',
  '378282246310005',
  '371449635398431',
  '6011111111111117',
  '6011000990139424',
  '3056930009020004',
  '36227206271667',
  '3566002020360505',
  '6200000000000005',
]);

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function knownIssuer(digits: string): boolean {
  return CARD_BRANDS.some(
    (brand) =>
      brand.lengths.includes(digits.length) &&
      brand.ranges.some(([low, high, width]) => {
        const prefix = Number(digits.slice(0, width));
        return prefix >= low && prefix <= high;
      }),
  );
}

/** The digits of text[start, end) without their separators, if they make a card number. */
function cardDigits(text: string, start: number, end: number): string | undefined {
  const digits = text.slice(start, end).replace(/[ -]/g, '');
  if (/^(\d)\1+$/.test(digits) || !luhnValid(digits) || !knownIssuer(digits)) return undefined;
  return digits;
}

export const cardNumber = defineDetector({
  type: 'CARD_NUMBER',
  severity: 'high',
  ...DIGIT_GATES,
  find(text) {
    return digitGroupSpans(text, (runs, a) => {
      const start = runs[a] ?? 0;
      let digits = 0;
      let separator = -1;
      for (let b = a; b < runs.length; b += 2) {
        const groupStart = runs[b] ?? 0;
        const groupEnd = runs[b + 1] ?? 0;
        if (b > a) {
          // Grouped the way cards are printed: one kind of separator, one character, groups of 3+.
          const gap = text.charCodeAt(groupStart - 1);
          if (groupStart - (runs[b - 1] ?? 0) !== 1 || (gap !== 32 && gap !== 45)) break;
          if (separator === -1) separator = gap;
          else if (gap !== separator) break;
          if (groupEnd - groupStart < 3 || (b === a + 2 && (runs[a + 1] ?? 0) - start < 3)) break;
        }
        digits += groupEnd - groupStart;
        if (digits > 19) break;
        if (digits < 13) continue;
        // The shortest card from this start: a CVV or a year after it stays outside.
        const found = cardDigits(text, start, groupEnd);
        if (found) {
          const example = TEST_CARDS.has(found);
          return match(start, groupEnd, example ? 'low' : 'high', example);
        }
      }
      return undefined;
    });
  },
});

const SSN = /\d(?<![\d-]\d)\d{2}([- ])\d{2}\1\d{4}(?![\d-])/g;
const SSN_BARE = /\d(?<!\d\d)\d{8}(?!\d)/g;
/** Published or famously misused numbers (Woolworth's wallet card, LifeLock's ads, 123-45-6789). */
const SSN_EXAMPLES = new Set(['123456789', '078051120', '219099999', '457555462']);

function ssnMatch(
  hit: RegExpExecArray,
  area: string,
  group: string,
  serial: string,
): DetectorMatch | undefined {
  const areaNumber = Number(area);
  if (areaNumber === 0 || areaNumber === 666 || areaNumber >= 900) return undefined;
  if (group === '00' || serial === '0000') return undefined;
  const example = SSN_EXAMPLES.has(area + group + serial);
  return match(hit.index, hit.index + hit[0].length, example ? 'low' : 'high', example);
}

export const usSsn = defineDetector({
  type: 'US_SSN',
  severity: 'high',
  ...DIGIT_GATES,
  find(text) {
    const formatted = scanClusters(SSN, text, (hit) => {
      const digits = hit[0].replace(/\D/g, '');
      return ssnMatch(hit, digits.slice(0, 3), digits.slice(3, 5), digits.slice(5));
    });
    // Nine bare digits are an SSN only when the text says so, just before them.
    const bare = scanClusters(SSN_BARE, text, (hit) => {
      const before = text.slice(Math.max(0, hit.index - 40), hit.index);
      if (!/ssn|social security/i.test(before)) return undefined;
      return ssnMatch(hit, hit[0].slice(0, 3), hit[0].slice(3, 5), hit[0].slice(5));
    });
    return bare.length === 0 ? formatted : [...formatted, ...bare].sort((a, b) => a.start - b.start);
  },
});

// Digits may stand right before it ("ref 12GB33…"): the mod-97 check keeps the rest out.
const IBAN = /[A-Z](?<![A-Za-z][A-Z])[A-Z]\d{2}[A-Z0-9 ]{10,40}/g;
const IBAN_EXAMPLES = new Set([
  'DE89370400440532013000',
  'GB82WEST12345698765432',
  'GB29NWBK60161331926819',
  'FR1420041010050500013M02606',
  'NL91ABNA0417164300',
]);
const ibanLengths = new Map<string, number>(
  Object.entries(getCountrySpecifications()).flatMap(([code, spec]) =>
    spec.chars ? [[code, spec.chars] as [string, number]] : [],
  ),
);

export const iban = defineDetector({
  type: 'IBAN',
  severity: 'medium',
  // Every country's IBAN holds a run of 7+ digits and spaces, after at most ten characters of
  // country code, check digits and bank letters ("NL91 ABNA 0417…"), and may end in letters
  // ("FR14 … 3M02 606"): searched around the clusters with that much context.
  ...DIGIT_GATES,
  find(text) {
    return scanClusters(
      IBAN,
      text,
      (hit) => {
        const raw = hit[0];
        const length = ibanLengths.get(raw.slice(0, 2));
        if (length === undefined) return undefined;
        // The candidate runs on into following capitals and digits; take exactly the country's
        // length, allowing single spaces between groups.
        let compact = '';
        let i = 0;
        while (i < raw.length && compact.length < length) {
          if (raw[i] === ' ') {
            if (raw[i + 1] === ' ' || compact.length === 0) return undefined;
          } else {
            compact += raw[i];
          }
          i++;
        }
        if (compact.length !== length) return undefined;
        const end = hit.index + i;
        if (/[A-Za-z0-9]/.test(text[end] ?? '')) return undefined;
        if (!isValidIBAN(compact)) return undefined;
        const example = IBAN_EXAMPLES.has(compact);
        return match(hit.index, end, example ? 'low' : 'medium', example);
      },
      12,
      40,
    );
  },
});

const IPV4 = /\d(?<![\w.]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)/g;
/** Loopback, "this network", and the three documentation ranges of RFC 5737. */
const IPV4_EXAMPLE = /^(?:127\.|0\.|192\.0\.2\.|198\.51\.100\.|203\.0\.113\.)/;

export const ipv4 = defineDetector({
  type: 'IPV4',
  severity: 'low',
  ...DIGIT_GATES,
  find(text) {
    return scanClusters(IPV4, text, (hit) => {
      const value = hit[0];
      if (!isIP(value, 4)) return undefined;
      // "version 1.2.3.4", "v10.0.0.1": version strings share the shape.
      if (/\b(?:ver(?:sion)?\.?|release)\s*$/.test(lowerWindow(text, hit.index, 12))) return undefined;
      return match(hit.index, hit.index + value.length, 'low', IPV4_EXAMPLE.test(value));
    });
  },
});

// At a boundary, or after a word and a colon ("see:2600:…"), which no address starts with.
const IPV6 = /[0-9A-Fa-f:](?:(?<![\w:.].)|(?<=[A-Za-z]:[0-9A-Fa-f]))[0-9A-Fa-f:.]{2,44}(?![\w:])/g;
const IPV6_EXAMPLE = /^(?:::1?$|2001:db8:|2001:0db8:)/i;

function mayHoldIpv6(text: string): boolean {
  // Two colons within five characters of each other: rarer in prose than any single colon. JSON's
  // own colons follow a closing quote and are skipped.
  const colons = colonsOf(text);
  for (let k = 0; k < colons.length - 1; k++) {
    const i = colons[k] as number;
    if (text.charCodeAt(i - 1) === 34 && text.charCodeAt(i + 1) !== 58) continue;
    if ((colons[k + 1] as number) - i <= 5) return true;
  }
  return false;
}

export const ipv6 = defineDetector({
  type: 'IPV6',
  severity: 'low',
  gate: mayHoldIpv6,
  find(text) {
    return scan(IPV6, text, (hit) => {
      let value = hit[0];
      while (value.endsWith('.')) value = value.slice(0, -1);
      if (value.indexOf(':') === value.lastIndexOf(':')) return undefined;
      if (!isIP(value, 6)) return undefined;
      return match(hit.index, hit.index + value.length, 'low', IPV6_EXAMPLE.test(value));
    });
  },
});
