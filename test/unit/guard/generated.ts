/**
 * Generated detection cases for the data guard (fast-check): for every detector, values it must
 * find and near misses it must leave alone, each embedded in a context of the kind real data
 * puts around values — quantities, dates, CVVs, other numbers, punctuation, URL and JSON escapes,
 * line breaks, non-breaking and other Unicode spaces — and written into conversation records,
 * some with their characters spelled as JSON `\u` escapes. Measured through the whole scan path
 * (read, line gate, fast path, detectors, redaction): `measureDetection` scans them as one file
 * and says, per detector, how many values were found and redacted (recall) and how many near
 * misses were reported (false positives).
 *
 * Used by test/unit/guard/properties.test.ts (which asserts the thresholds) and by the scan
 * benchmark (which prints the figures). Every value is fake; credential-shaped ones are built
 * from fragments at run time, so no literal in the repository looks like a credential.
 */
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { composeIBAN, isValidIBAN } from 'ibantools';
import {
  DETECTORS,
  type FindingType,
  type ScanReport,
  scanTrainingData,
} from '../../../functions/shared/guard';

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DIGITS = '0123456789';
const HEX = '0123456789abcdef';

const chars = (alphabet: string, min: number, max = min) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
const digits = (n: number) => chars(DIGITS, n);
const join = (...parts: string[]) => parts.join('');

/** Base64 text with all three classes a real key mixes (upper, lower, digit). */
const mixedBase64 = (n: number) =>
  chars(`${B62}+/`, n).filter((s) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s));

function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

const CARD_PREFIXES = [
  { prefix: '4', length: 16, groups: [4, 4, 4, 4] },
  { prefix: '4', length: 13, groups: [4, 4, 5] },
  { prefix: '51', length: 16, groups: [4, 4, 4, 4] },
  { prefix: '55', length: 16, groups: [4, 4, 4, 4] },
  { prefix: '2720', length: 16, groups: [4, 4, 4, 4] },
  { prefix: '34', length: 15, groups: [4, 6, 5] },
  { prefix: '37', length: 15, groups: [4, 6, 5] },
  { prefix: '6011', length: 16, groups: [4, 4, 4, 4] },
  { prefix: '3530', length: 16, groups: [4, 4, 4, 4] },
];

function grouped(number: string, groups: number[], separator: string): string {
  const out: string[] = [];
  let at = 0;
  for (const g of groups) {
    out.push(number.slice(at, at + g));
    at += g;
  }
  return out.join(separator);
}

/** A card number (Luhn-valid when `valid`, one off otherwise), printed one of the usual ways. */
const card = (valid: boolean) =>
  fc
    .record({
      brand: fc.constantFrom(...CARD_PREFIXES),
      fill: digits(18),
      separator: fc.constantFrom('', ' ', '-'),
    })
    .map(({ brand, fill, separator }) => {
      const body = (brand.prefix + fill).slice(0, brand.length - 1);
      const check = luhnDigit(body);
      const last = valid ? check : String((Number(check) + 1) % 10);
      return grouped(body + last, brand.groups, separator);
    })
    .filter((s) => !/^(\d)\1+$/.test(s.replace(/\D/g, '')));

/** Area codes in service (libphonenumber knows them); exchanges avoid 555 (fiction) and N11. */
const AREA_CODES = [
  '212',
  '213',
  '312',
  '415',
  '503',
  '512',
  '617',
  '646',
  '702',
  '713',
  '206',
  '303',
  '404',
];

const nanp = fc
  .record({
    area: fc.constantFrom(...AREA_CODES),
    exchange: fc.integer({ min: 200, max: 999 }).filter((n) => n !== 555 && n % 100 !== 11),
    line: digits(4),
    format: fc.integer({ min: 0, max: 4 }),
  })
  .map(
    ({ area, exchange, line, format }) =>
      [
        `(${area}) ${exchange}-${line}`,
        `${area}-${exchange}-${line}`,
        `${area}.${exchange}.${line}`,
        `+1 ${area} ${exchange} ${line}`,
        `1-${area}-${exchange}-${line}`,
      ][format] as string,
  );

const international = fc.constantFrom(
  '+44 20 7946 0321',
  '+44 161 496 0754',
  '+49 30 4849 2217',
  '+33 1 42 68 53 11',
  '+61 2 9374 4000',
);

