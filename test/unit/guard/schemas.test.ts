import {
  type FamilyId,
  formatProblem,
  type ScanReport,
  scanTrainingData,
} from '../../../functions/shared/guard';
import { checkRecord, isObviouslyValid } from '../../../functions/shared/guard/schemas';
import { chunked } from './fixtures';

async function scanLines(family: FamilyId, lines: string[], minRecords = 1): Promise<ScanReport> {
  return scanTrainingData(chunked(`${lines.join('\n')}\n`, 64 * 1024), {
    family,
    policy: 'report',
    limits: { minRecords },
  });
}

/** "line N: reason" for every problem, the way people read them. */
function problems(report: ScanReport): string[] {
  return report.problems.map(formatProblem);
}

const user = (text: string) => ({ role: 'user', content: [{ text }] });
const assistant = (text: string) => ({ role: 'assistant', content: [{ text }] });
const nova = (messages: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ schemaVersion: 'bedrock-conversation-2024', messages, ...extra });

describe('prompt/completion (Titan, Llama, Cohere)', () => {
  it('accepts valid records', async () => {
    const report = await scanLines('prompt-completion', [
      JSON.stringify({ prompt: 'What is the capital of France?', completion: 'Paris.' }),
      JSON.stringify({ prompt: 'Summarize: the meeting moved.', completion: 'It moved.' }),
    ]);
    expect(problems(report)).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.validRecords).toBe(2);
  });

  it('reports each malformed line with its number and a reason', async () => {
    const report = await scanLines('prompt-completion', [
      JSON.stringify({ prompt: 'ok', completion: 'ok' }),
      JSON.stringify({ prompt: 'no completion' }),
      JSON.stringify({ prompt: 42, completion: 'x' }),
      '{"prompt": "unterminated',
      JSON.stringify(['an', 'array']),
      JSON.stringify({ prompt: 'a', completion: 'b', source: 'crm' }),
    ]);
    expect(problems(report)).toEqual([
      'line 2: completion is missing',
      'line 3: prompt must be a string (got a number)',
      'line 4: not valid JSON: the record ends before it is complete',
      'line 5: the record must be a JSON object with the prompt/completion fields (got an array)',
      'line 6: unknown field "source" in the record is not part of the prompt/completion format',
    ]);
    expect(report.problemCounts).toEqual({ error: 4, warning: 1 });
    expect(report.verdict).toBe('invalid');
    expect(report.records).toBe(6);
    expect(report.validRecords).toBe(2);
  });
});

