import {
  DETECTORS,
  type Detector,
  detectAll,
  type FindingType,
  luhnValid,
  type Severity,
  shannonEntropy,
} from '../../../functions/shared/guard';
import { fake } from './fixtures';

function detector(type: FindingType): Detector {
  const found = DETECTORS.find((d) => d.type === type);
  if (!found) throw new Error(`no detector ${type}`);
  return found;
}

/** The values one detector reports in text, with severity and example flag. */
function hits(type: FindingType, text: string): { value: string; severity: Severity; example: boolean }[] {
  return detector(type)
    .find(text)
    .map((m) => ({ value: text.slice(m.start, m.end), severity: m.severity, example: m.example }));
}

interface Case {
  type: FindingType;
  positives: { text: string; value: string; severity: Severity; example?: boolean }[];
  negatives: string[];
}

const cases: Case[] = [
  {
    type: 'AWS_ACCESS_KEY_ID',
    positives: [
      {
        text: `export AWS_ACCESS_KEY_ID=${fake.awsAccessKeyId}`,
        value: fake.awsAccessKeyId,
        severity: 'high',
      },
      {
        text: `id ${fake.awsExampleKeyId} from the docs`,
        value: fake.awsExampleKeyId,
        severity: 'low',
        example: true,
      },
    ],
    negatives: [
      'AKIA is a prefix, not a key',
      `X${fake.awsAccessKeyId}`, // glued to a word
      `${fake.awsAccessKeyId}Z`, // longer than 20 characters
      'akia1234567890abcdef lower case is not a key id',
    ],
  },
  {
    type: 'AWS_SECRET_ACCESS_KEY',
    positives: [
      {
        text: `aws_secret_access_key = ${fake.awsSecretKey}`,
        value: fake.awsSecretKey,
        severity: 'critical',
      },
      { text: `{"SecretAccessKey": "${fake.awsSecretKey}"}`, value: fake.awsSecretKey, severity: 'critical' },
      {
        text: `AWS secret access key: ${fake.awsExampleSecret}`,
        value: fake.awsExampleSecret,
        severity: 'low',
        example: true,
      },
    ],
    negatives: [
      `no keyword here ${fake.awsSecretKey}`,
      'aws_secret: 3f786850e387550fdab836ed7e6dc881de23001b (a git SHA: hex, one case)',
      `secret ${fake.awsSecretKey}X is 41 characters`,
    ],
  },
  {
    type: 'PRIVATE_KEY',
    positives: [
      { text: `key:\n${fake.privateKey}\nthanks`, value: fake.privateKey, severity: 'critical' },
      {
        text: 'A PEM file starts with -----BEGIN RSA PRIVATE KEY----- and ends with the END line.',
        value: '-----BEGIN RSA PRIVATE KEY-----',
        severity: 'low',
        example: true,
      },
    ],
    negatives: ['-----BEGIN CERTIFICATE-----\nMIIB', '-----BEGIN PUBLIC KEY-----', 'a ----- separator'],
  },
  {
    type: 'GITHUB_TOKEN',
    positives: [
      { text: `GH_TOKEN=${fake.githubToken}`, value: fake.githubToken, severity: 'high' },
      { text: `token ${fake.githubFineGrained} ok`, value: fake.githubFineGrained, severity: 'high' },
      { text: `ghp_${'x'.repeat(36)}`, value: `ghp_${'x'.repeat(36)}`, severity: 'low', example: true },
    ],
    negatives: ['ghp_short', 'the ghp_ prefix marks personal tokens', `xghp_${'A1b2'.repeat(9)}`],
  },
  {
    type: 'SLACK_TOKEN',
    positives: [{ text: `SLACK_BOT_TOKEN=${fake.slackToken}`, value: fake.slackToken, severity: 'high' }],
    negatives: ['xoxb-', 'the xoxo greeting'],
  },
  {
    type: 'SLACK_WEBHOOK',
    positives: [{ text: `post to ${fake.slackWebhook} now`, value: fake.slackWebhook, severity: 'high' }],
    negatives: ['https://hooks.slack.com/ is where webhooks live', 'https://slack.com/services/help'],
  },
  {
    type: 'STRIPE_KEY',
    positives: [
      { text: `STRIPE_SECRET=${fake.stripeLive}`, value: fake.stripeLive, severity: 'critical' },
      { text: `restricted ${fake.stripeRestricted}`, value: fake.stripeRestricted, severity: 'high' },
      { text: `publishable ${fake.stripePublishable}`, value: fake.stripePublishable, severity: 'low' },
    ],
    negatives: ['sk_live_ is the live prefix', 'task_live_update_flag'],
  },
  {
    type: 'GOOGLE_API_KEY',
    positives: [{ text: `key=${fake.googleApiKey}&q=1`, value: fake.googleApiKey, severity: 'high' }],
    negatives: ['AIza alone', `AIza${'b'.repeat(20)}`],
  },
  {
    type: 'JWT',
    positives: [{ text: `Authorization: Bearer ${fake.jwt}`, value: fake.jwt, severity: 'high' }],
    negatives: [
      // Three base64url parts whose header is not JSON with "alg".
      `${Buffer.from('{"typ":"JWT"}').toString('base64url')}.eyJzdWIiOiIxIn0.c2ln`,
      'eyJ is how base64 JSON starts',
    ],
  },
  {
    type: 'GENERIC_SECRET',
    positives: [
      { text: `db_password = "${fake.password}"`, value: fake.password, severity: 'high' },
      { text: `{"api_key": "${fake.password}"}`, value: fake.password, severity: 'high' },
      { text: `Authorization: Bearer ${fake.password}ab`, value: `${fake.password}ab`, severity: 'high' },
    ],
    negatives: [
      'password: please use the reset link',
      'token: authentication', // one character class: prose
      'password = "changeme123"', // placeholder
      'api_key: <YOUR_API_KEY>',
      `secret: ${'$'}{SECRET_FROM_ENV}`, // a template placeholder, written so no linter mistakes it for one
      'password == other_password',
      'the meeting is at 10:30 and the key point is speed',
    ],
  },
  {
    type: 'EMAIL',
    positives: [
      { text: `write to ${fake.email}.`, value: fake.email, severity: 'medium' },
      { text: `e.g. ${fake.exampleEmail}`, value: fake.exampleEmail, severity: 'low', example: true },
    ],
    negatives: ['@mention in chat', 'user@localhost-only', 'a@b', 'price: 3@5 each', 'john.@example.com'],
  },
  {
    type: 'PHONE',
    positives: [
      { text: `call ${fake.phone} today`, value: fake.phone, severity: 'medium' },
      { text: 'London +44 20 7946 0958', value: '+44 20 7946 0958', severity: 'medium' },
      { text: `fiction ${fake.fictionalPhone}`, value: fake.fictionalPhone, severity: 'low', example: true },
    ],
    negatives: [
      'order 4155550123 shipped', // a bare run of digits
      'released 2024-03-13 10:30',
      'version 10.20.30.40',
      'total 1,234,567.89 dollars',
      'call 555-0143', // no area code
    ],
  },
  {
    type: 'CARD_NUMBER',
    positives: [
      { text: `card ${fake.card} exp 12/29`, value: fake.card, severity: 'high' },
      { text: 'amex 3782-822463-10005', value: '3782-822463-10005', severity: 'low', example: true },
      { text: `test ${fake.testCard}`, value: fake.testCard, severity: 'low', example: true },
    ],
    negatives: [
      '4556 7375 8689 9856', // fails Luhn
      '1234 5678 9012 3452', // passes Luhn, no card network issues 1…
      '0000 0000 0000 0000',
      'phone 4155550123 and 4155550124',
      '4556-7375 8689-9855', // mixed separators
    ],
  },
  {
    type: 'US_SSN',
    positives: [
      { text: `SSN ${fake.ssn}.`, value: fake.ssn, severity: 'high' },
      { text: 'ssn: 219384417', value: '219384417', severity: 'high' },
      { text: `like ${fake.exampleSsn}`, value: fake.exampleSsn, severity: 'low', example: true },
    ],
    negatives: [
      '000-12-3456',
      '666-12-3456',
      '912-12-3456',
      '219-00-4417',
      '219-38-0000',
      '219-38 4417', // mixed separators
      'order 219384417', // bare digits without the word
    ],
  },
  {
    type: 'IBAN',
    positives: [
      { text: `pay to ${fake.iban} please`, value: fake.iban, severity: 'medium' },
      { text: 'GB33BUKB20201555555555', value: 'GB33BUKB20201555555555', severity: 'medium' },
      { text: `e.g. ${fake.exampleIban}`, value: fake.exampleIban, severity: 'low', example: true },
    ],
    negatives: ['GB34 BUKB 2020 1555 5555 55', 'AB12 3456 7890 1234', 'DE89 3704 0044 0532 0130 001'],
  },
  {
    type: 'IPV4',
    positives: [
      { text: `host ${fake.ipv4}.`, value: fake.ipv4, severity: 'low' },
      { text: 'docs use 192.0.2.10', value: '192.0.2.10', severity: 'low', example: true },
    ],
    negatives: ['version 1.2.3.4', 'v10.0.0.1', '999.1.1.1', '1.2.3.4.5', '01.02.03.04'],
  },
  {
    type: 'IPV6',
    positives: [
      { text: `bind ${fake.ipv6}`, value: fake.ipv6, severity: 'low' },
      { text: 'loopback ::1 only', value: '::1', severity: 'low', example: true },
    ],
    negatives: ['at 12:30:45 sharp', 'MAC 00:1a:2b:3c:4d:5e', 'ratio 3:4', 'a::b::c'],
  },
];

