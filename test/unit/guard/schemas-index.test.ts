/**
 * How checkRecord puts the schema pieces together per format (functions/shared/guard/schemas/
 * index.ts): which formats get which turn rule, that content-block and reserved-keyword checks are
 * Nova's alone, how the raw line decides whether strings are searched for keywords, the fast path
 * for continued pre-training and Nova system prompts (obvious.ts), the RFT `reference_answer`
 * rule (families.ts), and which formats formatsOf names, in order. schemas.test.ts covers the same
 * code through whole scans; these pin each branch with the exact issue list.
 */
import type { FamilyId } from '../../../functions/shared/guard';
import {
  checkRecord,
  formatsOf,
  isObviouslyValid,
  type RecordIssue,
} from '../../../functions/shared/guard/schemas';

const schemaError = (reason: string): RecordIssue => ({ level: 'error', code: 'SCHEMA', reason });

const novaUser = (text: string) => ({ role: 'user', content: [{ text }] });
const novaAssistant = (text: string) => ({ role: 'assistant', content: [{ text }] });
const nova = (messages: unknown[], extra: Record<string, unknown> = {}) => ({
  schemaVersion: 'bedrock-conversation-2024',
  messages,
  ...extra,
});
const rft = (roles: string[], extra: Record<string, unknown> = { reference_answer: '391' }) => ({
  messages: roles.map((role) => ({
    role,
    content: role === 'user' ? 'What is 17 * 23?' : 'Show your work.',
  })),
  ...extra,
});

describe('checkRecord: the turn rule of each format', () => {
  it('RFT chat: a prompt may end on the user, never on the assistant', () => {
    expect(checkRecord('rft-chat', rft(['system', 'user']))).toEqual([]);
    expect(checkRecord('rft-chat', rft(['user', 'assistant']))).toEqual([
      schemaError(`messages[1].role must not be 'assistant': the model writes the answer the grader scores`),
    ]);
  });

  it('distillation prompts may end on the user turn', () => {
    expect(checkRecord('conversation-prompts', nova([novaUser('Summarize this contract.')]))).toEqual([]);
  });

  it('distillation prompts still alternate', () => {
    expect(checkRecord('conversation-prompts', nova([novaUser('Summarize.'), novaUser('Now.')]))).toEqual([
      schemaError(`messages[1].role must be 'assistant' after a 'user' turn`),
    ]);
  });

  it.each([
    ['prompt-completion', { prompt: 'What is 2 + 2?', completion: '4' }, 'prompt/completion'],
    [
      'continued-pretraining',
      { input: 'The quarterly report shows growth.' },
      'continued pre-training {"input"}',
    ],
  ] as [FamilyId, Record<string, unknown>, string][])(
    '%s has no turns: a "messages" field is only an unknown field',
    (family, record, label) => {
      const value = { ...record, messages: [{ role: 'assistant', content: 'Hello' }] };
      expect(checkRecord(family, value)).toEqual([
        {
          level: 'warning',
          code: 'UNKNOWN_FIELD',
          reason: `unknown field "messages" in the record is not part of the ${label} format`,
        },
      ]);
    },
  );
});

describe('checkRecord: content blocks and reserved keywords are checked for Nova formats only', () => {
  const twoKinds = {
    text: 'See the attached receipt.',
    image: { format: 'png', source: { s3Location: { uri: 's3://training-bucket/receipt.png' } } },
  };

  it.each(['bedrock-conversation-2024', 'conversation-prompts'] as FamilyId[])(
    '%s: a block with two kinds and a reserved keyword are both reported',
    (family) => {
      const value = nova([
        { role: 'user', content: [twoKinds, { text: 'User: what is the total?' }] },
        novaAssistant('$42.'),
      ]);
      expect(checkRecord(family, value)).toEqual([
        schemaError(
          `messages[0].content[0] must have exactly one of 'text', 'image', 'video' or 'reasoningContent'`,
        ),
        {
          level: 'error',
          code: 'RESERVED_KEYWORD',
          reason: `messages[0].content[1].text contains the reserved keyword 'User:', which makes Nova training jobs fail; reword it`,
        },
      ]);
    },
  );

  it('Claude messages with Anthropic API content blocks: only the schema sentences', () => {
    const value = {
      system: 'You read receipts.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'text', text: 'User: what is the total?' },
          ],
        },
        { role: 'assistant', content: '$42.' },
      ],
    };
    expect(checkRecord('claude-messages', value)).toEqual([
      schemaError('messages[0].content must be a string (got an array)'),
    ]);
  });
});