const letters4 = chars('ABCDEFGHJKLMNPRSTUVWXYZ', 4);
const IBAN_BBANS: { country: string; bban: fc.Arbitrary<string> }[] = [
  { country: 'GB', bban: fc.tuple(letters4, digits(14)).map((p) => p.join('')) },
  { country: 'IE', bban: fc.tuple(letters4, digits(14)).map((p) => p.join('')) },
  { country: 'DE', bban: digits(18) },
  { country: 'AT', bban: digits(16) },
  { country: 'NL', bban: fc.tuple(letters4, digits(10)).map((p) => p.join('')) },
];

/** A valid IBAN, or one whose check digits are off by one; compact or in groups of four. */
const iban = (valid: boolean) =>
  fc
    .record({ spec: fc.constantFrom(...IBAN_BBANS), spaced: fc.boolean() })
    .chain(({ spec, spaced }) => spec.bban.map((bban) => ({ country: spec.country, bban, spaced })))
    .map(({ country, bban, spaced }) => {
      const full = composeIBAN({ countryCode: country, bban }) ?? '';
      const check = Number(full.slice(2, 4));
      const wrong = String(check >= 98 ? 2 : check + 1).padStart(2, '0');
      const compact = valid ? full : `${full.slice(0, 2)}${wrong}${full.slice(4)}`;
      return spaced ? compact.replace(/(.{4})(?=.)/g, '$1 ') : compact;
    })
    .filter((s) => s.length > 10 && isValidIBAN(s.replace(/ /g, '')) === valid);

const ssn = (valid: boolean) =>
  fc
    .record({
      area: valid
        ? fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666)
        : fc.constantFrom(0, 666, 900, 987),
      group: fc.integer({ min: 1, max: 99 }),
      serial: fc.integer({ min: 1, max: 9999 }),
      separator: fc.constantFrom('-', ' '),
    })
    .map(({ area, group, serial, separator }) =>
      [String(area).padStart(3, '0'), String(group).padStart(2, '0'), String(serial).padStart(4, '0')].join(
        separator,
      ),
    )
    .filter(
      (s) => !['123-45-6789', '078-05-1120', '219-09-9999', '457-55-5462'].includes(s.replace(/ /g, '-')),
    );

const publicIpv4 = fc
  .tuple(
    fc
      .integer({ min: 1, max: 223 })
      .filter((a) => a !== 127 && a !== 10 && a !== 192 && a !== 198 && a !== 203),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 1, max: 254 }),
  )
  .map((octets) => octets.join('.'));

const ipv6 = fc
  .tuple(
    fc.constantFrom('2600', '2a00', '2406', '2804', '2c0f'),
    fc.array(chars(HEX, 1, 4), { minLength: 7, maxLength: 7 }),
    fc.boolean(),
  )
  .map(([first, rest, compress]) =>
    compress ? `${first}:${rest[0]}:${rest[1]}::${rest[5]}:${rest[6]}` : [first, ...rest].join(':'),
  );

const jwtPart = (json: string) => Buffer.from(json).toString('base64url');
const jwt = (withAlg: boolean) =>
  fc
    .record({
      alg: fc.constantFrom('HS256', 'RS256', 'ES256'),
      sub: chars(B62, 6, 12),
      signature: chars(`${B62}_-`, 43),
    })
    .map(({ alg, sub, signature }) =>
      [
        jwtPart(withAlg ? `{"alg":"${alg}","typ":"JWT"}` : '{"typ":"JWT","kid":"k1"}'),
        jwtPart(`{"sub":"${sub}","iat":1717171717}`),
        signature,
      ].join('.'),
    );

const pem = (kind: string) =>
  fc
    .array(chars(`${B62}+/`, 64), { minLength: 2, maxLength: 4 })
    .map((lines) => [`-----BEGIN ${kind}-----`, ...lines, `-----END ${kind}-----`].join('\n'));

const SECRET_KEYWORDS = ['password', 'db_password', 'api_key', 'apiKey', 'token', 'client_secret', 'PASSWD'];
/** A credential-looking value: mixed classes, high entropy, no placeholder words. */
const secretValue = fc
  .tuple(chars(B62, 6, 10), chars('!#%*+-', 1, 2), chars(B62, 5, 9))
  .map((parts) => parts.join(''))
  .filter((s) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s));
