import { createHash } from 'node:crypto';
import {
  formatProblem,
  type ScanOptions,
  type ScanReport,
  scanTrainingData,
  summarize,
} from '../../../functions/shared/guard';
import { chunked, cleanConversations, conversation, fake } from './fixtures';

const base: ScanOptions = { family: 'bedrock-conversation-2024', policy: 'block', limits: { minRecords: 1 } };

function scan(
  data: string | Buffer,
  options: Partial<ScanOptions> = {},
  chunkSize = 64 * 1024,
): Promise<ScanReport> {
  return scanTrainingData(chunked(data, chunkSize), {
    ...base,
    ...options,
    limits: { ...base.limits, ...options.limits },
  });
}

const problems = (report: ScanReport) => report.problems.map(formatProblem);

describe('file structure', () => {
  it('reports an empty file', async () => {
    const report = await scan('');
    expect(problems(report)).toEqual(['the file is empty']);
    expect(report.verdict).toBe('invalid');
    expect(report.records).toBe(0);
  });

  it('reports a BOM at the start, even split across chunks, and still checks line 1', async () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(cleanConversations(2))]);
    for (const size of [1, 2, 64 * 1024]) {
      const report = await scan(data, {}, size);
      expect(problems(report)).toEqual([
        'line 1: the file starts with a UTF-8 byte-order mark, which Bedrock reads as part of the first record; save it as UTF-8 without BOM',
      ]);
      expect(report.validRecords).toBe(2);
    }
  });

  it('keeps bytes that only look like the start of a BOM', async () => {
    const report = await scan(Buffer.from([0xef, 0xbb, 0x0a]));
    expect(problems(report)).toEqual([
      'line 1: is not valid UTF-8; save the file as UTF-8',
      'line 1: not valid JSON: each line must be one JSON object',
    ]);
  });

  it('reports CRLF once, with the number of lines affected', async () => {
    const report = await scan(cleanConversations(3).replace(/\n/g, '\r\n'));
    expect(problems(report)).toEqual([
      'line 1: ends with CRLF (Windows line ending), as do 2 more lines; Bedrock expects LF',
    ]);
    expect(report.problemCounts).toEqual({ error: 0, warning: 1 });
    expect(report.validRecords).toBe(3);
  });

  it('reports blank lines without counting them as records', async () => {
    const [a, b] = cleanConversations(2).split('\n');
    const report = await scan(`${a}\n\n${b}\n   \n`);
    expect(problems(report)).toEqual([
      'line 2: blank line: Bedrock expects one JSON record on every line',
      'line 4: blank line: Bedrock expects one JSON record on every line',
    ]);
    expect(report.records).toBe(2);
    expect(report.lines).toBe(4);
  });

  it('reports invalid UTF-8 on its line and still scans the rest of it', async () => {
    const good = conversation('hello');
    const bad = Buffer.concat([
      Buffer.from(
        `{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"caf`,
      ),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(` ${fake.email}"}]},{"role":"assistant","content":[{"text":"ok"}]}]}`),
    ]);
    const report = await scan(Buffer.concat([Buffer.from(`${good}\n`), bad, Buffer.from(`\n${good}\n`)]));
    expect(problems(report)).toEqual(['line 2: is not valid UTF-8; save the file as UTF-8']);
    expect(report.findings.map((f) => [f.type, f.line])).toEqual([['EMAIL', 2]]);
  });

  it('reads a last line without a trailing newline', async () => {
    const report = await scan(cleanConversations(2).trimEnd());
    expect(report.records).toBe(2);
    expect(report.validRecords).toBe(2);
    expect(problems(report)).toEqual([]);
  });

  it('gives the same report whatever the chunk size', async () => {
    const data = `${cleanConversations(5)}\n${conversation(`card ${fake.card}`)}\r\n{broken\n${conversation(`mail ${fake.email}`)}`;
    const reference = await scan(data, {}, 1 << 20);
    for (const size of [1, 3, 17, 4096]) {
      expect(await scan(data, {}, size)).toEqual(reference);
    }
  });

  it('hashes exactly the bytes read and reports progress', async () => {
    const data = cleanConversations(50);
    const seen: number[] = [];
    const report = await scan(data, { onProgress: (n) => seen.push(n) }, 1000);
    expect(report.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(report.bytes).toBe(Buffer.byteLength(data));
    expect(seen[seen.length - 1]).toBe(report.bytes);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('hashes large inputs identically on the hashing thread', async () => {
    const data = cleanConversations(60_000); // > 4 MiB: the hash moves to a worker thread
    const report = await scan(data, {}, 64 * 1024);
    expect(report.sha256).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('accepts async iterables of Uint8Array and string chunks', async () => {
    async function* source() {
      yield new Uint8Array(Buffer.from(cleanConversations(1)));
      yield cleanConversations(1);
    }
    const report = await scanTrainingData(source() as AsyncIterable<Buffer>, base);
    expect(report.validRecords).toBe(2);
  });
});

describe('dataset limits', () => {
  it('reports too few and too many records', async () => {
    expect(problems(await scan(cleanConversations(2), { limits: { minRecords: 3 } }))).toEqual([
      '2 records, fewer than the minimum of 3 for bedrock-conversation-2024 training data',
    ]);
    expect(problems(await scan(cleanConversations(4), { limits: { maxRecords: 2 } }))).toEqual([
      'line 3: is record 3, over the maximum of 2 records',
    ]);
  });

  it('uses the family defaults when no limit is overridden', async () => {
    const report = await scanTrainingData(chunked(cleanConversations(2), 1024), {
      family: 'claude-messages',
      policy: 'report',
    });
    expect(report.limits.minRecords).toBe(32);
    expect(problems(report)).toContain(
      '2 records, fewer than the minimum of 32 for Claude messages training data',
    );
  });

  it('reports a file over the size limit', async () => {
    const data = cleanConversations(3);
    const report = await scan(data, { limits: { maxFileBytes: 100 } });
    expect(problems(report)).toContain(
      `${Buffer.byteLength(data).toLocaleString('en-US')} bytes, over the 100-byte maximum for a training file`,
    );
  });

  it('estimates tokens at 6 characters each and reports records over the limit', async () => {
    const long = 'x'.repeat(600);
    const report = await scan(`${conversation('short')}\n${conversation(long, 'y'.repeat(60))}\n`, {
      limits: { maxTokensPerRecord: 100 },
    });
    expect(problems(report)).toEqual([
      'line 2: has about 110 tokens (660 characters / 6), over the 100-token limit',
    ]);
    expect(report.estimatedTokens.maxPerRecord).toBe(110);
  });

  it('does not hold a line longer than the maximum, yet scans it for secrets', async () => {
    const filler = 'lorem ipsum '.repeat(20_000);
    const line = `{"prompt": "${filler} ${fake.githubToken} ${filler}", "completion": "x"}`;
    const report = await scan(
      `${conversation('first')}\n${line}\n${conversation('third')}\n`,
      {
        limits: { maxLineBytes: 64 * 1024 },
      },
      8192,
    );
    expect(problems(report)).toEqual([
      `line 2: is ${Buffer.byteLength(line).toLocaleString('en-US')} bytes, over the 65,536-byte maximum for one record; it was scanned for secrets but not parsed`,
    ]);
    expect(report.findings.map((f) => [f.type, f.line, f.column])).toEqual([
      ['GITHUB_TOKEN', 2, line.indexOf(fake.githubToken) + 1],
    ]);
    expect(report.records).toBe(3);
    expect(report.validRecords).toBe(2);
  });
});

describe('verdicts and policies', () => {
  const leaky = `${cleanConversations(2)}${conversation(`my card is ${fake.card}`)}\n`;
  const lowOnly = `${cleanConversations(2)}${conversation(`server ${fake.ipv4}`)}\n`;

  it.each([
    ['block', leaky, 'block'],
    ['redact', leaky, 'redact'],
    ['report', leaky, 'pass'],
    ['block', lowOnly, 'pass'],
  ] as const)('policy %s gives the expected verdict', async (policy, data, verdict) => {
    expect((await scan(data, { policy })).verdict).toBe(verdict);
  });

  it('lets blockAtOrAbove decide what blocks', async () => {
    expect((await scan(lowOnly, { blockAtOrAbove: 'low' })).verdict).toBe('block');
    expect((await scan(leaky, { blockAtOrAbove: 'critical' })).verdict).toBe('pass');
  });

  it('quarantines sensitive data even when it is also malformed, under block', async () => {
    const report = await scan(`{not json ${fake.privateKey.replace(/\n/g, '\\n')}\n`);
    expect(report.verdict).toBe('block');
    expect(report.findings.map((f) => f.type)).toEqual(['PRIVATE_KEY']);
  });

  it('says invalid before redact when the data is malformed', async () => {
    expect((await scan(`${leaky}{oops\n`, { policy: 'redact' })).verdict).toBe('invalid');
  });
});

describe('findings', () => {
  it('locate each finding by line, field and column', async () => {
    const report = await scan(
      `${conversation('hi')}\n${conversation('fine', `reach me at ${fake.email} or ${fake.phone}`, `key ${fake.awsAccessKeyId}`)}\n`,
    );
    expect(report.findings).toEqual([
      {
        type: 'AWS_ACCESS_KEY_ID',
        severity: 'high',
        line: 2,
        column: 5,
        field: 'system[0].text',
        preview: 'AKIA************' + fake.awsAccessKeyId.slice(-4),
      },
      {
        type: 'EMAIL',
        severity: 'medium',
        line: 2,
        column: 13,
        field: 'messages[1].content[0].text',
        preview: 'j***@***.com',
      },
      {
        type: 'PHONE',
        severity: 'medium',
        line: 2,
        column: 42,
        field: 'messages[1].content[0].text',
        preview: '(***) ***-**09',
      },
    ]);
  });

  it('finds key=value secrets in every form a JSONL line can hold them', async () => {
    const texts = [
      `token: ${fake.password}`,
      `the config says "api_key": "${fake.password}" here`,
      `db_password=${fake.password}`,
      `Authorization: Bearer ${fake.password}xy`,
      'meeting at 10:30: agenda attached', // colons, no keyword: nothing
    ];
    const report = await scan(texts.map((t) => conversation(t)).join('\n'));
    expect(report.findings.map((f) => [f.type, f.line])).toEqual([
      ['GENERIC_SECRET', 1],
      ['GENERIC_SECRET', 2],
      ['GENERIC_SECRET', 3],
      ['GENERIC_SECRET', 4],
    ]);
  });

  it('suppresses allow-listed values and patterns, and counts them', async () => {
    const data = `${conversation(`mail ${fake.email} and support@tunevault.dev`)}\n`;
    const report = await scan(data, { allowList: { values: [fake.email], patterns: ['@tunevault\\.dev$'] } });
    expect(report.totalFindings).toBe(0);
    expect(report.suppressed).toBe(2);
    expect(report.verdict).toBe('pass');
  });

  it('accepts RegExp objects in the allow-list, global flag or not', async () => {
    const data = `${conversation(`a ${fake.email}`)}\n${conversation(`b ${fake.email}`)}\n`;
    const report = await scan(data, { allowList: { patterns: [/acme-payroll\.com$/g] } });
    expect(report.suppressed).toBe(2);
  });

  it('caps the lists but keeps the counts exact', async () => {
    const data = Array.from(
      { length: 30 },
      (_, i) => `${conversation(`${fake.email} ${i}`)}\n{bad ${i}\n`,
    ).join('');
    const report = await scan(data, { maxFindingsListed: 5, maxProblemsListed: 4 });
    expect(report.findings).toHaveLength(5);
    expect(report.totalFindings).toBe(30);
    expect(report.counts.byType.EMAIL).toBe(30);
    expect(report.problems).toHaveLength(4);
    expect(report.problemCounts.error).toBe(30);
  });

  it('never puts a raw value in the report', async () => {
    const values = Object.values(fake);
    const data = values.map((v) => conversation(`value ${v.replace(/\n/g, ' ')} here`)).join('\n');
    const report = await scan(data, { policy: 'report' });
    expect(report.totalFindings).toBeGreaterThanOrEqual(values.length - 3);
    const text = JSON.stringify(report);
    for (const value of values) {
      // PEM armour lines ("-----BEGIN RSA PRIVATE KEY-----") are shown on purpose: they are not secret.
      const pieces = value.split(/[\s\n]+/).filter((p) => p.length >= 8 && !p.includes('-----'));
      for (const piece of pieces) expect(text).not.toContain(piece);
    }
  });
});

describe('summarize', () => {
  it('stays small and holds no findings', async () => {
    const data = Array.from(
      { length: 200 },
      (_, i) => `${conversation(`${fake.email} ${'z'.repeat(500)}`)}\n{bad ${i} ${'q'.repeat(400)}\n`,
    ).join('');
    const report = await scan(data, { maxProblemsListed: 1000 });
    const summary = summarize(report);
    expect(Buffer.byteLength(JSON.stringify(summary))).toBeLessThan(8 * 1024);
    expect(summary).toMatchObject({
      verdict: 'invalid',
      records: 400,
      totalFindings: 200,
      problems: { error: 200, warning: 0 },
    });
    expect(summary.firstProblems).toHaveLength(5);
    expect(JSON.stringify(summary)).not.toContain(fake.email);
  });
});

describe('failures', () => {
  it('rejects with the source error, and leaves no helper thread running', async () => {
    async function* failing() {
      yield Buffer.from(cleanConversations(70_000)); // large enough to start the hashing thread
      throw new Error('connection reset');
    }
    await expect(
      scanTrainingData(failing() as AsyncIterable<Buffer>, { ...base, parallelism: 1 }),
    ).rejects.toThrow('connection reset');
  });

  it('rejects a source that yields something other than bytes or text', async () => {
    async function* odd() {
      yield 42;
    }
    await expect(scanTrainingData(odd() as unknown as AsyncIterable<Buffer>, base)).rejects.toThrow(
      'the source must yield Buffers, Uint8Arrays or strings',
    );
  });
});
