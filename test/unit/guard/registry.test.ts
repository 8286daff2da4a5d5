/**
 * The registry: every registered detector is switched on by its own gate and finds its values
 * through the whole scan path (stream → line gate → fast path or JSON.parse → detectors →
 * report and redaction), so a detector cannot be silently off while its own unit tests pass.
 */
import { PassThrough, Readable } from 'node:stream';
import {
  DETECTORS,
  defineDetector,
  detectAll,
  type FindingType,
  lineGateMask,
  type ScanReport,
  scanTrainingData,
} from '../../../functions/shared/guard';
import { VIEW_BIT } from '../../../functions/shared/guard/registry';
import { cleanConversations, conversation, fake } from './fixtures';

/** Real-looking fixture values per type; a Record, so a new type does not compile without some. */
const SAMPLES: Record<FindingType, string[]> = {
  AWS_ACCESS_KEY_ID: [fake.awsAccessKeyId],
  AWS_SECRET_ACCESS_KEY: [
    `aws_secret_access_key=${fake.awsSecretKey}`,
    `{"SecretAccessKey": "${fake.awsSecretKey}"}`,
    `AWS_SECRET_ACCESS_KEY: ${fake.awsSecretKey}`,
  ],
  PRIVATE_KEY: [fake.privateKey],
  GITHUB_TOKEN: [fake.githubToken, fake.githubFineGrained],
  SLACK_TOKEN: [fake.slackToken],
  SLACK_WEBHOOK: [fake.slackWebhook],
  STRIPE_KEY: [fake.stripeLive, fake.stripeRestricted],
  GOOGLE_API_KEY: [fake.googleApiKey],
  JWT: [fake.jwt],
  GENERIC_SECRET: [`password: "${fake.password}"`, `db_password=${fake.password}`],
  EMAIL: [fake.email],
  PHONE: [fake.phone, '+44 20 7946 0958'],
  CARD_NUMBER: [fake.card, fake.card.replace(/ /g, ''), fake.card.replace(/ /g, '-')],
  US_SSN: [fake.ssn],
  IBAN: [fake.iban, fake.iban.replace(/ /g, '')],
  IPV4: [fake.ipv4],
  IPV6: [fake.ipv6],
};

/** The part of a sample that must not survive redaction. */
function secretPart(type: FindingType, sample: string): string {
  if (type === 'AWS_SECRET_ACCESS_KEY') return fake.awsSecretKey;
  if (type === 'GENERIC_SECRET') return fake.password;
  if (type === 'PRIVATE_KEY') return sample.split('\n')[1] as string;
  return sample;
}

async function scanRedacting(data: string): Promise<{ report: ScanReport; sanitized: string }> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (chunk: Buffer) => parts.push(chunk));
  const report = await scanTrainingData(Readable.from([Buffer.from(data)]), {
    family: 'bedrock-conversation-2024',
    policy: 'redact',
    blockAtOrAbove: 'low',
    redactTo: out,
  });
  out.end();
  return { report, sanitized: Buffer.concat(parts).toString('utf8') };
}