describe('bedrock-conversation-2024 (Nova)', () => {
  it('accepts single- and multi-turn records with an optional system prompt', async () => {
    const report = await scanLines('bedrock-conversation-2024', [
      nova([user('hi'), assistant('hello')], { system: [{ text: 'You are terse.' }] }),
      nova([user('a'), assistant('b'), user('c'), assistant('d')]),
    ]);
    expect(problems(report)).toEqual([]);
    expect(report.validRecords).toBe(2);
  });

  it('reports turn order, shapes and reserved keywords precisely', async () => {
    const report = await scanLines('bedrock-conversation-2024', [
      nova([user('a'), assistant('b')]),
      nova([assistant('b'), user('a')]),
      nova([user('a'), user('again'), assistant('b')]),
      nova([user('only one')]),
      nova([{ role: 'system', content: [{ text: 'x' }] }, assistant('b')]),
      nova([user('a'), { role: 'assistant', content: [] }]),
      nova([user('a'), { role: 'assistant', content: 'plain string' }]),
      JSON.stringify({ messages: [user('a'), assistant('b')] }),
      nova([user('User: what now?'), assistant('b')]),
      nova([user('a'), assistant('b')], { system: 'not an array' }),
    ]);
    expect(problems(report)).toEqual([
      "line 2: messages[0].role must be 'user': a conversation starts with the user",
      "line 2: messages[1].role must be 'assistant': the last message is the answer the model learns",
      "line 3: messages[1].role must be 'assistant' after a 'user' turn",
      "line 4: messages must have at least 2 entries (a user turn, then the assistant's answer)",
      "line 5: messages[0].role must be 'user' or 'assistant'",
      'line 6: messages[1].content must have at least 1 entry',
      'line 7: messages[1].content must be an array (got a string)',
      'line 8: schemaVersion is missing',
      "line 9: messages[0].content[0].text contains the reserved keyword 'User:', which makes Nova training jobs fail; reword it",
      'line 10: system must be an array (got a string)',
    ]);
    expect(report.validRecords).toBe(1);
  });

  it('warns about unknown fields without rejecting the record', async () => {
    const report = await scanLines('bedrock-conversation-2024', [
      nova([user('a'), { ...assistant('b'), weight: 2 }]),
    ]);
    expect(problems(report)).toEqual([
      'line 1: unknown field "weight" in messages[1] is not part of the bedrock-conversation-2024 format',
    ]);
    expect(report.problemCounts).toEqual({ error: 0, warning: 1 });
    expect(report.verdict).toBe('pass');
  });

  it('never echoes a field name that could be data', async () => {
    const leakyKey = 'AKIA0123456789ABCDEF';
    const report = await scanLines('bedrock-conversation-2024', [
      nova([user('a'), assistant('b')], { [leakyKey]: 1, 'user said: call me': 2 }),
    ]);
    const text = JSON.stringify(report);
    expect(text).not.toContain(leakyKey);
    expect(text).not.toContain('call me');
    expect(problems(report)).toContain(
      'line 1: unknown field (a field whose name is not shown) in the record is not part of the bedrock-conversation-2024 format',
    );
  });
});

describe('Claude 3 Haiku messages', () => {
  const claude = (record: Record<string, unknown>) => JSON.stringify(record);

  it('accepts an optional string system prompt and alternating string turns', async () => {
    const report = await scanLines('claude-messages', [
      claude({
        system: 'Answer in JSON.',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: '{}' },
        ],
      }),
      claude({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
      }),
    ]);
    expect(problems(report)).toEqual([]);
  });

  it('rejects extra keys, array content and broken turn order', async () => {
    const report = await scanLines('claude-messages', [
      claude({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
        id: 7,
      }),
      claude({
        messages: [
          { role: 'user', content: [{ text: 'a' }] },
          { role: 'assistant', content: 'b' },
        ],
      }),
      claude({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
          { role: 'assistant', content: 'c' },
        ],
      }),
      claude({
        system: ['x'],
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
      }),
    ]);
    expect(problems(report)).toEqual([
      'line 1: unknown field "id" in the record: the Claude messages format allows no extra fields',
      'line 2: messages[0].content must be a string (got an array)',
      "line 3: messages[2].role must be 'user' after a 'assistant' turn",
      'line 4: system must be a string (got an array)',
    ]);
    expect(report.problemCounts.error).toBe(4);
  });
});

