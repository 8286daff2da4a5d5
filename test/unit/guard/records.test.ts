/**
 * Direct tests of the record checks (records.ts): line handling, problems, findings, redaction
 * and token counts of small batches, and the exported helpers. Small inputs only: every case is
 * a line or a few, so a changed condition or constant fails here quickly.
 */
import * as fastpath from '../../../functions/shared/guard/fastpath';
import * as registry from '../../../functions/shared/guard/registry';
import {
  addCounts,
  type BatchResult,
  formatCount,
  type RecordScanConfig,
  RecordScanner,
  replaceMatches,
} from '../../../functions/shared/guard/records';
import type { FindingCounts } from '../../../functions/shared/guard/types';
import { conversation, fake, RECORD_SCAN_CONFIG } from './fixtures';

// The real fast path, wrapped so a test can see whether the scanner asked it at all.
jest.mock('../../../functions/shared/guard/fastpath', () => {
  const actual = jest.requireActual('../../../functions/shared/guard/fastpath');
  return { ...actual, plainRecordChars: jest.fn(actual.plainRecordChars) };
});
// The real detectors, wrapped so a test can make one fail.
jest.mock('../../../functions/shared/guard/registry', () => {
  const actual = jest.requireActual('../../../functions/shared/guard/registry');
  return { ...actual, detectAll: jest.fn(actual.detectAll) };
});

function config(over: Partial<RecordScanConfig> = {}): RecordScanConfig {
  return { ...RECORD_SCAN_CONFIG, ...over };
}

function scan(text: string | Buffer, firstLine = 1, over: Partial<RecordScanConfig> = {}): BatchResult {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return new RecordScanner(config(over)).scanBatch(bytes, firstLine);
}

/** A limit of `tokens` per record, the family's other limits unchanged. */
function tokenLimit(tokens: number): Pick<RecordScanConfig, 'limits'> {
  return { limits: { ...RECORD_SCAN_CONFIG.limits, maxTokensPerRecord: tokens } };
}

const SCHEMA_VERSION = 'bedrock-conversation-2024';
const USER_TEXT = 'messages[0].content[0].text';
const FAST_PATH_MODES = [
  ['with the fast path', true],
  ['without the fast path', false],
] as const;

/** A clean record: 11 + 11 characters of text, 4 tokens. */
const clean = conversation('hello there');
const withEmail = conversation(`write to ${fake.email}`);

/** An image turn: its format, location and owner are labels, not text (12 characters, 2 tokens). */
const IMAGE = JSON.stringify({
  schemaVersion: SCHEMA_VERSION,
  messages: [
    {
      role: 'user',
      content: [
        { text: 'abcdef' },
        {
          image: {
            format: 'png',
            source: { s3Location: { uri: 's3://bucket-a/cat.png', bucketOwner: '111122223333' } },
          },
        },
      ],
    },
    { role: 'assistant', content: [{ text: 'abcdef' }] },
  ],
});

/** A conversation record with extra top-level fields (an UNKNOWN_FIELD warning each). */
function withExtra(extra: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(conversation('hi')), ...extra });
}

describe('formatCount', () => {
  it.each([
    ['zero', 0, '0'],
    ['one digit', 7, '7'],
    ['three digits', 999, '999'],
    ['four digits', 1000, '1,000'],
    ['five digits', 12345, '12,345'],
    ['six digits', 123456, '123,456'],
    ['seven digits', 1234567, '1,234,567'],
    ['a negative number', -1234, '-1,234'],
    ['a small negative number', -5, '-5'],
    ['a non-integer, truncated', 1234.9, '1,234'],
    ['a negative non-integer, truncated toward zero', -9876.5, '-9,876'],
  ])('writes %s with thousands separators', (_name, n, expected) => {
    expect(formatCount(n)).toBe(expected);
  });
});

describe('replaceMatches', () => {
  const text = 'abcdefghij';
  it.each([
    ['no match', [], 'abcdefghij'],
    ['one match inside', [{ start: 2, end: 4, type: 'EMAIL' as const }], 'ab<EMAIL>efghij'],
    ['a match at the start', [{ start: 0, end: 3, type: 'PHONE' as const }], '<PHONE>defghij'],
    ['a match at the end', [{ start: 7, end: 10, type: 'IPV4' as const }], 'abcdefg<IPV4>'],
    ['the whole text', [{ start: 0, end: 10, type: 'JWT' as const }], '<JWT>'],
    [
      'adjacent matches',
      [
        { start: 1, end: 3, type: 'EMAIL' as const },
        { start: 3, end: 5, type: 'US_SSN' as const },
      ],
      'a<EMAIL><US_SSN>fghij',
    ],
    [
      'matches with text between',
      [
        { start: 0, end: 1, type: 'EMAIL' as const },
        { start: 5, end: 6, type: 'IBAN' as const },
        { start: 9, end: 10, type: 'IPV6' as const },
      ],
      '<EMAIL>bcde<IBAN>ghi<IPV6>',
    ],
  ])('replaces %s with typed placeholders', (_name, matches, expected) => {
    expect(replaceMatches(text, matches)).toBe(expected);
  });
});

