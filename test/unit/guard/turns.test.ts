/**
 * The turn and content-block rules zod does not say well (functions/shared/guard/schemas/turns.ts),
 * called directly: RFT prompts (a user turn somewhere, never ending on the assistant's answer), the
 * conversation turn order when the last turn must be the answer, exactly one kind per content
 * block, and what each rule leaves to the schema (unknown roles, non-array content, non-object
 * blocks). The scan tests reach these through whole records; these pin every sentence and index.
 */
import type { RecordIssue } from '../../../functions/shared/guard/schemas';
import {
  checkContentBlocks,
  checkRftTurns,
  checkTurns,
  isRecordObject,
} from '../../../functions/shared/guard/schemas/turns';

const turn = (role: string, content = 'Hello') => ({ role, content });

/** What checkRftTurns reports for these roles, each turn with string content as in the RFT format. */
function rftIssues(messages: unknown[]): RecordIssue[] {
  const out: RecordIssue[] = [];
  checkRftTurns(messages, out);
  return out;
}

const NO_USER: RecordIssue = {
  level: 'error',
  code: 'SCHEMA',
  reason: `messages must hold a 'user' turn: the prompt to answer`,
};
const endsOnAnswer = (index: number): RecordIssue => ({
  level: 'error',
  code: 'SCHEMA',
  reason: `messages[${index}].role must not be 'assistant': the model writes the answer the grader scores`,
});

describe('isRecordObject', () => {
  it.each([
    ['a plain object', { role: 'user' }, true],
    ['an empty object', {}, true],
    ['an array', [{ role: 'user' }], false],
    ['null', null, false],
    ['a string', 'user', false],
    ['a number', 42, false],
    ['a boolean', true, false],
    ['undefined', undefined, false],
  ])('%s -> %p', (_name, value, expected) => {
    expect(isRecordObject(value)).toBe(expected);
  });
});

describe('checkRftTurns: RFT prompts hold a user turn and do not end on the answer', () => {
  it.each([
    ['a single user turn', ['user']],
    ['a system prompt, then the user', ['system', 'user']],
    ['a few-shot exchange ending on the user', ['system', 'user', 'assistant', 'user']],
    ['a user turn after an assistant turn', ['assistant', 'user']],
  ])('accepts %s', (_name, roles) => {
    expect(rftIssues(roles.map((r) => turn(r)))).toEqual([]);
  });

  it.each([
    ['a user turn answered by the assistant', ['user', 'assistant'], [endsOnAnswer(1)]],
    ['a system prompt, the user, then the answer', ['system', 'user', 'assistant'], [endsOnAnswer(2)]],
    ['only an assistant turn', ['assistant'], [NO_USER, endsOnAnswer(0)]],
    ['only a system prompt', ['system'], [NO_USER]],
    ['a system prompt and an assistant turn', ['system', 'assistant'], [NO_USER, endsOnAnswer(1)]],
  ])('rejects %s with the exact sentences', (_name, roles, expected) => {
    expect(rftIssues(roles.map((r) => turn(r)))).toEqual(expected);
  });

  it.each([
    ['no turns at all (the schema asks for one)', []],
    ['a role outside system/user/assistant', [turn('developer'), turn('assistant')]],
    ['a "tool" turn ending the conversation', [turn('user'), turn('tool')]],
    ['a turn without a role', [{ content: 'What is 17 * 23?' }, turn('assistant')]],
    ['a turn that is not an object', ['What is 17 * 23?', turn('assistant')]],
    ['a turn that is null', [null, turn('assistant')]],
  ])('leaves %s to the schema and reports nothing', (_name, messages) => {
    expect(rftIssues(messages)).toEqual([]);
  });
});

