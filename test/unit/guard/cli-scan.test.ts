import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../cli/commands/scan';
import { cleanConversations, conversation, fake } from './fixtures';

const examples = join(__dirname, '../../../examples/guard');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: {
      write(s: string | Uint8Array) {
        stdout += String(s);
        return true;
      },
    },
    stderr: {
      write(s: string | Uint8Array) {
        stderr += String(s);
        return true;
      },
      isTTY: false,
    },
  });
  return { code, stdout, stderr };
}

describe('tunevault scan', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tunevault-scan-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 on clean data and prints a readable summary', async () => {
    const { code, stdout } = await cli(join(examples, 'clean.jsonl'));
    expect(code).toBe(0);
    expect(stdout).toContain('verdict    PASS');
    expect(stdout).toContain('10 records (10 valid)');
  });

  it('exits 1 on sensitive data, showing masked previews only', async () => {
    const { code, stdout } = await cli(join(examples, 'leaky.jsonl'));
    expect(code).toBe(1);
    expect(stdout).toContain('verdict    BLOCK');
    expect(stdout).toContain('**** **** **** 9855');
    expect(stdout).toMatch(/high\s+US_SSN\s+\*\*\*-\*\*-\*\*\*\*/);
    expect(stdout).not.toContain('-4417');
    expect(stdout).not.toContain('4556 7375 8689 9855');
    expect(stdout).not.toContain('jane.doe@acme-payroll.com');
  });

  it('exits 2 on invalid data, listing problems by line', async () => {
    const { code, stdout } = await cli(join(examples, 'invalid.jsonl'));
    expect(code).toBe(2);
    expect(stdout).toContain(
      "error    line 2: messages[0].role must be 'user': a conversation starts with the user",
    );
    expect(stdout).toContain('warning  line 5: blank line');
  });

  it('prints the full report as JSON', async () => {
    const { code, stdout } = await cli(join(examples, 'leaky.jsonl'), '--json', '--policy', 'report');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ verdict: 'pass', policy: 'report', family: 'bedrock-conversation-2024' });
    expect(report.findings.length).toBe(report.totalFindings);
    expect(stdout).not.toContain('219-38-4417');
  });

  it('writes a sanitized copy with --out, which then scans clean', async () => {
    const out = join(dir, 'sanitized.jsonl');
    const first = await cli(join(examples, 'leaky.jsonl'), '--out', out, '--block-at', 'low');
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('verdict    REDACT');
    expect(readFileSync(out, 'utf8')).toContain('<CARD_NUMBER>');
    const second = await cli(out, '--block-at', 'low');
    expect(second.code).toBe(0);
  });

  it('honours --allow values and /patterns/', async () => {
    const file = join(dir, 'data.jsonl');
    writeFileSync(
      file,
      `${cleanConversations(8)}${conversation(`mail ${fake.email} or help@tunevault.dev`)}\n`,
    );
    expect((await cli(file, '--block-at', 'medium')).code).toBe(1);
    expect(
      (await cli(file, '--block-at', 'medium', '--allow', fake.email, '--allow', '/@tunevault\\.dev$/')).code,
    ).toBe(0);
  });

  it('picks family and limits from --model', async () => {
    const file = join(dir, 'claude.jsonl');
    const record = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
    };
    writeFileSync(file, `${JSON.stringify(record)}\n`.repeat(40));
    const { code, stdout } = await cli(file, '--model', 'anthropic.claude-3-haiku-20240307-v1:0');
    expect(code).toBe(0);
    expect(stdout).toContain('claude-messages for anthropic.claude-3-haiku-20240307-v1:0: 32–10,000 records');
  });

  it.each([
    [[], 'missing FILE'],
    [['nope.jsonl'], "cannot read 'nope.jsonl' (ENOENT): check the path."],
    [['--polcy', 'block', 'x.jsonl'], "Unknown option '--polcy'"],
    [['FILE', '--policy', 'maybe'], "--policy 'maybe' is not a policy: use block, redact or report."],
    [['FILE', '--family', 'gpt'], "--family 'gpt' is unknown"],
    [
      ['FILE', '--model', 'openai.gpt-4'],
      "--model 'openai.gpt-4' is not a model TuneVault knows how to customize",
    ],
    [
      ['FILE', '--policy', 'block', '--out', 'x.jsonl'],
      '--out writes the sanitized copy, which only --policy redact produces',
    ],
    [['FILE', '--block-at', 'severe'], "--block-at 'severe' is not a severity"],
    [['FILE', '--allow', '/([/'], '--allow /([/ is not a valid regular expression'],
    [['FILE', 'other.jsonl'], "one FILE at a time (also got 'other.jsonl')"],
    [['FILE', '--threads', 'many'], "--threads 'many' is not a thread count: use auto or a whole number"],
  ])('exits 64 naming the bad input: %j', async (args, message) => {
    const file = join(dir, 'data.jsonl');
    writeFileSync(file, cleanConversations(8));
    const { code, stderr, stdout } = await cli(...args.map((a) => (a === 'FILE' ? file : a)));
    expect(code).toBe(64);
    expect(stderr).toContain(message);
    expect(stdout).toBe('');
  });

  it('gives the same report on worker threads as on one', async () => {
    const file = join(dir, 'data.jsonl');
    writeFileSync(
      file,
      `${cleanConversations(500)}${conversation(`card ${fake.card}`)}\n${cleanConversations(500)}`,
    );
    const one = await cli(file, '--json', '--threads', '0');
    const two = await cli(file, '--json', '--threads', '2');
    expect(one.code).toBe(1);
    expect(two).toEqual(one);
  });

  it('prints help', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Exit status: 0 pass, 1 sensitive data');
  });
});