describe('addCounts', () => {
  it('adds types and severities into the running counts', () => {
    const into: FindingCounts = {
      byType: { EMAIL: 2 },
      bySeverity: { low: 1, medium: 2, high: 0, critical: 0 },
    };
    addCounts(into, {
      byType: { EMAIL: 3, US_SSN: 1, PHONE: 0 },
      bySeverity: { low: 0, medium: 3, high: 1, critical: 4 },
    });
    expect(into).toStrictEqual({
      byType: { EMAIL: 5, US_SSN: 1 },
      bySeverity: { low: 1, medium: 5, high: 1, critical: 4 },
    });
  });

  it('leaves the counts as they are when adding empty counts', () => {
    const into: FindingCounts = {
      byType: { IPV4: 1 },
      bySeverity: { low: 1, medium: 0, high: 0, critical: 0 },
    };
    addCounts(into, RecordScanner.emptyResult().counts);
    expect(into).toStrictEqual({
      byType: { IPV4: 1 },
      bySeverity: { low: 1, medium: 0, high: 0, critical: 0 },
    });
  });
});

describe('RecordScanner: lines', () => {
  it('starts a fresh result for an empty batch', () => {
    expect(scan('', 1)).toStrictEqual(RecordScanner.emptyResult());
  });

  it('numbers lines from firstLine and skips blank, space-only and tab-only lines', () => {
    const result = scan(`${clean}\n\n   \n\t \t\n${withEmail}\n`, 10);
    expect(result.problems).toEqual([]);
    expect(result.validRecords).toBe(2);
    expect(result.findings.map((f) => [f.type, f.line])).toEqual([['EMAIL', 14]]);
    expect(result.sanitized).toBe(`${clean}\n${withEmail.replace(fake.email, '<EMAIL>')}\n`);
  });

  it.each([
    ['one character', 'x'],
    ['a character after spaces', '  x'],
    ['a vertical tab between spaces', ' \u000b '],
  ])('treats a line of %s as a record', (_name, line) => {
    const result = scan(`${clean}\n${line}\n`, 3);
    expect(result.problems).toEqual([
      { level: 'error', code: 'INVALID_JSON', line: 4, reason: expect.stringContaining('not valid JSON') },
    ]);
  });

  it('trims a trailing carriage return and skips a line holding only one', () => {
    const result = scan(`${clean}\r\n\r\n${withEmail}\r\n`, 1);
    expect(result.problems).toEqual([]);
    expect(result.validRecords).toBe(2);
    expect(result.findings.map((f) => f.line)).toEqual([3]);
    expect(result.sanitized).not.toContain('\r');
    expect(result.sanitized.split('\n')).toHaveLength(3);
  });

  it('checks a last line without a newline', () => {
    const result = scan(`${clean}\n${withEmail}`, 1);
    expect(result.validRecords).toBe(2);
    expect(result.findings.map((f) => f.line)).toEqual([2]);
    expect(
      result.sanitized.endsWith('<EMAIL>"}]},{"role":"assistant","content":[{"text":"Understood."}]}]}\n'),
    ).toBe(true);
  });

  it('numbers lines across parts, whether a part ends with a newline or not', () => {
    const parts = [Buffer.from(`${clean}\n`), Buffer.from(clean), Buffer.from(`${clean}\n${withEmail}\n`)];
    const result = new RecordScanner(config()).scanParts(parts, 5);
    expect(result.validRecords).toBe(4);
    expect(result.findings.map((f) => f.line)).toEqual([8]);
    expect(result.sanitized.split('\n')).toHaveLength(5);
  });

  it.each([
    ['a blank line', '\n', []],
    ['a one-character line', 'x', [['INVALID_JSON', 2]]],
  ])('counts a part holding only %s', (_name, part, problems) => {
    const parts = [Buffer.from(`${clean}\n`), Buffer.from(part), Buffer.from(withEmail)];
    const result = new RecordScanner(config()).scanParts(parts, 1);
    expect(result.problems.map((p) => [p.code, p.line])).toEqual(problems);
    expect(result.findings.map((f) => f.line)).toEqual([3]);
  });

  it('counts an empty part as an empty line', () => {
    const parts = [Buffer.from(clean), Buffer.alloc(0), Buffer.from(withEmail)];
    const result = new RecordScanner(config()).scanParts(parts, 1);
    expect(result.validRecords).toBe(2);
    expect(result.findings.map((f) => f.line)).toEqual([3]);
  });

  it('gives the same result for a Uint8Array as for a Buffer, also for a view at an offset', () => {
    const text = `${clean}\n${withEmail}\n`;
    const expected = scan(text, 4);
    const plain = new Uint8Array(Buffer.from(text));
    const padded = Buffer.from(`{"x":\n${text}`);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 6, padded.length - 6);
    expect(new RecordScanner(config()).scanBatch(plain, 4)).toStrictEqual(expected);
    expect(new RecordScanner(config()).scanBatch(view, 4)).toStrictEqual(expected);
    expect(expected.findings.map((f) => f.line)).toEqual([5]);
  });

  it('numbers lines right across the pieces a batch over 64 KiB is decoded in', () => {
    let text = '';
    let lines = 0;
    while (text.length < 70 * 1024) {
      text += `${conversation(`Question ${lines} about the return policy`)}\n`;
      lines++;
    }
    const result = scan(`${text}${withEmail}\n${withEmail}\n`, 1);
    expect(result.problems).toEqual([]);
    expect(result.validRecords).toBe(lines + 2);
    expect(result.findings.map((f) => f.line)).toEqual([lines + 1, lines + 2]);
    expect(result.sanitized.length).toBe(text.length + 2 * (withEmail.length - fake.email.length + 8));
  });

  it('starts each batch afresh on a scanner that is reused', () => {
    const scanner = new RecordScanner(config());
    scanner.scanBatch(Buffer.from(`${withEmail}\n{"a":\n`), 1);
    const second = scanner.scanBatch(Buffer.from(`${clean}\n`), 2);
    expect(second).toStrictEqual(scan(`${clean}\n`, 2));
    expect(second.sanitized).toBe(`${clean}\n`);
  });

  it('keeps non-ASCII text as it is and counts columns in characters', () => {
    const record = conversation(`café ${fake.email}`);
    const result = scan(`${record}\n`);
    expect(result.findings).toEqual([
      expect.objectContaining({ type: 'EMAIL', column: 6, field: USER_TEXT }),
    ]);
    expect(result.sanitized).toBe(`${record.replace(fake.email, '<EMAIL>')}\n`);
    const plain = conversation('café au lait');
    expect(scan(`${plain}\n`).sanitized).toBe(`${plain}\n`);
  });

  it('finds an address spelled with a full-width at sign in a non-ASCII line', () => {
    const result = scan(`${conversation(`mail jane.doe\uff20acme-payroll.com`)}\n`);
    expect(result.findings).toEqual([
      expect.objectContaining({ type: 'EMAIL', column: 6, field: USER_TEXT }),
    ]);
  });
});