const assignment = fc.constantFrom(' = ', '=', ': ', ':', ' := ', '="', "='", '": "');

/** The AWS key's own names, as configuration files, SDK output and CLIs write them. */
const AWS_SECRET_NAMES = [
  'aws_secret_access_key=',
  'aws_secret_access_key = ',
  'AWS_SECRET_ACCESS_KEY: ',
  'export AWS_SECRET_ACCESS_KEY=',
  '"SecretAccessKey": "',
  '"SecretAccessKey":"',
  '--aws-secret-access-key ',
  'AwsSecretKey=',
];

export interface DetectorCases {
  /** Values the detector must find, in the form they are written (the text to plant). */
  positives: fc.Arbitrary<{ text: string; value: string }>;
  /** Text the detector must not report. */
  nearMisses: fc.Arbitrary<string>;
}

const plain = (arb: fc.Arbitrary<string>) => arb.map((value) => ({ text: value, value }));

/** Every detector's cases; a Record so that a new FindingType does not compile without them. */
export const CASES: Record<FindingType, DetectorCases> = {
  AWS_ACCESS_KEY_ID: {
    positives: plain(
      fc.tuple(fc.constantFrom('AK', 'AS'), chars(B32, 16)).map(([p, rest]) => join(p, 'IA', rest)),
    ),
    nearMisses: fc.oneof(
      fc.tuple(fc.constantFrom('AK', 'AS'), chars(B32, 15)).map(([p, rest]) => join(p, 'IA', rest)),
      chars(B32, 16).map((rest) => join('ak', 'ia', rest.toLowerCase())),
      chars(B32, 16).map((rest) => join('AK', 'IB', rest)),
    ),
  },
  AWS_SECRET_ACCESS_KEY: {
    positives: fc
      .tuple(fc.constantFrom(...AWS_SECRET_NAMES), mixedBase64(40))
      .map(([name, value]) => ({ text: `${name}${value}${name.endsWith('"') ? '"' : ''}`, value })),
    nearMisses: fc.oneof(
      // A git SHA or another hex digest after the name: one case, no key.
      fc
        .tuple(fc.constantFrom('aws_secret_access_key_sha1: ', 'Secret digest '), chars(HEX, 40))
        .map((p) => p.join('')),
      // No AWS name anywhere near.
      mixedBase64(40).map((v) => `checksum ${v}`),
    ),
  },
  PRIVATE_KEY: {
    positives: plain(
      fc.constantFrom('RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY').chain(pem),
    ),
    nearMisses: fc.constantFrom('PUBLIC KEY', 'CERTIFICATE', 'RSA PUBLIC KEY').chain(pem),
  },
  GITHUB_TOKEN: {
    positives: plain(
      fc.oneof(
        fc
          .tuple(fc.constantFrom('p', 'o', 'u', 's', 'r'), chars(B62, 36))
          .map(([k, rest]) => join('gh', k, '_', rest)),
        fc.tuple(chars(B62, 22), chars(B62, 59)).map(([a, b]) => join('github', '_pat_', a, '_', b)),
      ),
    ),
    nearMisses: fc.oneof(
      chars(B62, 30).map((rest) => join('gh', 'p_', rest)),
      chars(B62, 36).map((rest) => join('gh', 'x_', rest)),
    ),
  },
  SLACK_TOKEN: {
    positives: plain(
      fc
        .tuple(fc.constantFrom('b', 'p', 'a'), digits(12), digits(13), chars(B62, 24))
        .map(([k, a, b, c]) => join('xo', 'x', k, '-', a, '-', b, '-', c)),
    ),
    nearMisses: fc.oneof(
      chars(B62, 8).map((rest) => join('xo', 'xb-', rest)),
      chars(B62, 24).map((rest) => join('xo', 'xz-', rest)),
    ),
  },
  SLACK_WEBHOOK: {
    positives: plain(
      fc
        .tuple(chars(B32, 10), chars(B32, 10), chars(B62, 24))
        .map(([t, b, s]) => join('https://hooks.', 'slack.com/services/T', t, '/B', b, '/', s)),
    ),
    nearMisses: fc.oneof(
      chars(B32, 8).map((t) => join('https://hooks.', 'slack.com/services/T', t)),
      chars(B62, 24).map((s) => join('https://api.', 'slack.com/services/', s)),
    ),
  },
  STRIPE_KEY: {
    positives: plain(
      fc
        .tuple(fc.constantFrom('sk', 'rk'), chars(B62, 24, 32))
        .map(([k, rest]) => join(k, '_li', 've_', rest)),
    ),
    nearMisses: fc.oneof(
      chars(B62, 12).map((rest) => join('sk', '_li', 've_', rest)),
      chars(B62, 24).map((rest) => join('sk', '_prod_', rest)),
    ),
  },
  GOOGLE_API_KEY: {
    positives: plain(chars(`${B62}_-`, 35).map((rest) => join('AI', 'za', rest))),
    nearMisses: chars(`${B62}_-`, 30).map((rest) => join('AI', 'za', rest)),
  },
  JWT: { positives: plain(jwt(true)), nearMisses: jwt(false) },
  GENERIC_SECRET: {
    positives: fc
      .tuple(fc.constantFrom(...SECRET_KEYWORDS), assignment, secretValue)
      .map(([keyword, op, value]) => ({
        text: `${keyword}${op}${value}${op.endsWith('"') ? '"' : op.endsWith("'") ? "'" : ''}`,
        value,
      })),
    nearMisses: fc.oneof(
      fc
        .tuple(
          fc.constantFrom(...SECRET_KEYWORDS),
          assignment,
          fc.constantFrom(
            'changeme',
            '<YOUR_API_KEY>',
            '********',
            'xxxxxxxxxx',
            'your-token-here',
            'REDACTED',
          ),
        )
        .map((p) => p.join('')),
      fc.constantFrom('password: please use the reset link', 'token: authentication', 'the secret: patience'),
    ),
  },
  EMAIL: {
    positives: plain(
      fc
        .tuple(
          chars('abcdefghijklmnopqrstuvwxyz', 2, 8),
          fc.constantFrom('.', '_', '+', ''),
          chars('abcdefghij0123', 1, 6),
          chars('abcdefghijklmnopqrstuvwxyz', 3, 10),
          fc.constantFrom('com', 'net', 'io', 'co.uk', 'de'),
        )
        .map(([a, sep, b, domain, tld]) => `${a}${sep}${b}@${domain}-mail.${tld}`),
    ),
    nearMisses: fc
      .tuple(chars('abcdefghijklmnopqrstuvwxyz', 2, 8), chars('abcdefghijklmnopqrstuvwxyz', 3, 10))
      .chain(([a, d]) =>
        fc.constantFrom(`${a}@${d}`, `@${d}.com`, `${a}@.com`, `${a}.@${d}.com`, `${a}@@${d}.com`),
      ),
  },
  PHONE: {
    positives: plain(fc.oneof({ weight: 4, arbitrary: nanp }, { weight: 1, arbitrary: international })),
    nearMisses: fc.oneof(
      // Nine digits, an area code that cannot exist, a bare run of ten digits.
      fc.tuple(fc.constantFrom(...AREA_CODES), digits(3), digits(3)).map(([a, b, c]) => `(${a}) ${b}-${c}`),
      fc.tuple(digits(3), digits(4)).map(([b, c]) => `(115) 7${b.slice(1)}-${c}`),
      fc.tuple(fc.constantFrom(...AREA_CODES), digits(7)).map(([a, b]) => `${a}${b}`),
    ),
  },
  CARD_NUMBER: {
    positives: plain(card(true)),
    nearMisses: fc.oneof(
      card(false),
      // Luhn-valid, but no network issues numbers starting with 1 or 9.
      fc
        .tuple(fc.constantFrom('1', '9'), digits(14))
        .map(([p, d]) => grouped(p + d + luhnDigit(p + d), [4, 4, 4, 4], ' ')),
    ),
  },
  US_SSN: {
    positives: fc.oneof(
      plain(ssn(true)),
      ssn(true).map((s) => ({ text: `SSN ${s.replace(/\D/g, '')}`, value: s.replace(/\D/g, '') })),
    ),
    nearMisses: fc.oneof(
      ssn(false),
      // Nine bare digits with no word saying it is an SSN.
      ssn(true).map((s) => `order ${s.replace(/\D/g, '')}`),
    ),
  },
  IBAN: { positives: plain(iban(true)), nearMisses: iban(false) },
  IPV4: {
    positives: plain(publicIpv4),
    nearMisses: fc.oneof(
      fc
        .tuple(fc.integer({ min: 256, max: 999 }), fc.integer({ min: 0, max: 255 }))
        .map(([a, b]) => `${a}.${b}.1.1`),
      fc
        .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 20 }))
        .map(([a, b]) => `version ${a}.${b}.0.1`),
      publicIpv4.map((ip) => `${ip}.7`),
    ),
  },
  IPV6: {
    positives: plain(ipv6),
    nearMisses: fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([h, m]) => `at ${h}:${String(m).padStart(2, '0')}:07`),
      chars(HEX, 12).map((h) => `MAC ${h.replace(/(..)(?=.)/g, '$1:')}`),
      fc.tuple(chars(HEX, 4), chars(HEX, 4)).map(([a, b]) => `ratio ${a}::${b}::1`),
    ),
  },
};