describe('checkTurns: first turn user, strict alternation, last turn the answer', () => {
  it('requires the last turn to be the assistant when lastMayBeUser is not given', () => {
    const out: RecordIssue[] = [];
    checkTurns([turn('user'), turn('assistant'), turn('user')], out);
    expect(out).toEqual([
      {
        level: 'error',
        code: 'SCHEMA',
        reason: `messages[2].role must be 'assistant': the last message is the answer the model learns`,
      },
    ]);
  });

  it('reports nothing for no turns at all: the schema asks for the entries, and there is no messages[0] to name', () => {
    const out: RecordIssue[] = [];
    checkTurns([], out);
    expect(out).toEqual([]);
  });

  it('lets the last turn be the user when lastMayBeUser is true (distillation prompts)', () => {
    const out: RecordIssue[] = [];
    checkTurns([turn('user'), turn('assistant'), turn('user')], out, true);
    expect(out).toEqual([]);
  });

  it('reports a repeated role at the index of the second turn, naming the role it follows', () => {
    const out: RecordIssue[] = [];
    checkTurns([turn('user'), turn('assistant'), turn('assistant')], out);
    expect(out).toEqual([
      {
        level: 'error',
        code: 'SCHEMA',
        reason: `messages[2].role must be 'user' after a 'assistant' turn`,
      },
    ]);
  });
});

describe('checkContentBlocks: exactly one kind per content block', () => {
  const s3 = (uri: string) => ({ s3Location: { uri } });
  const IMAGE = { format: 'png', source: s3('s3://training-bucket/images/receipt-0042.png') };
  const VIDEO = { format: 'mp4', source: s3('s3://training-bucket/videos/demo.mp4') };
  const REASONING = { reasoningText: { text: 'The receipt total is printed at the bottom.' } };

  /** The block under test is the third block of the second turn, so the message names both indexes. */
  function blockIssues(block: unknown): RecordIssue[] {
    const record = {
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: 'What is the total on this receipt?' }] },
        { role: 'assistant', content: [{ text: 'Let me look.' }, { text: 'It is' }, block] },
      ],
    };
    const out: RecordIssue[] = [];
    checkContentBlocks(record, out);
    return out;
  }

  const ONE_OF: RecordIssue = {
    level: 'error',
    code: 'SCHEMA',
    reason: `messages[1].content[2] must have exactly one of 'text', 'image', 'video' or 'reasoningContent'`,
  };

  it.each([
    ['a text block', { text: '$42.10' }],
    ['an image block', { image: IMAGE }],
    ['a video block', { video: VIDEO }],
    ['a reasoningContent block', { reasoningContent: REASONING }],
  ])('accepts %s', (_name, block) => {
    expect(blockIssues(block)).toEqual([]);
  });

  it.each([
    ['text and an image', { text: 'See the receipt', image: IMAGE }],
    ['an image and a video', { image: IMAGE, video: VIDEO }],
    ['text and reasoningContent', { text: '$42.10', reasoningContent: REASONING }],
    ['no kind at all', {}],
    ['only an unknown field', { caption: 'a receipt' }],
  ])('rejects a block with %s, naming messages[i].content[j]', (_name, block) => {
    expect(blockIssues(block)).toEqual([ONE_OF]);
  });

  it.each([
    ['a string', 'What is the total?'],
    ['null', null],
    ['a number', 42],
    ['an array', [{ text: 'a' }, { image: IMAGE }]],
  ])('leaves a block that is %s to the schema', (_name, block) => {
    expect(blockIssues(block)).toEqual([]);
  });

  it.each([
    ['messages is not an array', { messages: 'What is the total?' }],
    ['there are no messages', { schemaVersion: 'bedrock-conversation-2024' }],
    ['a message is not an object', { messages: ['What is the total?', null, 42] }],
    [
      'content is not an array',
      {
        messages: [
          { role: 'user', content: {} },
          { role: 'user', content: 'hi' },
        ],
      },
    ],
  ])('skips the record when %s', (_name, record) => {
    const out: RecordIssue[] = [];
    checkContentBlocks(record, out);
    expect(out).toEqual([]);
  });

  it('reports every offending block of every turn, in order', () => {
    const record = {
      messages: [
        { role: 'user', content: [{}, { text: 'fine' }] },
        { role: 'assistant', content: [{ text: 'fine' }, { text: 'x', video: VIDEO }] },
      ],
    };
    const out: RecordIssue[] = [];
    checkContentBlocks(record, out);
    expect(out.map((i) => i.reason)).toEqual([
      `messages[0].content[0] must have exactly one of 'text', 'image', 'video' or 'reasoningContent'`,
      `messages[1].content[1] must have exactly one of 'text', 'image', 'video' or 'reasoningContent'`,
    ]);
  });
});