describe('RecordScanner: invalid UTF-8', () => {
  const invalid = Buffer.concat([
    Buffer.from(`{"schemaVersion":"${SCHEMA_VERSION}","messages":[{"role":"user","content":[{"text":"caf`),
    Buffer.from([0xff]),
    Buffer.from(` ${fake.email}"}]},{"role":"assistant","content":[{"text":"ok"}]}]}`),
  ]);
  const batch = Buffer.concat([
    Buffer.from(`${clean}\n`),
    invalid,
    Buffer.from(`\n  \t\n\r\n${conversation(`mail jane.doe\uff20acme-payroll.com`)}\r\n${clean}`),
  ]);

  it('reports the line that is not UTF-8 and goes on checking every line', () => {
    const result = scan(batch, 20);
    expect(result.problems).toEqual([
      {
        level: 'error',
        code: 'INVALID_UTF8',
        line: 21,
        reason: 'is not valid UTF-8; save the file as UTF-8',
      },
    ]);
    expect(result.findings.map((f) => [f.type, f.line, f.column, f.field])).toEqual([
      ['EMAIL', 21, 6, USER_TEXT],
      ['EMAIL', 24, 6, USER_TEXT],
    ]);
    // Four records; the one that is not UTF-8 is not valid, whatever it decodes to.
    expect(result.validRecords).toBe(3);
  });

  it.each(FAST_PATH_MODES)(
    'does not count a record that is not UTF-8 as valid, though it decodes to a well-formed one (%s)',
    (_mode, fastPath) => {
      const record = Buffer.from(conversation('caf\u00e9 open on Monday'));
      const at = record.indexOf(0xc3);
      record[at] = 0xff; // é's lead byte: the line decodes to a clean record holding U+FFFD
      const result = scan(Buffer.concat([record, Buffer.from(`\n${clean}\n`)]), 1, { fastPath });
      expect(result.problems.map((p) => [p.code, p.line])).toEqual([['INVALID_UTF8', 1]]);
      expect(result.validRecords).toBe(1);
    },
  );

  it.each([
    ['one character', 'x'],
    ['a character after spaces', ' \tx'],
  ])('treats a line of %s as a record', (_name, line) => {
    const result = scan(Buffer.concat([Buffer.from([0xff]), Buffer.from(`\n${line}\n`)]), 1);
    expect(result.problems.map((p) => [p.code, p.line])).toEqual([
      ['INVALID_UTF8', 1],
      ['INVALID_JSON', 1],
      ['INVALID_JSON', 2],
    ]);
  });

  it('numbers the next part right after a part with invalid UTF-8 that ends with a newline', () => {
    const parts = [Buffer.concat([invalid, Buffer.from('\n')]), Buffer.from(withEmail)];
    const result = new RecordScanner(config()).scanParts(parts, 1);
    expect(result.problems.map((p) => [p.code, p.line])).toEqual([['INVALID_UTF8', 1]]);
    expect(result.findings.map((f) => [f.type, f.line])).toEqual([
      ['EMAIL', 1],
      ['EMAIL', 2],
    ]);
  });

  it('writes the line decoded with U+FFFD, without carriage returns, redacted', () => {
    const lines = scan(batch, 20).sanitized.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain('"text":"caf\ufffd <EMAIL>"');
    expect(lines[2]).toContain('"text":"mail <EMAIL>"');
    expect(lines[3]).toBe(clean);
    expect(lines.join('\n')).not.toContain('\r');
  });
});

