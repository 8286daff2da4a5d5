/**
 * The registry: every registered detector is switched on by its own gate and finds its values
 * through the whole scan path (stream → line gate → fast path or JSON.parse → detectors →
 * report and redaction), so a detector cannot be silently off while its own unit tests pass.
 */
import { PassThrough, Readable } from 'node:stream';
import {
  DETECTORS,
  defineDetector,
  type FindingType,
  lineGateMask,
  type ScanReport,
  scanTrainingData,
} from '../../../functions/shared/guard';
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