describe('the detector registry', () => {
  const cases = DETECTORS.flatMap((d) => SAMPLES[d.type].map((sample) => [d.type, sample] as const));

  it('has one entry per finding type', () => {
    expect(new Set(DETECTORS.map((d) => d.type)).size).toBe(DETECTORS.length);
    expect(new Set(DETECTORS.map((d) => d.type))).toEqual(new Set(Object.keys(SAMPLES)));
  });

  it.each(cases)(
    '%s: found through the whole scan path, gate included, and redacted',
    async (type, sample) => {
      const record = conversation(`hello, here it is: ${sample} - thanks`);
      // The line gate lets the detector run on this line …
      const bit = 1 << DETECTORS.findIndex((d) => d.type === type);
      expect(lineGateMask(record) & bit).toBe(bit);
      // … and the scan finds the value, with the right type, and leaves it out of the copy.
      const { report, sanitized } = await scanRedacting(`${cleanConversations(8)}${record}\n`);
      expect(report.findings.map((f) => [f.type, f.line])).toEqual([[type, 9]]);
      expect(report.verdict).toBe('redact');
      expect(sanitized).toContain(`<${type}>`);
      expect(sanitized).not.toContain(secretPart(type, sample));
      expect(JSON.stringify(report)).not.toContain(secretPart(type, sample));
    },
  );

  it.each(cases)('%s: found when its characters are written as JSON \\u escapes', async (type, sample) => {
    const text = `here: ${sample} ok`;
    const escaped = JSON.stringify(text).replace(
      /[@:._\-/ ]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    const record = conversation('PLACEHOLDER').replace('"PLACEHOLDER"', escaped);
    expect(JSON.parse(record).messages[0].content[0].text).toBe(text);
    const { report, sanitized } = await scanRedacting(`${record}\n`);
    expect(report.findings.map((f) => f.type)).toEqual([type]);
    expect(sanitized).not.toContain(secretPart(type, sample));
  });

  it('derives the gates from what a detector declares, and refuses triggers a JSON line would escape', () => {
    const find = () => [];
    const declared = defineDetector({ type: 'EMAIL', severity: 'low', triggers: ['x@y'], find });
    expect(declared.gate('a x@y b')).toBe(true);
    expect(declared.gate('a x@z b')).toBe(false);
    expect(declared.lineGate('{"text":"a x@y b"}')).toBe(true);
    expect(declared.lineLiterals).toEqual(['x@y']);
    expect(() => defineDetector({ type: 'EMAIL', severity: 'low', triggers: ['a"b'], find })).toThrow(
      'holds a character JSON escapes',
    );
    expect(() => defineDetector({ type: 'EMAIL', severity: 'low', find })).toThrow(
      'declare either triggers or a gate',
    );
  });

  it('switches every detector on for a line whose escapes or characters could hide a trigger', () => {
    const all = (1 << DETECTORS.length) - 1;
    for (const line of [
      '{"text":"a\\u0040b"}',
      '{"text":"a\\/b"}',
      '{"text":"a%40b"}',
      '{"text":"a\u00a0b"}',
    ]) {
      expect(lineGateMask(line) & all).toBe(all);
    }
    // A plain line switches off the detectors whose triggers it lacks.
    expect(lineGateMask(conversation('nothing to see here')) & all).not.toBe(all);
  });
});

describe('detectAll on overlapping matches', () => {
  const found = (text: string) => detectAll(text).map((m) => [m.type, m.severity, m.value]);

  it('keeps the match that holds the other whole, even when it is less severe: an SSN-shaped email local part', () => {
    // US_SSN (high) covers "219-38-4417"; EMAIL (medium) starts there and runs on.
    expect(found(`id 219-38-4417@acme-payroll.com`)).toEqual([
      ['EMAIL', 'medium', '219-38-4417@acme-payroll.com'],
    ]);
  });

  it('keeps the longer match over a more severe one it holds: a phone number in an example email', () => {
    // PHONE (medium) covers "415-867-5309"; the example email (low) holds it whole.
    expect(found('text 415-867-5309@example.com')).toEqual([['EMAIL', 'low', '415-867-5309@example.com']]);
  });

  it('on the same span, keeps the more severe match: a password that is an email address', () => {
    expect(found(`password: ${fake.email}`)).toEqual([['GENERIC_SECRET', 'high', fake.email]]);
  });

  it('on the same span and severity, keeps the detector listed first: an AWS key id given as a password', () => {
    expect(found(`password: ${fake.awsAccessKeyId}`)).toEqual([
      ['AWS_ACCESS_KEY_ID', 'high', fake.awsAccessKeyId],
    ]);
  });

  it('keeps an IPv4-mapped IPv6 address as one IPv6 finding, not the IPv4 address inside it', () => {
    expect(detectAll('host ::ffff:34.201.17.9 up').map((m) => [m.type, m.start, m.end])).toEqual([
      ['IPV6', 5, 23],
    ]);
  });

  it('on a partial overlap, keeps the more severe match and widens it over both values', () => {
    // A real phone number (medium) runs into an example email (low): one PHONE finding covers both.
    const text = 'call (415) 867-5309.someone@example.com';
    expect(detectAll(text).map((m) => [m.type, m.severity, m.start, m.end])).toEqual([
      ['PHONE', 'medium', 5, text.length],
    ]);
    // A fictional phone number (low) runs into a real email (medium): one EMAIL finding from the phone on.
    const other = `call (202) 555-0143.${fake.email}`;
    expect(detectAll(other).map((m) => [m.type, m.severity, m.start, m.end])).toEqual([
      ['EMAIL', 'medium', 5, other.length],
    ]);
  });

  it('on a partial overlap of equal severity, keeps the detector listed first, widened over both', () => {
    // PHONE and EMAIL are both medium; EMAIL is listed first.
    const text = `call (415) 867-5309.${fake.email}`;
    expect(detectAll(text).map((m) => [m.type, m.start, m.end])).toEqual([['EMAIL', 5, text.length]]);
  });

  it('keeps values that only touch as separate findings', () => {
    expect(found(`call (415) 867-5309/${fake.exampleEmail}`)).toEqual([
      ['PHONE', 'medium', '(415) 867-5309'],
      ['EMAIL', 'low', fake.exampleEmail],
    ]);
  });

  it('reads a mask with every bit set as every registered detector, views included', () => {
    const text = `mail jane.doe%40acme-payroll.com, card ${fake.card}`;
    expect(detectAll(text, -1)).toEqual(detectAll(text));
    expect(detectAll(text, -1).map((m) => m.type)).toEqual(['EMAIL', 'CARD_NUMBER']);
  });
});

describe('lineGateMask and detectAll: masks, views and match boundaries', () => {
  const all = (1 << DETECTORS.length) - 1;
  const bitOf = (type: FindingType) => 1 << DETECTORS.findIndex((d) => d.type === type);
  const switchedOn = (mask: number) => DETECTORS.filter((_, i) => mask & (1 << i)).map((d) => d.type);

  it('does not switch every detector on, nor the view, for a line whose only escape is a JSON \\n', () => {
    const line = conversation('first line\nsecond line');
    expect(line).toContain('\\n');
    const mask = lineGateMask(line);
    expect(mask & all).not.toBe(all);
    expect(mask & VIEW_BIT).toBe(0);
    // The same line with a `\u` or a `\/` escape added needs every detector and the view.
    for (const extra of ['\\u0040', '\\/']) {
      const escaped = line.replace('second line', `second${extra}line`);
      expect(lineGateMask(escaped)).toBe(all | VIEW_BIT);
    }
  });

  it('switches on a literal-gated detector only where its literal is spelled out, not wherever its anchor character is', () => {
    // `_` anchors the GitHub, Stripe and AWS literals; a snake_case word holds none of them.
    const plain = switchedOn(lineGateMask(conversation('rename snake_case fields in user_profile')));
    expect(plain).not.toContain('GITHUB_TOKEN');
    expect(plain).not.toContain('STRIPE_KEY');
    expect(plain).not.toContain('SLACK_WEBHOOK');
    const withToken = switchedOn(lineGateMask(conversation(`snake_case and ${fake.githubToken}`)));
    expect(withToken).toContain('GITHUB_TOKEN');
    expect(withToken).not.toContain('STRIPE_KEY');
  });

  it('does not decode backslash escapes in already-parsed text unless told it is a raw line', () => {
    const text = 'mail jane.doe\\u0040acme-payroll.com';
    expect(detectAll(text)).toEqual([]);
    expect(detectAll(text, undefined, true).map((m) => [m.type, m.value])).toEqual([['EMAIL', fake.email]]);
  });

  it('reads strings as they are when the mask leaves the view bit off: a %40 is not an @', () => {
    const text = 'mail jane.doe%40acme-payroll.com';
    expect(detectAll(text, all)).toEqual([]);
    expect(detectAll(text, all | VIEW_BIT).map((m) => [m.type, m.value])).toEqual([['EMAIL', fake.email]]);
  });

  it('runs only the detectors the mask switches on', () => {
    const text = `mail ${fake.email}, card ${fake.card}`;
    expect(detectAll(text, bitOf('CARD_NUMBER')).map((m) => m.type)).toEqual(['CARD_NUMBER']);
    expect(detectAll(text, bitOf('EMAIL')).map((m) => m.type)).toEqual(['EMAIL']);
    expect(detectAll(text, 0)).toEqual([]);
  });

  it('does not run a detector on a string its gate rejects', () => {
    const finds = DETECTORS.map((d) => jest.spyOn(d, 'find'));
    try {
      expect(detectAll('nothing to see here at all')).toEqual([]);
      for (const find of finds) expect(find).not.toHaveBeenCalled();
    } finally {
      for (const find of finds) find.mockRestore();
    }
  });

  it('keeps two values that touch end to start as two findings: an AWS key id right before a private key', () => {
    const text = `x ${fake.awsAccessKeyId}${fake.privateKey}`;
    expect(detectAll(text).map((m) => [m.type, m.start, m.end])).toEqual([
      ['AWS_ACCESS_KEY_ID', 2, 22],
      ['PRIVATE_KEY', 22, text.length],
    ]);
  });
});