describe('RecordScanner: problems', () => {
  describe.each(FAST_PATH_MODES)('%s', (_mode, fastPath) => {
    it.each([
      ['a truncated object', '{"a":', 'not valid JSON: the record ends before it is complete'],
      ['an unterminated string', '{"a":"b', 'not valid JSON: the record ends before it is complete'],
      ['an unexpected character', '{"a" 1}', 'not valid JSON (column 6)'],
      ['a trailing comma', '{"a":1,}', 'not valid JSON (column 8)'],
      ['text after the object', '{"a":1} x', 'not valid JSON (column 9)'],
      ['plain text', 'hello', 'not valid JSON: each line must be one JSON object'],
      ['an unexpected token', '{"a":tru}', 'not valid JSON: each line must be one JSON object'],
    ])('words %s', (_name, line, reason) => {
      const result = scan(`${clean}\n${line}\n`, 7, { fastPath });
      expect(result.problems).toEqual([{ level: 'error', code: 'INVALID_JSON', line: 8, reason }]);
      expect(result.problemCounts).toEqual({ error: 1, warning: 0 });
      expect(result.validRecords).toBe(1);
      expect(result.tokensTotal).toBe(4);
      expect(result.sanitized).toBe(`${clean}\n${line}\n`);
    });

    it('reports schema errors as errors: the record is not valid', () => {
      const result = scan(`[1]\n${clean}\n`, 2, { fastPath });
      expect(result.problems).toEqual([
        {
          level: 'error',
          code: 'SCHEMA',
          line: 2,
          reason: `the record must be a JSON object with the ${SCHEMA_VERSION} fields (got an array)`,
        },
      ]);
      expect(result.validRecords).toBe(1);
    });

    it('reports an unknown field as a warning: the record stays valid', () => {
      const result = scan(`${withExtra({ extra: 1 })}\n`, 3, { fastPath });
      expect(result.problems).toEqual([
        {
          level: 'warning',
          code: 'UNKNOWN_FIELD',
          line: 3,
          reason: `unknown field "extra" in the record is not part of the ${SCHEMA_VERSION} format`,
        },
      ]);
      expect(result.problemCounts).toEqual({ error: 0, warning: 1 });
      expect(result.validRecords).toBe(1);
    });

    it('lists at most maxProblems problems and counts them all', () => {
      const result = scan('{\n[\nx\n', 1, { fastPath, maxProblems: 2 });
      expect(result.problems.map((p) => p.line)).toEqual([1, 2]);
      expect(result.problemCounts).toEqual({ error: 3, warning: 0 });
    });

    it('lists no problems with maxProblems 0', () => {
      const result = scan('{\n', 1, { fastPath, maxProblems: 0 });
      expect(result.problems).toEqual([]);
      expect(result.problemCounts).toEqual({ error: 1, warning: 0 });
    });

    it('accepts a record at the token limit', () => {
      const result = scan(`${clean}\n`, 1, { fastPath, ...tokenLimit(4) });
      expect(result.problems).toEqual([]);
      expect(result.tokensTotal).toBe(4);
      expect(result.validRecords).toBe(1);
    });

    it('reports a record one token over the limit', () => {
      const result = scan(`${clean}\n`, 6, { fastPath, ...tokenLimit(3) });
      expect(result.problems).toEqual([
        {
          level: 'error',
          code: 'TOO_MANY_TOKENS',
          line: 6,
          reason: 'has about 4 tokens (22 characters / 6), over the 3-token limit',
        },
      ]);
      expect(result.tokensTotal).toBe(4);
      expect(result.tokensMax).toBe(4);
      expect(result.validRecords).toBe(0);
      expect(result.sanitized).toBe(`${clean}\n`);
    });

    it('words large token counts with thousands separators', () => {
      const record = conversation('word '.repeat(1200));
      const result = scan(`${record}\n`, 1, { fastPath, ...tokenLimit(1000) });
      expect(result.problems.map((p) => p.reason)).toEqual([
        'has about 1,002 tokens (6,011 characters / 6), over the 1,000-token limit',
      ]);
    });
  });
});

