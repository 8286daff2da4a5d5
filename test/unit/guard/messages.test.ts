/**
 * Zod's issues as sentences (functions/shared/guard/schemas/messages.ts): the type named for every
 * kind of value, the whole-record sentence for a record that is not an object, which field names
 * are echoed (plain identifiers only: an unknown key can be a secret or pasted data), and the
 * sentence for each issue kind. Records go through checkRecord where a catalog format produces the
 * issue; issue kinds no catalog format produces (a string minimum, a maximum, a type error on a
 * non-object root of another shape) come from small zod schemas, so the issues are zod's own.
 */
import * as z from 'zod';
import { checkRecord, type RecordIssue, safeFieldName } from '../../../functions/shared/guard/schemas';
import { FAMILY_SPECS } from '../../../functions/shared/guard/schemas/families';
import { issueToRecordIssue } from '../../../functions/shared/guard/schemas/messages';

const schemaError = (reason: string): RecordIssue => ({ level: 'error', code: 'SCHEMA', reason });

/** zod's issues for a value the schema rejects, translated with the prompt/completion spec. */
function translate(schema: z.ZodType, value: unknown): RecordIssue[] {
  const parsed = schema.safeParse(value);
  expect(parsed.success).toBe(false);
  return (parsed.error?.issues ?? []).flatMap((i) =>
    issueToRecordIssue(i, value, FAMILY_SPECS['prompt-completion']),
  );
}

describe('the type a wrong value is said to have', () => {
  it.each([
    ['null', null],
    ['an array', ['What is the capital of France?']],
    ['an object', { text: 'What is the capital of France?' }],
    ['a number', 42],
    ['a boolean', true],
  ])('a field holding %s', (type, value) => {
    expect(checkRecord('prompt-completion', { prompt: value, completion: 'Paris.' })).toEqual([
      schemaError(`prompt must be a string (got ${type})`),
    ]);
  });

  it('a field holding a string where an array belongs, with "an" before a vowel', () => {
    expect(checkRecord('claude-messages', { messages: 'user: hi, assistant: hello' })).toEqual([
      schemaError('messages must be an array (got a string)'),
    ]);
  });

  it('a missing field is called missing, not undefined', () => {
    expect(checkRecord('prompt-completion', { completion: 'Paris.' })).toEqual([
      schemaError('prompt is missing'),
    ]);
  });
});

describe('a record that is not a JSON object', () => {
  it.each([
    ['a string', 'What is the capital of France?'],
    ['a number', 42],
    ['null', null],
    ['an array', [{ prompt: 'a', completion: 'b' }]],
    ['a boolean', false],
    ['undefined', undefined],
    ['bigint', BigInt(42)],
  ])('is described as %s with the format named', (type, value) => {
    expect(checkRecord('prompt-completion', value)).toEqual([
      schemaError(`the record must be a JSON object with the prompt/completion fields (got ${type})`),
    ]);
  });

  it('names the label of the family being checked', () => {
    expect(checkRecord('claude-messages', 'hello')).toEqual([
      schemaError('the record must be a JSON object with the Claude messages fields (got a string)'),
    ]);
  });

  it('uses the whole-record sentence only at the root: an entry of an array root is named by its index', () => {
    expect(translate(z.array(z.string()), ['What is the capital of France?', 7])).toEqual([
      schemaError('[1] must be a string (got a number)'),
    ]);
  });

  it('names the expected type when the root is an object but another type was expected', () => {
    expect(translate(z.array(z.string()), { prompt: 'a' })).toEqual([
      schemaError('the record must be an array (got an object)'),
    ]);
  });
});

describe('safeFieldName: only plain identifiers are echoed', () => {
  it.each([
    'source',
    'userId',
    'field2',
    'batch123',
    'customer_notes_internal',
    'x-request-id',
    '_meta',
    'A',
    `a${'b'.repeat(31)}`,
  ])('%p is shown in quotes', (key) => {
    expect(safeFieldName(key)).toBe(`"${key}"`);
  });

  it.each([
    ['four digits in a row', 'acct1234'],
    ['twelve upper-case letters and digits in a row', 'AKIAIOSFODNN'],
    ['a token with twelve upper-case letters and digits', 'key_ABCDEF123X45'],
    ['more than 32 characters', `a${'b'.repeat(32)}`],
    ['a space', 'my field'],
    ['a colon', 'ssn:078'],
    ['a leading digit', '1st'],
    ['a leading hyphen', '-flag'],
    ['nothing', ''],
  ])('a name with %s is not shown (%p)', (_name, key) => {
    expect(safeFieldName(key)).toBe('(a field whose name is not shown)');
  });

  it('is what the unknown-field sentences use', () => {
    expect(
      checkRecord('prompt-completion', { prompt: 'a', completion: 'b', userId: 'u-1', acct1234: 1 }),
    ).toEqual([
      {
        level: 'warning',
        code: 'UNKNOWN_FIELD',
        reason: 'unknown field "userId" in the record is not part of the prompt/completion format',
      },
      {
        level: 'warning',
        code: 'UNKNOWN_FIELD',
        reason:
          'unknown field (a field whose name is not shown) in the record is not part of the prompt/completion format',
      },
    ]);
  });
});

