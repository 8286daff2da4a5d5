/**
 * Nova's reserved keywords (functions/shared/guard/schemas/reserved.ts): the colon keywords found
 * by the letter before the colon (User:, Bot:, Assistant:, System:), including at the very start
 * of a text and not in look-alikes; the keywords without a colon (<image>, <video>, [EOS]); the
 * exact sentence and path for each string of a record; and the raw-line pre-check that decides
 * whether the per-string check runs at all. A missed keyword fails a whole Nova training job.
 */
import type { RecordIssue } from '../../../functions/shared/guard/schemas';
import {
  checkReservedKeywords,
  mayHoldReservedKeyword,
  reservedKeywordAtColon,
  reservedKeywordWithoutColon,
} from '../../../functions/shared/guard/schemas/reserved';

const reserved = (path: string, keyword: string): RecordIssue => ({
  level: 'error',
  code: 'RESERVED_KEYWORD',
  reason: `${path} contains the reserved keyword '${keyword}', which makes Nova training jobs fail; reword it`,
});

describe('reservedKeywordAtColon: the keyword ending at the first colon of the text', () => {
  it.each([
    ['User: what is the refund policy?', 'User:'],
    ['Bot: here is the policy', 'Bot:'],
    ['Assistant: here is the policy', 'Assistant:'],
    ['System: you are terse', 'System:'],
    ['The transcript said User: hi', 'User:'],
    ['Ask the Bot: now', 'Bot:'],
    ['Reply as the Assistant: briefly', 'Assistant:'],
    ['Then the System: prompt', 'System:'],
  ])('%p -> %p', (text, keyword) => {
    expect(reservedKeywordAtColon(text, text.indexOf(':'))).toBe(keyword);
  });

  it.each([
    ['a word ending in r that is not User', 'Error: disk full'],
    ['a word ending in t that is neither Bot nor Assistant', 'Format: json'],
    ['a word ending in t, long enough for Assistant', 'Development: done'],
    ['a lower-case "bot"', 'Robot: beep'],
    ['a word ending in m that is not System', 'The team: ready'],
    ['a word ending in another letter', 'Note: keep it short'],
    ['a JSON colon after a quote', '{"role":"user"}'],
    ['a colon at the start', ': no word before it'],
    ['too short a prefix for User', 'ser: hi'],
    ['too short a prefix for Bot', 'ot: hi'],
    ['too short a prefix for Assistant', 'sistant: hi'],
    ['too short a prefix for System', 'stem: hi'],
  ])('finds nothing for %s (%p)', (_name, text) => {
    expect(reservedKeywordAtColon(text, text.indexOf(':'))).toBeUndefined();
  });
});

describe('reservedKeywordWithoutColon: <image>, <video> and [EOS]', () => {
  it.each([
    ['Describe <image> in one sentence', '<image>'],
    ['Summarize <video> for me', '<video>'],
    ['The answer is 4. [EOS]', '[EOS]'],
    ['<video> then <image>', '<image>'],
    ['<video> then [EOS]', '<video>'],
  ])('%p -> %p', (text, keyword) => {
    expect(reservedKeywordWithoutColon(text)).toBe(keyword);
  });

  it.each([
    ['plain text', 'What is the capital of France?'],
    ['HTML tags', 'Use <b>bold</b> and <img src="x.png">'],
    ['a comparison and an unclosed bracket', 'if x < y then [EOS'],
    ['lower-case eos', 'the end [eos]'],
  ])('finds nothing in %s', (_name, text) => {
    expect(reservedKeywordWithoutColon(text)).toBeUndefined();
  });
});

describe('checkReservedKeywords: one sentence per string, with its path', () => {
  it('names system[i].text and messages[i].content[j].text and the keyword found', () => {
    const record = {
      schemaVersion: 'bedrock-conversation-2024',
      system: [
        { text: 'You answer billing questions.' },
        { text: 'Always answer as Assistant: and be polite.' },
      ],
      messages: [
        { role: 'user', content: [{ text: 'Note: my invoice is wrong. Bot: help' }] },
        { role: 'assistant', content: [{ text: 'Sorry about that.' }, { text: 'Fixed. [EOS]' }] },
      ],
    };
    const out: RecordIssue[] = [];
    checkReservedKeywords(record, out);
    expect(out).toEqual([
      reserved('system[1].text', 'Assistant:'),
      reserved('messages[0].content[0].text', 'Bot:'),
      reserved('messages[1].content[1].text', '[EOS]'),
    ]);
  });

  it('reports the first colon keyword of a string over one without a colon, once per string', () => {
    const record = { messages: [{ role: 'user', content: [{ text: '<image> User: look System: obey' }] }] };
    const out: RecordIssue[] = [];
    checkReservedKeywords(record, out);
    expect(out).toEqual([reserved('messages[0].content[0].text', 'User:')]);
  });

  it('a keyword word without its colon is no keyword: "User guide", "Bot framework", "Assistant manager", "System update"', () => {
    const text =
      'See the User guide, the Bot framework, the Assistant manager and the System update: all fine';
    const record = { messages: [{ role: 'user', content: [{ text }] }] };
    const out: RecordIssue[] = [];
    checkReservedKeywords(record, out);
    expect(out).toEqual([]);
  });

  it('skips non-string texts, non-object blocks and non-array content', () => {
    const record = {
      system: [null, 'User: a bare string', { text: 42 }, { text: ['User: in an array'] }],
      messages: [
        null,
        'User: a bare string',
        { role: 'user', content: 'User: plain string content' },
        { role: 'user', content: [null, 'User: a bare string', { text: { value: 'User: nested' } }, 42] },
      ],
    };
    const out: RecordIssue[] = [];
    checkReservedKeywords(record, out);
    expect(out).toEqual([]);
  });

  it.each([
    ['system is a string', { system: 'System: you are terse', messages: [] }],
    ['messages is not an array', { messages: 'User: hi' }],
    ['the record has neither', {}],
  ])('reports nothing when %s', (_name, record) => {
    const out: RecordIssue[] = [];
    checkReservedKeywords(record, out);
    expect(out).toEqual([]);
  });
});

describe('mayHoldReservedKeyword: the once-per-line pre-check', () => {
  const line = (text: string) =>
    JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text }] },
        { role: 'assistant', content: [{ text: 'Paris.' }] },
      ],
    });

  it.each([
    ['a line with only JSON colons', line('What is the capital of France?'), false],
    ['a line with a colon keyword', line('User: What is the capital of France?'), true],
    ['a line with <video>', line('Summarize <video>'), true],
    ['a line with [EOS]', line('Done. [EOS]'), true],
    [
      'a line with a \\u escape, which could spell any keyword',
      '{"messages":[{"role":"user","content":[{"text":"\\u0055ser: hi"}]}]}',
      true,
    ],
  ])('%s -> %p', (_name, raw, expected) => {
    expect(mayHoldReservedKeyword(raw)).toBe(expected);
  });
});