describe('RecordScanner: nesting', () => {
  const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
  const tooDeep = 'nests deeper than 64 levels; scanned as plain text';

  it('walks a record nested 64 levels deep', () => {
    const result = scan(`${nested(64, `"${fake.email}"`)}\n`);
    expect(result.problems.map((p) => p.reason)).not.toContain(tooDeep);
    expect(result.findings).toEqual([
      expect.objectContaining({ type: 'EMAIL', column: 1, field: Array(64).fill('a').join('.') }),
    ]);
  });

  it('scans a record nested 65 levels deep as plain text', () => {
    const line = nested(65, `"${fake.email}"`);
    const result = scan(`${line}\n`, 4);
    expect(result.problems).toContainEqual({ level: 'error', code: 'SCHEMA', line: 4, reason: tooDeep });
    expect(result.findings).toStrictEqual([
      { type: 'EMAIL', severity: 'medium', line: 4, column: 65 * 5 + 2, preview: 'j***@***.com' },
    ]);
    expect(result.tokensTotal).toBe(0);
    expect(result.validRecords).toBe(0);
    expect(result.sanitized).toBe(`${line.replace(fake.email, '<EMAIL>')}\n`);
  });

  it('counts a finding met before the too-deep part once, as the plain-text scan reports it', () => {
    const line = `{"note":"${fake.email}","deep":${nested(65)}}`;
    const result = scan(`${line}\n`, 2, { thresholdRank: 1 });
    expect(result.problems).toContainEqual({ level: 'error', code: 'SCHEMA', line: 2, reason: tooDeep });
    expect(result.findings).toStrictEqual([
      { type: 'EMAIL', severity: 'medium', line: 2, column: 10, preview: 'j***@***.com' },
    ]);
    expect(result.totalFindings).toBe(1);
    expect(result.blockingFindings).toBe(1);
    expect(result.counts).toEqual({
      byType: { EMAIL: 1 },
      bySeverity: { low: 0, medium: 1, high: 0, critical: 0 },
    });
    expect(result.sanitized).toBe(`${line.replace(fake.email, '<EMAIL>')}\n`);
  });

  it.each([
    ['an object', nested(64, 'null')],
    ['an array', `${'['.repeat(64)}null${']'.repeat(64)}`],
  ])('walks %s holding null 64 levels deep', (_name, line) => {
    const result = scan(`${line}\n`, 1, { fastPath: false });
    expect(result.problems.map((p) => p.reason)).not.toContain(tooDeep);
    expect(result.sanitized).toBe(`${line}\n`);
  });

  it('lets an unexpected error in the walk out instead of reporting it as too deep', () => {
    const detectAll = registry.detectAll as jest.MockedFunction<typeof registry.detectAll>;
    const actual = jest.requireActual('../../../functions/shared/guard/registry').detectAll;
    detectAll.mockImplementation((text, ...rest) => {
      if (text === 'detector trouble') throw new Error('detector failed');
      return actual(text, ...rest);
    });
    try {
      expect(() => scan(`${conversation('detector trouble')}\n`, 1, { fastPath: false })).toThrow(
        'detector failed',
      );
    } finally {
      detectAll.mockImplementation(actual);
    }
  });

  it('counts arrays toward the depth', () => {
    const ok = scan(`${'['.repeat(64)}"x"${']'.repeat(64)}\n`);
    const deep = scan(`${'['.repeat(65)}"x"${']'.repeat(65)}\n`);
    expect(ok.problems.map((p) => p.reason)).not.toContain(tooDeep);
    expect(ok.tokensTotal).toBe(1);
    expect(deep.problems.map((p) => p.reason)).toContain(tooDeep);
  });

  it('starts the next record with an empty field path', () => {
    const result = scan(`${nested(70)}\n${withEmail}\n`);
    expect(result.findings.map((f) => [f.line, f.field])).toEqual([[2, USER_TEXT]]);
  });
});