/** What stands before a value: quantities, dates, CVVs, other numbers, punctuation, escapes, spaces. */
const BEFORE = [
  '',
  'qty 1 ',
  'Order #12 ',
  'seat 3 ',
  'room 12 ',
  'Visa ',
  'exp 12/27 ',
  'CVV 123 ',
  'on 2024-03-13 ',
  'at 10:30 ',
  '$1,299.00 ',
  '3 x ',
  'ID 4711 ',
  'see:',
  '(',
  '"',
  "'",
  '[',
  '<',
  'x=',
  'https://app.example/?q=',
  '%20',
  '\n',
  '\r\n',
  '\t',
  '\u00a0',
  '\u2009',
  '\u202f',
  '\u3000',
  ' — ',
  ', ',
  '; ',
];
/** What follows a value. */
const AFTER = [
  '',
  ' 12/27',
  ' CVV 123',
  ' exp 03/29',
  ' x2',
  ' on 2024-03-13',
  ' $45.10',
  ' qty 1',
  '.',
  ',',
  ';',
  ')',
  '"',
  "'",
  ']',
  '>',
  '!',
  '?',
  '&page=2',
  '%20',
  '%0A',
  '\n',
  '\r\n',
  '\t',
  '\u00a0',
  ' 42',
  ' #7',
];