describe('checkRecord: the raw line decides whether strings are searched for keywords', () => {
  const value = nova([novaUser('User: what is the refund policy?'), novaAssistant('30 days.')]);
  const KEYWORD: RecordIssue = {
    level: 'error',
    code: 'RESERVED_KEYWORD',
    reason: `messages[0].content[0].text contains the reserved keyword 'User:', which makes Nova training jobs fail; reword it`,
  };

  it('searches when no raw line is given', () => {
    expect(checkRecord('bedrock-conversation-2024', value)).toEqual([KEYWORD]);
  });

  it('searches when the raw line holds a keyword', () => {
    expect(checkRecord('bedrock-conversation-2024', value, JSON.stringify(value))).toEqual([KEYWORD]);
  });

  it('searches when the raw line spells the keyword with a \\u escape', () => {
    const line =
      '{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"\\u0055ser: what is the refund policy?"}]},{"role":"assistant","content":[{"text":"30 days."}]}]}';
    expect(checkRecord('bedrock-conversation-2024', JSON.parse(line), line)).toEqual([KEYWORD]);
  });

  const IMAGE = {
    image: { format: 'png', source: { s3Location: { uri: 's3://training-bucket/policy.png' } } },
  };
  it.each([
    ['a text-only record (the fast path takes it)', value],
    [
      'a record with an image (zod checks it)',
      nova([
        { role: 'user', content: [IMAGE, { text: 'User: what is the refund policy?' }] },
        novaAssistant('30 days.'),
      ]),
    ],
  ])('trusts a raw line that cannot hold a keyword and skips the search: %s', (_name, record) => {
    // The value is passed apart from its line here, so the skip shows in the result.
    const line = JSON.stringify(nova([novaUser('What is the refund policy?'), novaAssistant('30 days.')]));
    expect(checkRecord('bedrock-conversation-2024', record, line)).toEqual([]);
  });

  it('still reports schema problems of a record whose line holds no keyword', () => {
    const broken = nova([novaUser('What is the refund policy?')]);
    expect(checkRecord('bedrock-conversation-2024', broken, JSON.stringify(broken))).toEqual([
      schemaError(`messages must have at least 2 entries (a user turn, then the assistant's answer)`),
    ]);
  });
});

describe('RFT reference_answer: required, any JSON value', () => {
  it.each([
    ['a string', '391'],
    ['an object', { value: 391, unit: null }],
    ['null', null],
    ['false', false],
    ['zero', 0],
    ['an empty string', ''],
  ])('%s is accepted', (_name, answer) => {
    expect(checkRecord('rft-chat', rft(['user'], { reference_answer: answer }))).toEqual([]);
  });

  it.each([
    ['missing', {}],
    ['undefined', { reference_answer: undefined }],
  ])('%s is reported with the refine message', (_name, extra) => {
    expect(checkRecord('rft-chat', rft(['user'], extra))).toEqual([
      schemaError('reference_answer is missing: the expected answer the grader scores against'),
    ]);
  });
});