describe('RecordScanner: findings', () => {
  describe.each(FAST_PATH_MODES)('%s', (_mode, fastPath) => {
    it.each([
      ['an email address', `mail ${fake.email}`, 'EMAIL', 'medium', 6, 'j***@***.com', undefined],
      ['a US SSN', `ssn ${fake.ssn}`, 'US_SSN', 'high', 5, '***-**-****', undefined],
      ['an IPv4 address', `ip ${fake.ipv4}`, 'IPV4', 'low', 4, '34.*.*.*', undefined],
      ['a phone number', `call ${fake.phone}`, 'PHONE', 'medium', 6, '(***) ***-**09', undefined],
      ['an example email address', `mail ${fake.exampleEmail}`, 'EMAIL', 'low', 6, 's***@***.com', true],
    ])(
      'reports %s with its type, severity, place and masked preview',
      (_name, text, type, severity, column, preview, example) => {
        const result = scan(`${clean}\n${conversation(text)}\n`, 11, { fastPath });
        const finding = {
          type,
          severity,
          line: 12,
          column,
          preview,
          field: USER_TEXT,
          ...(example ? { example } : {}),
        };
        expect(result.findings).toStrictEqual([finding]);
        expect(result.totalFindings).toBe(1);
        expect(result.counts).toStrictEqual({
          byType: { [type]: 1 },
          bySeverity: { low: 0, medium: 0, high: 0, critical: 0, [severity]: 1 },
        });
        expect(result.sanitized).toBe(`${clean}\n${conversation(text.replace(/ .*/, ` <${type}>`))}\n`);
      },
    );
  });

  it('reports a finding in the system prompt and in the answer with their paths', () => {
    const record = conversation('hello', `ok ${fake.ssn}`, `sys ${fake.email}`);
    const result = scan(`${record}\n`);
    expect(result.findings.map((f) => [f.type, f.field, f.column])).toEqual([
      ['EMAIL', 'system[0].text', 5],
      ['US_SSN', 'messages[1].content[0].text', 4],
    ]);
  });

  it('never puts a raw value into the result', () => {
    const values = [fake.email, fake.ssn, fake.stripeLive, fake.awsAccessKeyId, fake.phone, fake.ipv4];
    const record = conversation(values.join(' , '), `key ${fake.githubToken}`);
    const result = scan(`${record}\n${values.join(' ; ')}\n`);
    expect(result.totalFindings).toBe(2 * values.length + 1);
    const json = JSON.stringify(result);
    for (const value of [...values, fake.githubToken]) expect(json).not.toContain(value);
  });

  it.each([
    [0, 3],
    [1, 2],
    [2, 1],
    [3, 0],
    [4, 0],
  ])(
    'counts as blocking, at threshold rank %i, %i of a low, a medium and a high finding',
    (thresholdRank, blocking) => {
      const result = scan(`${conversation(`${fake.ipv4} ${fake.email} ${fake.ssn}`)}\n`, 1, {
        thresholdRank,
      });
      expect(result.counts.bySeverity).toStrictEqual({ low: 1, medium: 1, high: 1, critical: 0 });
      expect(result.blockingFindings).toBe(blocking);
    },
  );

  it('counts a critical finding as blocking at the highest threshold', () => {
    const result = scan(`${conversation(`key ${fake.stripeLive}`)}\n`, 1, { thresholdRank: 3 });
    expect(result.findings.map((f) => [f.type, f.severity])).toEqual([['STRIPE_KEY', 'critical']]);
    expect(result.blockingFindings).toBe(1);
  });

  it.each([
    [0, 0],
    [1, 1],
    [2, 2],
    [5, 2],
  ])('lists at most maxFindings %i findings (%i) and counts them all', (maxFindings, listed) => {
    const result = scan(`${conversation(`${fake.email} ${fake.ssn}`)}\n`, 1, { maxFindings });
    expect(result.findings).toHaveLength(listed);
    expect(result.totalFindings).toBe(2);
    expect(result.counts.byType).toStrictEqual({ EMAIL: 1, US_SSN: 1 });
    expect(result.sanitized).toContain('<EMAIL> <US_SSN>');
  });

  it('counts findings of the same type across records', () => {
    const result = scan(`${withEmail}\n${withEmail}\n`);
    expect(result.counts).toStrictEqual({
      byType: { EMAIL: 2 },
      bySeverity: { low: 0, medium: 2, high: 0, critical: 0 },
    });
    expect(result.findings.map((f) => f.line)).toEqual([1, 2]);
  });

  it('reports findings in a line that is not JSON at their column, without a field', () => {
    const line = `not json ${fake.email} and ${fake.ssn}`;
    const result = scan(`${line}\n`, 9);
    expect(result.findings).toStrictEqual([
      { type: 'EMAIL', severity: 'medium', line: 9, column: 10, preview: 'j***@***.com' },
      { type: 'US_SSN', severity: 'high', line: 9, column: 40, preview: '***-**-****' },
    ]);
    expect(result.sanitized).toBe('not json <EMAIL> and <US_SSN>\n');
  });

  it('decodes backslash escapes in a line that is not JSON and replaces the whole spelling', () => {
    const result = scan(`not json "${fake.email.replace('@', '\\u0040')}"\n`);
    expect(result.findings).toStrictEqual([
      { type: 'EMAIL', severity: 'medium', line: 1, column: 11, preview: 'j***@***.com' },
    ]);
    expect(result.sanitized).toBe('not json "<EMAIL>"\n');
  });

  it('leaves an allow-listed value in a line that is not JSON', () => {
    const result = scan(`not json ${fake.email} and ${fake.ssn}\n`, 1, { allowValues: [fake.email] });
    expect(result.suppressed).toBe(1);
    expect(result.totalFindings).toBe(1);
    expect(result.sanitized).toBe(`not json ${fake.email} and <US_SSN>\n`);
  });

  it('names the place of findings in fields outside the format, hiding names that could be data', () => {
    const record = withExtra({
      meta: { acct_1234: fake.email, customer_ref: fake.phone, tags: ['a', fake.ssn] },
    });
    const result = scan(`${record}\n`);
    expect(result.findings.map((f) => [f.type, f.field])).toEqual([
      ['EMAIL', 'meta.<field>'],
      ['PHONE', 'meta.customer_ref'],
      ['US_SSN', 'meta.tags[1]'],
    ]);
    expect(JSON.parse(result.sanitized)).toMatchObject({
      meta: { acct_1234: '<EMAIL>', customer_ref: '<PHONE>', tags: ['a', '<US_SSN>'] },
    });
  });

  it('names the place of a finding in a record that is an array', () => {
    const result = scan(`${JSON.stringify(['x', fake.email])}\n`);
    expect(result.findings.map((f) => f.field)).toEqual(['[1]']);
    expect(result.sanitized).toBe('["x","<EMAIL>"]\n');
  });

  it('reports a field name holding a finding, naming only its parent, and replaces the key', () => {
    const result = scan(`${withExtra({ [fake.email]: 1, meta: { [`ssn ${fake.ssn}`]: 2 } })}\n`);
    expect(result.findings.map((f) => [f.type, f.field, f.column])).toEqual([
      ['EMAIL', 'a field name', 1],
      ['US_SSN', 'a field name in meta', 5],
    ]);
    const sanitized = JSON.parse(result.sanitized);
    expect(sanitized).toMatchObject({ '<EMAIL>': 1, meta: { 'ssn <US_SSN>': 2 } });
    expect(result.sanitized).not.toContain(fake.email);
  });

  it('keeps the order of keys when some are replaced', () => {
    const result = scan(`{"b":1,"${fake.email}":2,"a":3,"ssn ${fake.ssn}":4}\n`);
    expect(result.sanitized).toBe('{"b":1,"<EMAIL>":2,"a":3,"ssn <US_SSN>":4}\n');
  });

  it('keeps an allow-listed field name and copies the record as it is', () => {
    const line = `{"b": 1, "${fake.email}": 2}`;
    const result = scan(`${line}\n`, 1, { allowValues: [fake.email] });
    expect(result.suppressed).toBe(1);
    expect(result.totalFindings).toBe(0);
    expect(result.sanitized).toBe(`${line}\n`);
  });

  it('redacts a "__proto__" value as an own property', () => {
    const result = scan(`{"__proto__":"${fake.email}","b":1}\n`);
    expect(result.findings.map((f) => f.field)).toEqual(['__proto__']);
    expect(result.sanitized).toBe('{"__proto__":"<EMAIL>","b":1}\n');
  });

  it('keeps a "__proto__" object when another key is replaced', () => {
    const result = scan(`{"__proto__":{"k":1},"${fake.email}":2}\n`);
    expect(result.sanitized).toBe('{"__proto__":{"k":1},"<EMAIL>":2}\n');
  });

  it('does not write a sanitized copy when not redacting', () => {
    const result = scan(`${withEmail}\n{"a":\n${clean}\n`, 1, { redact: false });
    expect(result.totalFindings).toBe(1);
    expect(result.sanitized).toBe('');
  });

  it('writes no sanitized copy for a batch of blank lines', () => {
    expect(scan('\n  \n\n').sanitized).toBe('');
  });

  it.each(FAST_PATH_MODES)('copies a record with nothing replaced verbatim, %s', (_mode, fastPath) => {
    const spaced = clean.replace('"hello there"', ' "hello there" ');
    const result = scan(`${spaced}\n`, 1, { fastPath });
    expect(result.sanitized).toBe(`${spaced}\n`);
  });

  it.each(FAST_PATH_MODES)('copies a record after a redacted one verbatim, %s', (_mode, fastPath) => {
    const spaced = withExtra({ note: 'plain' }).replace('"note":', '"note": ');
    const result = scan(`${withEmail}\n${spaced}\n`, 1, { fastPath });
    expect(result.sanitized).toBe(`${withEmail.replace(fake.email, '<EMAIL>')}\n${spaced}\n`);
  });

  it('finds an address whose at sign is a \\u escape in the line', () => {
    const record = withEmail.replace('@', '\\u0040');
    const result = scan(`${record}\n`);
    expect(result.findings).toEqual([
      expect.objectContaining({ type: 'EMAIL', column: 10, field: USER_TEXT }),
    ]);
    expect(result.sanitized).toBe(`${withEmail.replace(fake.email, '<EMAIL>')}\n`);
  });

  it('re-serializes a record in which something was replaced', () => {
    const spaced = withEmail.replace('"schemaVersion":', '"schemaVersion": ');
    expect(scan(`${spaced}\n`).sanitized).toBe(`${withEmail.replace(fake.email, '<EMAIL>')}\n`);
  });
});