describe('the sentence for each issue kind', () => {
  it('too few messages: the sentence that explains the two turns', () => {
    const record = {
      schemaVersion: 'bedrock-conversation-2024',
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
    };
    expect(checkRecord('bedrock-conversation-2024', record)).toEqual([
      schemaError(`messages must have at least 2 entries (a user turn, then the assistant's answer)`),
    ]);
  });

  it.each([
    ['conversation-prompts', { schemaVersion: 'bedrock-conversation-2024', messages: [] }],
    ['rft-chat', { messages: [], reference_answer: '42' }],
  ] as const)(
    'no messages in %s (prompts, no answer yet): one entry asked for, in words',
    (family, record) => {
      expect(checkRecord(family, record)).toEqual([
        schemaError('messages must have at least one entry (the user turn to answer)'),
      ]);
    },
  );

  it('no messages in a training record: the count alone, no turn-order error about a turn that is not there', () => {
    expect(
      checkRecord('bedrock-conversation-2024', { schemaVersion: 'bedrock-conversation-2024', messages: [] }),
    ).toEqual([
      schemaError(`messages must have at least 2 entries (a user turn, then the assistant's answer)`),
    ]);
  });

  it('too few entries in another array: the path and the count of entries', () => {
    const record = {
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: 'Hi' }] },
        { role: 'assistant', content: [] },
      ],
    };
    expect(checkRecord('bedrock-conversation-2024', record)).toEqual([
      schemaError('messages[1].content must have at least 1 entry'),
    ]);
  });

  it('too short a string: the path and the count of characters', () => {
    expect(translate(z.strictObject({ prompt: z.string().min(3) }), { prompt: 'hi' })).toEqual([
      schemaError('prompt must have at least 3 characters'),
    ]);
  });

  it('one character, and two entries of another array: the count with its noun in the singular and the plural', () => {
    expect(translate(z.strictObject({ prompt: z.string().min(1) }), { prompt: '' })).toEqual([
      schemaError('prompt must have at least 1 character'),
    ]);
    expect(translate(z.strictObject({ tools: z.array(z.string()).min(2) }), { tools: ['search'] })).toEqual([
      schemaError('tools must have at least 2 entries'),
    ]);
  });

  it('a custom check: its own message, as written', () => {
    expect(
      translate(z.strictObject({ prompt: z.string().refine((s) => s.trim() !== '', 'prompt is blank') }), {
        prompt: '   ',
      }),
    ).toEqual([schemaError('prompt is blank')]);
  });

  it.each([
    [
      'too long a string',
      z.strictObject({ prompt: z.string().max(5) }),
      { prompt: 'What is the capital?' },
      'prompt',
    ],
    ['a malformed email', z.strictObject({ prompt: z.email() }), { prompt: 'not an address' }, 'prompt'],
    ['too long a record array', z.array(z.string()).max(1), ['a', 'b'], 'the record'],
  ])('any other kind (%s): the path and the format', (_name, schema, value, subject) => {
    expect(translate(schema, value)).toEqual([
      schemaError(`${subject} is not valid for the prompt/completion format`),
    ]);
  });

  it('an invalid role: every allowed value, quoted', () => {
    const record = {
      messages: [
        { role: 'human', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    };
    expect(checkRecord('claude-messages', record)).toEqual([
      schemaError(`messages[0].role must be 'user' or 'assistant'`),
    ]);
  });
});

describe('the value at an issue path that runs through a non-object', () => {
  const issue = (path: PropertyKey[]): z.core.$ZodIssue => ({
    code: 'invalid_type',
    expected: 'string',
    path,
    message: 'Invalid input',
  });
  const spec = FAMILY_SPECS['bedrock-conversation-2024'];

  it('is missing, not a crash, when the path runs through null', () => {
    const root = { schemaVersion: 'bedrock-conversation-2024', messages: null };
    expect(issueToRecordIssue(issue(['messages', 0, 'content']), root, spec)).toEqual([
      schemaError('messages[0].content is missing'),
    ]);
  });

  it('is missing, not a character, when the path runs through a string', () => {
    const root = { schemaVersion: 'bedrock-conversation-2024', messages: 'Hi' };
    expect(issueToRecordIssue(issue(['messages', 0]), root, spec)).toEqual([
      schemaError('messages[0] is missing'),
    ]);
  });
});