describe('detectors', () => {
  for (const c of cases) {
    describe(c.type, () => {
      it.each(c.positives)('finds the value in "$text"', ({ text, value, severity, example }) => {
        expect(hits(c.type, text)).toEqual([{ value, severity, example: example ?? false }]);
      });

      it.each(c.negatives)('reports nothing in %j', (text) => {
        expect(hits(c.type, text)).toEqual([]);
      });
    });
  }

  it('covers every detector with cases', () => {
    expect(new Set(cases.map((c) => c.type))).toEqual(new Set(DETECTORS.map((d) => d.type)));
  });

  it('keeps one finding per span: a card number is not also a phone number', () => {
    const text = `card ${fake.card} and ${fake.jwt}`;
    expect(detectAll(text).map((m) => m.type)).toEqual(['CARD_NUMBER', 'JWT']);
  });

  it('prefers the more severe of two overlapping matches', () => {
    // A JWT after "Bearer" is also a generic bearer token; both are high, the specific one is kept.
    expect(detectAll(`Authorization: Bearer ${fake.jwt}`).map((m) => m.type)).toEqual(['JWT']);
  });
});

describe('helpers', () => {
  it('computes Luhn', () => {
    expect(luhnValid('4556737586899855')).toBe(true);
    expect(luhnValid('4556737586899856')).toBe(false);
  });

  it('computes Shannon entropy in bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
    expect(shannonEntropy('xxabcdxx', 2, 6)).toBeCloseTo(2);
  });
});