describe('RecordScanner: allow-list', () => {
  // Spaced as JSON.stringify would not write it: a record with nothing replaced is copied as it is.
  const spaced = withEmail.replace('"messages":', '"messages": ');
  const twice = `${spaced}\n${spaced}\n`;

  it.each([
    ['an exact value', { allowValues: [fake.email] }],
    ['a pattern', { allowPatterns: [{ source: 'acme-payroll\\.com$', flags: '' }] }],
    ['a pattern with the g flag', { allowPatterns: [{ source: 'acme-payroll\\.com$', flags: 'g' }] }],
    ['a pattern with the y flag', { allowPatterns: [{ source: 'acme', flags: 'y' }] }],
    ['a pattern with the g and y flags', { allowPatterns: [{ source: 'acme', flags: 'gy' }] }],
    ['a pattern with the i flag', { allowPatterns: [{ source: 'ACME-PAYROLL', flags: 'i' }] }],
    [
      'one of several patterns',
      {
        allowPatterns: [
          { source: '^nobody@', flags: '' },
          { source: '@acme-payroll', flags: '' },
        ],
      },
    ],
  ])('suppresses every match of %s and leaves it in the copy', (_name, allow) => {
    const result = scan(twice, 1, allow);
    expect(result.suppressed).toBe(2);
    expect(result.totalFindings).toBe(0);
    expect(result.findings).toEqual([]);
    expect(result.counts.bySeverity.medium).toBe(0);
    expect(result.sanitized).toBe(twice);
  });

  it.each([
    ['a value that is not exactly the match', { allowValues: [`${fake.email} `, 'acme-payroll.com'] }],
    ['a pattern that does not match', { allowPatterns: [{ source: '^acme', flags: 'i' }] }],
  ])('does not suppress with %s', (_name, allow) => {
    const result = scan(twice, 1, allow);
    expect(result.suppressed).toBe(0);
    expect(result.totalFindings).toBe(2);
  });

  it('suppresses one value and still redacts the other in the same string', () => {
    const result = scan(`${conversation(`${fake.email} ${fake.ssn}`)}\n`, 1, { allowValues: [fake.ssn] });
    expect(result.suppressed).toBe(1);
    expect(result.findings.map((f) => f.type)).toEqual(['EMAIL']);
    expect(result.blockingFindings).toBe(0);
    expect(result.sanitized).toContain(`"<EMAIL> ${fake.ssn}"`);
  });
});