const sentence = fc.constantFrom(
  'Please update my account',
  'Thanks, that is all',
  'Here are the details you asked for',
  'The order shipped',
  '',
);

/** A value in context: words, something just before, the value, something just after, words. */
export const inContext = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(sentence, fc.constantFrom(...BEFORE), text, fc.constantFrom(...AFTER), sentence)
    .map(([a, before, value, after, b]) => `${a}${a ? ' ' : ''}${before}${value}${after}${b ? ' ' : ''}${b}`);

/** Only the contexts: none of them may be reported by any detector. */
export const contextsAlone = fc
  .tuple(sentence, fc.constantFrom(...BEFORE), fc.constantFrom(...AFTER), sentence)
  .map((parts) => parts.join(' '));

const ESCAPABLE = /[@:.\-/ +_=]/;

/**
 * A JSON string literal of text; with `spell`, some characters (of the value too) are written as
 * `\uXXXX` escapes, which JSON.parse — and the model — read as the characters themselves.
 */
function jsonString(text: string, spell: number): string {
  const plain = JSON.stringify(text);
  if (spell === 0) return plain;
  let out = '"';
  let n = 0;
  for (let i = 1; i < plain.length - 1; i++) {
    const c = plain[i] as string;
    if (c === '\\') {
      out += c + plain[i + 1];
      i++;
      continue;
    }
    if (ESCAPABLE.test(c) && ++n % spell === 0) out += `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/** One bedrock-conversation-2024 record holding text in its user turn. */
export function record(text: string, spell = 0): string {
  return `{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":${jsonString(text, spell)}}]},{"role":"assistant","content":[{"text":"Noted."}]}]}`;
}

export interface Planted {
  type: FindingType;
  /** A positive (the value must be found and redacted) or a near miss (nothing of `type` reported). */
  positive: boolean;
  /** The value as the model reads it (decoded). */
  value: string;
  line: string;
}

/** `count` positives and `count` near misses per detector, reproducible from `seed`. */
export function plantedCases(seed: number, count: number): Planted[] {
  const out: Planted[] = [];
  let k = 0;
  for (const [type, cases] of Object.entries(CASES) as [FindingType, DetectorCases][]) {
    const positives = fc.sample(
      fc.tuple(
        cases.positives.chain((p) => inContext(fc.constant(p.text)).map((t) => ({ ...p, t }))),
        fc.integer({ min: 0, max: 4 }),
      ),
      { seed: seed + k++, numRuns: count },
    );
    for (const [p, spell] of positives) {
      out.push({ type, positive: true, value: p.value, line: record(p.t, spell === 4 ? 3 : 0) });
    }
    const misses = fc.sample(fc.tuple(inContext(cases.nearMisses), fc.integer({ min: 0, max: 4 })), {
      seed: seed + k++,
      numRuns: count,
    });
    for (const [t, spell] of misses) {
      out.push({ type, positive: false, value: t, line: record(t, spell === 4 ? 3 : 0) });
    }
  }
  return out;
}

export interface DetectorFigures {
  type: FindingType;
  positives: number;
  found: number;
  nearMisses: number;
  reported: number;
  recall: number;
  falsePositiveRate: number;
}

/** The text of a sanitized record's strings, decoded, to look for a value left behind. */
function decodedStrings(line: string): string {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (typeof node === 'string') out.push(node);
    else if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') Object.values(node).forEach(visit);
  };
  visit(JSON.parse(line));
  return out.join('\n');
}

/**
 * Scans the planted cases as one file through scanTrainingData (policy redact, every severity
 * listed and redacted) and measures, per detector, recall (a positive counts when a finding of its
 * type is on its line and the sanitized copy no longer holds the value) and the false positive
 * rate (near misses on whose line a finding of the detector's type is reported).
 */
export async function measureDetection(
  planted: Planted[],
): Promise<{ figures: DetectorFigures[]; report: ScanReport; missed: Planted[]; falsePositives: Planted[] }> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (chunk: Buffer) => parts.push(chunk));
  const data = `${planted.map((p) => p.line).join('\n')}\n`;
  const report = await scanTrainingData(Readable.from([Buffer.from(data)]), {
    family: 'bedrock-conversation-2024',
    policy: 'redact',
    blockAtOrAbove: 'low',
    limits: { minRecords: 1, maxRecords: planted.length + 1 },
    redactTo: out,
    maxFindingsListed: Number.MAX_SAFE_INTEGER,
  });
  out.end();
  const sanitized = Buffer.concat(parts).toString('utf8').split('\n');
  const typesByLine = new Map<number, Set<FindingType>>();
  for (const f of report.findings) {
    const types = typesByLine.get(f.line) ?? new Set<FindingType>();
    types.add(f.type);
    typesByLine.set(f.line, types);
  }
  const missed: Planted[] = [];
  const falsePositives: Planted[] = [];
  const figures = new Map<FindingType, DetectorFigures>();
  for (const { type } of DETECTORS) {
    figures.set(type, {
      type,
      positives: 0,
      found: 0,
      nearMisses: 0,
      reported: 0,
      recall: 0,
      falsePositiveRate: 0,
    });
  }
  planted.forEach((p, i) => {
    const figure = figures.get(p.type) as DetectorFigures;
    const reported = typesByLine.get(i + 1)?.has(p.type) ?? false;
    if (p.positive) {
      figure.positives++;
      const left = decodedStrings(sanitized[i] ?? '{}').includes(p.value);
      if (reported && !left) figure.found++;
      else missed.push(p);
    } else {
      figure.nearMisses++;
      if (reported) {
        figure.reported++;
        falsePositives.push(p);
      }
    }
  });
  for (const f of figures.values()) {
    f.recall = f.positives ? f.found / f.positives : 0;
    f.falsePositiveRate = f.nearMisses ? f.reported / f.nearMisses : 0;
  }
  return { figures: [...figures.values()], report, missed, falsePositives };
}
