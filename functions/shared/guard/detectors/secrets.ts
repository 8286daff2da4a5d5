/**
 * Credentials with a shape of their own: AWS access keys (the secret key found by the words
 * that name it), PEM private keys, and tokens with a vendor prefix (GitHub, Slack, Stripe,
 * Google, JWT). The generic `keyword = value` detector is generic-secret.ts.
 */
import type { DetectorMatch, Severity } from '../types';
import { anchorLiterals, defineDetector, literalPositions } from './define';
import { hasLowerUpperDigit, match, NONE, scan, shannonEntropy } from './match';

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
      // A key is wholly inside [from, to). Where this word's window overlaps the last one, only
      // its new part is searched, from 39 characters before the last window's end: a key that
      // started there ran past that window's end and was not seen whole in it.
      const from = Math.max(keyword, scannedTo - 39);
      const to = Math.min(text.length, keyword + KEYWORD_WINDOW);
      if (to - from < 40) continue;
      // Slice one character early and late so the boundary lookarounds see the real neighbours;
      // a match on either extra character is a slice of a longer run, not a key.
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
        if (m.start < from || m.end > to) continue;
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