describe('RecordScanner: tokens', () => {
  describe.each(FAST_PATH_MODES)('%s', (_mode, fastPath) => {
    it.each([
      ['text only', clean, 4],
      ['a label word inside text', conversation('user', 'assistant'), 3],
      ['no image labels, locations or owners', IMAGE, 2],
      ['a system prompt', conversation('abc', 'abc', 'abcdef'), 2],
      ['an unknown field', withExtra({ note: 'abcdefg' }), 4],
    ])('counts the characters of %s', (_name, record, tokens) => {
      const result = scan(`${record}\n`, 1, { fastPath });
      expect(result.tokensTotal).toBe(tokens);
      expect(result.tokensMax).toBe(tokens);
    });

    it.each([
      ['larger first', [conversation('a'.repeat(60)), clean]],
      ['larger last', [clean, conversation('a'.repeat(60))]],
    ])('sums tokens and keeps the largest, %s', (_name, records) => {
      const result = scan(`${records.join('\n')}\n`, 1, { fastPath });
      expect(result.tokensTotal).toBe(16);
      expect(result.tokensMax).toBe(12);
      expect(result.validRecords).toBe(2);
    });
  });

  it('leaves a label field out of the count even when it holds something else, but scans it', () => {
    const record = JSON.stringify({
      schemaVersion: SCHEMA_VERSION,
      messages: [
        { role: fake.email, content: [{ text: 'assistant' }] },
        { role: 'assistant', content: [{ text: 'user' }] },
      ],
    });
    const result = scan(`${record}\n`);
    expect(result.tokensTotal).toBe(3);
    expect(result.findings.map((f) => f.field)).toEqual(['messages[0].role']);
  });
});

describe('RecordScanner.scanText', () => {
  const text = `ab ${fake.email} and ${fake.ssn}`;

  it('reports matches at the given line, columns offset by the base', () => {
    const result = new RecordScanner(config()).scanText(text, 9, 100, 0);
    expect(result.findings).toStrictEqual([
      { type: 'EMAIL', severity: 'medium', line: 9, column: 104, preview: 'j***@***.com' },
      { type: 'US_SSN', severity: 'high', line: 9, column: 134, preview: '***-**-****' },
    ]);
    expect(result.blockingFindings).toBe(1);
    expect(result.sanitized).toBe('');
  });

  it.each([
    ['ending at', 28, ['US_SSN']],
    ['ending one before', 27, ['EMAIL', 'US_SSN']],
  ])('skips a match %s skipEndingBefore', (_name, skip, types) => {
    const result = new RecordScanner(config()).scanText(text, 1, 0, skip);
    expect(result.findings.map((f) => f.type)).toEqual(types);
  });

  it('decodes backslash escapes in the raw text', () => {
    const escaped = `"${fake.email.replace('@', '\\u0040')}"`;
    const result = new RecordScanner(config()).scanText(escaped, 2, 10, 0);
    expect(result.findings.map((f) => [f.type, f.line, f.column])).toEqual([['EMAIL', 2, 12]]);
  });

  it('applies the allow-list', () => {
    const result = new RecordScanner(config({ allowValues: [fake.email] })).scanText(text, 1, 0, 0);
    expect(result.suppressed).toBe(1);
    expect(result.findings.map((f) => f.type)).toEqual(['US_SSN']);
  });
});

describe('RecordScanner: fast path', () => {
  const plainRecordChars = fastpath.plainRecordChars as jest.MockedFunction<typeof fastpath.plainRecordChars>;

  it.each([
    ['clean records', `${clean}\n${conversation('Where is my parcel?', 'On its way.', 'Be brief.')}\n`],
    ['a record with a finding', `${clean}\n${withEmail}\n`],
    ['a record that is not JSON', `${clean}\n{"a":\n`],
    ['a record with an unknown field', `${withExtra({ x: 'y' })}\n`],
    ['an image record', `${IMAGE}\n${clean}\r\n`],
  ])('gives the same result as the full checks for %s', (_name, text) => {
    expect(scan(text, 3, { fastPath: true })).toStrictEqual(scan(text, 3, { fastPath: false }));
  });

  it('is told a record is ASCII when its batch is, and not otherwise', () => {
    const accented = conversation('café au lait');
    plainRecordChars.mockClear();
    scan(`${clean}\n`, 1);
    scan(`${accented}\n`, 1);
    expect(plainRecordChars.mock.calls).toEqual([
      [RECORD_SCAN_CONFIG.family, clean, true],
      [RECORD_SCAN_CONFIG.family, accented, false],
    ]);
  });

  it('is told the lines of an ASCII first 64 KiB are ASCII, when non-ASCII text comes later', () => {
    const long = conversation('a'.repeat(66 * 1024));
    const accented = conversation('café au lait');
    plainRecordChars.mockClear();
    scan(`${long}\n${accented}\n`, 1);
    expect(plainRecordChars.mock.calls).toEqual([
      [RECORD_SCAN_CONFIG.family, long, true],
      [RECORD_SCAN_CONFIG.family, accented, false],
    ]);
  });

  it('is asked about each record unless turned off', () => {
    plainRecordChars.mockClear();
    scan(`${clean}\n${clean}\n`, 1);
    expect(plainRecordChars).toHaveBeenCalledTimes(2);
    plainRecordChars.mockClear();
    scan(`${clean}\n${clean}\n`, 1, { fastPath: false });
    expect(plainRecordChars).not.toHaveBeenCalled();
  });
});
