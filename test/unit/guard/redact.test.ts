import { PassThrough } from 'node:stream';
import { type ScanOptions, type ScanReport, scanTrainingData } from '../../../functions/shared/guard';
import { chunked, cleanConversations, conversation, fake } from './fixtures';

async function redact(
  data: string,
  options: Partial<ScanOptions> = {},
): Promise<{ report: ScanReport; sanitized: string }> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (chunk: Buffer) => parts.push(chunk));
  const report = await scanTrainingData(chunked(data, 4096), {
    family: 'bedrock-conversation-2024',
    policy: 'redact',
    limits: { minRecords: 1 },
    redactTo: out,
    ...options,
  });
  out.end();
  return { report, sanitized: Buffer.concat(parts).toString('utf8') };
}

const leakyValues = [
  fake.awsAccessKeyId,
  `aws_secret_access_key=${fake.awsSecretKey}`,
  fake.privateKey,
  fake.githubToken,
  fake.slackWebhook,
  fake.stripeLive,
  fake.googleApiKey,
  fake.jwt,
  `password: "${fake.password}"`,
  fake.email,
  fake.phone,
  fake.card,
  fake.ssn,
  fake.iban,
  fake.ipv4,
  fake.ipv6,
];

describe('redaction', () => {
  const leaky =
    cleanConversations(2) +
    leakyValues
      .map((v, i) =>
        conversation(`item ${i}: ${v} (end)`, `noted ${i}`, i % 3 === 0 ? `sys ${v}` : undefined),
      )
      .join('\n') +
    '\n';

  it('writes a sanitized copy: same records, valid JSON, typed placeholders', async () => {
    const { report, sanitized } = await redact(leaky);
    expect(report.verdict).toBe('redact');
    expect(report.redacted).toBe(true);
    const lines = sanitized.trimEnd().split('\n');
    expect(lines).toHaveLength(report.records);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(sanitized).toContain('<AWS_ACCESS_KEY_ID>');
    expect(sanitized).toContain('<EMAIL>');
    expect(sanitized).toContain('<PRIVATE_KEY>');
    expect(sanitized).toContain('"text":"item 9: <EMAIL> (end)"');
    // Clean lines are copied byte for byte.
    expect(lines.slice(0, 2).join('\n')).toBe(cleanConversations(2).trimEnd());
  });

  it('leaves nothing for a second scan to find', async () => {
    const first = await redact(leaky);
    expect(first.report.totalFindings).toBeGreaterThanOrEqual(leakyValues.length);
    const second = await redact(first.sanitized);
    expect(second.report.totalFindings).toBe(0);
    expect(second.report.verdict).toBe('pass');
    expect(second.sanitized).toBe(first.sanitized);
  });

  it('never writes a raw value to the sanitized copy or the report', async () => {
    const { report, sanitized } = await redact(leaky);
    const reportText = JSON.stringify(report);
    // Every planted value: the secrets themselves (not the names around them) and each line of
    // the private key's body.
    const planted = leakyValues
      .map((v) => v.replace(/^aws_secret_access_key=/, '').replace(/^password: "(.*)"$/, '$1'))
      .flatMap((v) => (v.includes('PRIVATE KEY') ? v.split('\n').filter((l) => !l.includes('-----')) : [v]));
    expect(planted).toHaveLength(leakyValues.length + 1);
    for (const value of planted) {
      expect([value, sanitized.includes(value)]).toEqual([value, false]);
      expect([value, reportText.includes(value)]).toEqual([value, false]);
    }
  });

  it('redacts a line that is not JSON without changing its structure', async () => {
    const broken = `{"prompt": "mail ${fake.email} and key ${fake.githubToken}", "completion": oops}`;
    const { report, sanitized } = await redact(`${cleanConversations(1)}${broken}\n`, { policy: 'redact' });
    expect(report.verdict).toBe('invalid');
    expect(sanitized.split('\n')[1]).toBe(
      '{"prompt": "mail <EMAIL> and key <GITHUB_TOKEN>", "completion": oops}',
    );
  });

  it('redacts exactly the value after a percent-escaped emoji (one character, two UTF-16 units)', async () => {
    // The view once gave such a character one offset for its two units, so every match after it
    // was redacted one character early: "j<EMAIL>today", the address's first letter kept.
    const line = conversation(`see %F0%9F%98%80 ${fake.githubToken} and ${fake.email} today`);
    const { sanitized } = await redact(`${line}\n`);
    expect(JSON.parse(sanitized).messages[0].content[0].text).toBe(
      'see %F0%9F%98%80 <GITHUB_TOKEN> and <EMAIL> today',
    );
  });

  it('keeps allow-listed values', async () => {
    const data = `${conversation(`write to ${fake.email} or ${fake.exampleEmail}`)}\n`;
    const { sanitized } = await redact(data, { allowList: { values: [fake.exampleEmail] } });
    expect(sanitized).toContain(fake.exampleEmail);
    expect(sanitized).not.toContain(fake.email);
  });

  it('redacts findings in field names and under "__proto__"', async () => {
    const line = `{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"a"}]},{"role":"assistant","content":[{"text":"b"}]}],"${fake.email}":1,"__proto__":"${fake.email}"}`;
    const { sanitized } = await redact(`${line}\n`);
    expect(sanitized).not.toContain(fake.email);
    expect(JSON.parse(sanitized)).toMatchObject({ '<EMAIL>': 1 });
  });

  it('writes nothing when the policy is not redact', async () => {
    const { sanitized, report } = await redact(leaky, { policy: 'block' });
    expect(sanitized).toBe('');
    expect(report.redacted).toBe(false);
  });
});