describe('isObviouslyValid: the fast path', () => {
  const turns = [novaUser('What is the capital of France?'), novaAssistant('Paris.')];

  it.each([
    [
      'continued pre-training: a string input and nothing else',
      'continued-pretraining',
      { input: 'The quarterly report shows growth.' },
      true,
    ],
    ['continued pre-training: an input that is not a string', 'continued-pretraining', { input: 42 }, false],
    [
      'continued pre-training: an extra field',
      'continued-pretraining',
      { input: 'text', source: 'crawl-2024-06' },
      false,
    ],
    [
      'continued pre-training: no input',
      'continued-pretraining',
      { text: 'The quarterly report shows growth.' },
      false,
    ],
    [
      'continued pre-training: a string record',
      'continued-pretraining',
      'The quarterly report shows growth.',
      false,
    ],
    [
      'Nova: every system block a text block',
      'bedrock-conversation-2024',
      nova(turns, { system: [{ text: 'Be terse.' }, { text: 'Use metric units.' }] }),
      true,
    ],
    [
      'Nova: one system block with an extra field',
      'bedrock-conversation-2024',
      nova(turns, { system: [{ text: 'Be terse.' }, { text: 'x', cache: true }] }),
      false,
    ],
    [
      'Nova: one system block a bare string',
      'bedrock-conversation-2024',
      nova(turns, { system: [{ text: 'Be terse.' }, 'Use metric units.'] }),
      false,
    ],
  ] as [string, FamilyId, unknown, boolean][])('%s -> %p', (_name, family, value, fast) => {
    expect(isObviouslyValid(family, value)).toBe(fast);
  });

  it.each([
    [
      'continued pre-training: an input that is not a string',
      'continued-pretraining',
      { input: 42 },
      [schemaError('input must be a string (got a number)')],
    ],
    [
      'Nova: one system block a bare string',
      'bedrock-conversation-2024',
      nova(turns, { system: [{ text: 'Be terse.' }, 'Use metric units.'] }),
      [schemaError('system[1] must be an object (got a string)')],
    ],
    [
      'Nova: one system block with an extra field',
      'bedrock-conversation-2024',
      nova(turns, { system: [{ text: 'Be terse.' }, { text: 'x', cache: true }] }),
      [
        {
          level: 'warning',
          code: 'UNKNOWN_FIELD',
          reason: 'unknown field "cache" in system[1] is not part of the bedrock-conversation-2024 format',
        },
      ],
    ],
  ] as [string, FamilyId, unknown, RecordIssue[]][])(
    'what it declines, zod reports (%s)',
    (_name, family, value, issues) => {
      expect(checkRecord(family, value)).toEqual(issues);
    },
  );
});

describe('formatsOf: the formats a record is valid in, most specific first', () => {
  it.each([
    [
      'a Nova conversation (not also named as prompts)',
      nova([novaUser('a'), novaAssistant('b')]),
      ['bedrock-conversation-2024'],
    ],
    ['Nova prompts ending on the user', nova([novaUser('Summarize this.')]), ['conversation-prompts']],
    [
      'Claude messages',
      {
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
      },
      ['claude-messages'],
    ],
    ['an RFT prompt', rft(['user']), ['rft-chat']],
    [
      'a record with prompt, completion and input (warnings only in two formats)',
      { prompt: 'a', completion: 'b', input: 'c' },
      ['prompt-completion', 'continued-pretraining'],
    ],
    ['a string', 'What is 2 + 2?', []],
  ])('%s', (_name, value, formats) => {
    expect(formatsOf(value)).toEqual(formats);
  });
});

describe('checkRecord: the answer for a record without a problem', () => {
  it('is one shared empty list that no caller can add to (frozen), so a later record never inherits an issue', () => {
    const clean = checkRecord('bedrock-conversation-2024', nova([novaUser('Hi.'), novaAssistant('Hello.')]));
    expect(clean).toEqual([]);
    expect(() => (clean as RecordIssue[]).push(schemaError('planted'))).toThrow(TypeError);
    expect(checkRecord('prompt-completion', { prompt: 'a', completion: 'b' })).toEqual([]);
  });
});
