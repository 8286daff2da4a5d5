/**
 * Financial data: payment card numbers (Luhn and the issuers' IIN ranges) and IBANs (country
 * lengths and the mod-97 checksum, from ibantools). Published test numbers are marked examples.
 */
import { getCountrySpecifications, isValidIBAN } from 'ibantools';
import { defineDetector } from './define';
import { DIGIT_GATES, digitGroupSpans, scanClusters } from './digits';
import { match } from './match';

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
