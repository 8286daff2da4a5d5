import type { FindingType } from './types';

/**
 * Masked previews: enough for a person to recognise which value was meant (prefix, last digits),
 * never enough to use it. Every rule hides at least half of the value.
 */

const MAX_STARS = 24;

function stars(count: number): string {
  return '*'.repeat(Math.max(1, Math.min(count, MAX_STARS)));
}

/** Keeps a short head and tail, scaled to the length so short secrets reveal almost nothing. */
export function maskToken(value: string): string {
  const n = value.length;
  if (n < 4) return '***';
  if (n < 12) return value.slice(0, 1) + stars(n - 1);
  if (n < 20) return value.slice(0, 2) + stars(n - 4) + value.slice(-2);
  return value.slice(0, 4) + stars(n - 8) + value.slice(-4);
}

/** A fixed, non-secret prefix (ghp_, sk_live_, xoxb-) stays readable; of the rest only the last 4. */
function maskAfterPrefix(value: string, prefixLength: number): string {
  const rest = value.slice(prefixLength);
  if (rest.length < 12) return value.slice(0, prefixLength) + stars(rest.length);
  return value.slice(0, prefixLength) + stars(rest.length - 4) + rest.slice(-4);
}

function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const labels = value.slice(at + 1).split('.');
  const tld = labels.pop() ?? '';
  const domain = labels.map((label) => label.slice(0, 1) + stars(label.length - 1)).join('.');
  return `${local.slice(0, 1)}***@${domain}.${tld}`;
}

function maskCard(value: string): string {
  const digits = value.replace(/\D/g, '');
  return '**** '.repeat(Math.ceil((digits.length - 4) / 4)) + digits.slice(-4);
}

function maskPhone(value: string): string {
  const digitCount = value.replace(/\D/g, '').length;
  let seen = 0;
  return value.replace(/\d/g, (d) => (++seen > digitCount - 2 ? d : '*'));
}

function maskPrivateKey(value: string): string {
  const header = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/.exec(value);
  return `${header ? header[0] : '-----BEGIN PRIVATE KEY-----'} ****`;
}

function maskIban(value: string): string {
  const compact = value.replace(/\s/g, '');
  return compact.slice(0, 4) + stars(compact.length - 8) + compact.slice(-4);
}

const PREFIX =
  /^(?:gh[pousr]_|github_pat_|xox[abposr]-|[spr]k_(?:live|test)_|AIza|https:\/\/hooks\.slack\.com\/)/;

export function maskValue(type: FindingType, value: string): string {
  switch (type) {
    case 'EMAIL':
      return maskEmail(value);
    case 'CARD_NUMBER':
      return maskCard(value);
    case 'US_SSN':
      return `***-**-${value.replace(/\D/g, '').slice(-4)}`;
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
