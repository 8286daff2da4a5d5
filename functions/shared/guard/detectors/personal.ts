/**
 * Personal data: e-mail addresses, phone numbers, US Social Security numbers. Reserved and
 * published example values (example.com, 555-01xx, 123-45-6789) are found but marked examples.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import isEmail from 'validator/lib/isEmail';
import type { DetectorMatch } from '../types';
import { defineDetector } from './define';
import { DIGIT_GATES, digitGroupSpans, isDigit, isJoiner, isWordChar, scanClusters } from './digits';
import { match, scan } from './match';

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