describe('the fast path', () => {
  /** Whether the fast path takes each sample below, in order (a valid record it declines is fine). */
  const FAST_VERDICTS = [
    ...[true, false, false], // prompt-completion: plain; no completion; an extra field
    ...[true, true, false, false, false, false], // Nova: plain; system; system null; ends on user; extra field; image
    ...[true, true, false, false], // Claude: plain; system; starts with assistant; a "__proto__" key
  ];
  const samples: [FamilyId, unknown][] = [
    ['prompt-completion', { prompt: 'a', completion: 'b' }],
    ['prompt-completion', { prompt: 'a' }],
    ['prompt-completion', { prompt: 'a', completion: 'b', x: 1 }],
    ['bedrock-conversation-2024', JSON.parse(nova([user('a'), assistant('b')]))],
    ['bedrock-conversation-2024', JSON.parse(nova([user('a'), assistant('b')], { system: [{ text: 's' }] }))],
    ['bedrock-conversation-2024', JSON.parse(nova([user('a'), assistant('b')], { system: null }))],
    ['bedrock-conversation-2024', JSON.parse(nova([user('a'), assistant('b'), user('c')]))],
    [
      'bedrock-conversation-2024',
      JSON.parse(nova([user('a'), { role: 'assistant', content: [{ text: 'b', x: 1 }] }])),
    ],
    [
      'bedrock-conversation-2024',
      JSON.parse(
        nova([
          {
            role: 'user',
            content: [{ image: { format: 'png', source: { s3Location: { uri: 's3://b/k' } } } }],
          },
          assistant('b'),
        ]),
      ),
    ],
    [
      'claude-messages',
      {
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
      },
    ],
    [
      'claude-messages',
      {
        system: 's',
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
      },
    ],
    [
      'claude-messages',
      {
        messages: [
          { role: 'assistant', content: 'a' },
          { role: 'user', content: 'b' },
        ],
      },
    ],
    [
      'claude-messages',
      JSON.parse(
        '{"__proto__": 1, "messages": [{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}',
      ),
    ],
  ];

  it('short-cuts only records the zod schema accepts, and these samples as listed', () => {
    const seen = samples.map(([family, value]) => ({
      family,
      fast: isObviouslyValid(family, value),
      valid: checkRecord(family, value).length === 0,
    }));
    // The fast path may decline a valid record (it then takes the full path), never accept an invalid one.
    expect(seen.filter((s) => s.fast && !s.valid)).toEqual([]);
    // Both sides are exercised: what the fast path takes, per sample, in the order listed above.
    expect(seen.map((s) => s.fast)).toEqual(FAST_VERDICTS);
  });

  it('short-cuts the common valid shapes', () => {
    expect(isObviouslyValid('bedrock-conversation-2024', JSON.parse(nova([user('a'), assistant('b')])))).toBe(
      true,
    );
    expect(isObviouslyValid('prompt-completion', { prompt: 'a', completion: 'b' })).toBe(true);
  });

  it('agrees with zod on random mutations of valid records', () => {
    const base = JSON.parse(
      nova([user('a'), assistant('b'), user('c'), assistant('d')], { system: [{ text: 's' }] }),
    );
    const junk: unknown[] = [null, 1, 'user', 'assistant', [], {}, [{ text: 'x' }], { text: 'x' }, true];
    let seed = 3;
    const next = (n: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const counts = { fast: 0, declined: 0 };
    const acceptedInvalid: unknown[] = [];
    for (let round = 0; round < 2000; round++) {
      const value = structuredClone(base);
      // Replace one random node of the record with junk.
      const paths: (string | number)[][] = [];
      const collect = (node: unknown, path: (string | number)[]) => {
        paths.push(path);
        if (Array.isArray(node)) {
          for (const [i, v] of node.entries()) collect(v, [...path, i]);
        } else if (node && typeof node === 'object') {
          for (const [k, v] of Object.entries(node)) collect(v, [...path, k]);
        }
      };
      collect(value, []);
      const path = paths[1 + next(paths.length - 1)] ?? [];
      let parent: Record<string | number, unknown> = value;
      for (const part of path.slice(0, -1)) parent = parent[part] as Record<string | number, unknown>;
      parent[path[path.length - 1] ?? 0] = junk[next(junk.length)];
      const fast = isObviouslyValid('bedrock-conversation-2024', value);
      const slow =
        checkRecord('bedrock-conversation-2024', value).filter((i) => i.level === 'error').length === 0;
      counts[fast ? 'fast' : 'declined']++;
      if (fast && !slow) acceptedInvalid.push(value);
    }
    expect(acceptedInvalid).toEqual([]);
    // Junk in a random node leaves some records valid for both paths and breaks others.
    expect(counts.fast).toBeGreaterThan(0);
    expect(counts.declined).toBeGreaterThan(0);
  });
});
