import type { FindingType } from './types';

/**
 * Masked previews: enough for a person to tell which value was meant, never enough to use it or
 * to find the person it belongs to. Of a secret at most its last 4 characters show (fewer for a
 * short one), after a vendor prefix that is not secret (`ghp_`, `sk_live_`, `AKIA`); of personal
 * data, the kind of value and a fragment shared by many people (a last-4 of a card, an area of a
 * network), never the part that names someone.
 */

const MAX_STARS = 24;

function stars(count: number): string {
  return '*'.repeat(Math.max(1, Math.min(count, MAX_STARS)));
}

/** How many trailing characters of a secret of this length may show. */
function visibleTail(length: number): number {
  if (length >= 16) return 4;
  if (length >= 12) return 2;
  return 0;
}

/** A secret: stars, then at most its last 4 characters. */
export function maskToken(value: string): string {
  const tail = visibleTail(value.length);
  return stars(value.length - tail) + value.slice(value.length - tail);
}

/** A fixed, non-secret prefix (ghp_, sk_live_, xoxb-, AKIA) stays readable; of the rest only the tail. */
function maskAfterPrefix(value: string, prefixLength: number): string {
  return value.slice(0, prefixLength) + maskToken(value.slice(prefixLength));
}

/** The first character of the address and its top-level domain: "j***@***.com". */
function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  const domain = value.slice(at + 1);
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  return `${value.slice(0, 1)}***@***.${tld}`;
}

function maskCard(value: string): string {
  const digits = value.replace(/\D/g, '');
  return '**** '.repeat(Math.ceil((digits.length - 4) / 4)) + digits.slice(-4);
}

/** The last two digits, in the number's own layout: "(***) ***-**09". */
function maskPhone(value: string): string {
  const digitCount = value.replace(/\D/g, '').length;
  let seen = 0;
  return value.replace(/\d/g, (d) => (++seen > digitCount - 2 ? d : '*'));
}

function maskPrivateKey(value: string): string {
  const header = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/.exec(value);
  return `${header ? header[0] : '-----BEGIN PRIVATE KEY-----'} ****`;
}

/** The country and the last 4 characters: "GB** **** … 5555"-like, compact. */
function maskIban(value: string): string {
  const compact = value.replace(/\s/g, '');
  return compact.slice(0, 2) + stars(compact.length - 6) + compact.slice(-4);
}

/** Prefixes that name the kind of credential and are the same in every one of its kind. */
const PREFIX =
  /^(?:gh[pousr]_|github_pat_|xox[abposr]-|[spr]k_(?:live|test)_|AIza|A[KS]IA|eyJ|https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/)/;

export function maskValue(type: FindingType, value: string): string {
  switch (type) {
    case 'EMAIL':
      return maskEmail(value);
    case 'CARD_NUMBER':
      return maskCard(value);
    case 'US_SSN':
      // The last four of an SSN are what call centres ask for to identify someone: none shown.
      return '***-**-****';
    case 'PHONE':
      return maskPhone(value);
    case 'IPV4':
      return `${value.slice(0, value.indexOf('.'))}.*.*.*`;
    case 'IPV6':
      return `${value.slice(0, Math.max(0, value.indexOf(':')))}:****`;
    case 'PRIVATE_KEY':
      return maskPrivateKey(value);
    case 'IBAN':
      return maskIban(value);
    default: {
      const prefix = PREFIX.exec(value);
      return prefix ? maskAfterPrefix(value, prefix[0].length) : maskToken(value);
    }
  }
}
