/**
 * The fast path's contract (functions/shared/guard/fastpath.ts), tested directly: a plain record of
 * each family it handles is taken with exactly the characters the full path counts (role and
 * schemaVersion labels left out), and every step off its grammar falls back: a token out of place,
 * whitespace, an unknown, repeated or missing key, a value of another type, a role out of turn, an
 * escape JSON does not know, a possible finding, a Nova reserved keyword. fastpath.test.ts shows
 * that the fast and full paths agree on random batches (so falling back more often goes unseen
 * there); this file pins which lines are taken and what they count, one input per condition.
 */
import { describe, expect, it } from '@jest/globals';
import { FALLBACK, plainRecordChars } from '../../../functions/shared/guard/fastpath';
import { type FamilyId, limitsFor } from '../../../functions/shared/guard/limits';
import { RecordScanner } from '../../../functions/shared/guard/records';
import { conversation, fake } from './fixtures';

const json = JSON.stringify;
const LABEL = 'bedrock-conversation-2024';
const ASK = 'Where is my parcel?';
const ANSWER = 'It ships on Monday.';
const SYSTEM = 'You are a support agent.';

/** `line` with the first `from` (which must occur) replaced by `to`. */
function edit(line: string, from: string, to: string): string {
  if (!line.includes(from)) throw new Error(`edit: ${json(from)} does not occur in the line`);
  return line.replace(from, () => to);
}

type Row = readonly [name: string, family: FamilyId, line: string];
type Counted = readonly [name: string, family: FamilyId, line: string, chars: number];

// ---------------------------------------------------------------------------------------------
// Base records, one per family: each is taken (first rows of TAKEN); the fallback rows edit them.

const turn = (role: string, ...texts: string[]) => ({ role, content: texts.map((text) => ({ text })) });
const alternating = (...texts: string[]) => texts.map((t, i) => turn(i % 2 === 0 ? 'user' : 'assistant', t));
const chat = (...texts: string[]) =>
  texts.map((content, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content }));

const NOVA = json({ schemaVersion: LABEL, system: [{ text: SYSTEM }], messages: alternating(ASK, ANSWER) });
const CLAUDE = json({ system: SYSTEM, messages: chat(ASK, ANSWER) });
const PC = json({ prompt: ASK, completion: ANSWER });
const INPUT_TEXT = 'Returns are accepted within thirty days.';
const INPUT = json({ input: INPUT_TEXT });
/** System last: its closing ] is the last thing read before the record's }. */
const NOVA_SYSTEM_LAST = json({
  messages: alternating(ASK, ANSWER),
  schemaVersion: LABEL,
  system: [{ text: SYSTEM }],
});
const nova = (...texts: string[]) => json({ schemaVersion: LABEL, messages: alternating(...texts) });
const claude = (...texts: string[]) => json({ messages: chat(...texts) });
const input = (text: string) => json({ input: text });

/**
 * What the full path makes of a line (fast path off), under the family's token limit: valid, its
 * problems, its findings; and, scanned again with a limit of 0, the exact character count its
 * TOO_MANY_TOKENS reason quotes.
 */
function fullPath(family: FamilyId, line: string) {
  const scanWithLimit = (maxTokensPerRecord: number) =>
    new RecordScanner({
      family,
      limits: { ...limitsFor(family), maxTokensPerRecord },
      thresholdRank: 2,
      allowValues: [],
      allowPatterns: [],
      maxFindings: 100,
      maxProblems: 100,
      redact: false,
      fastPath: false,
    }).scanBatch(Buffer.from(`${line}\n`), 1);
  const result = scanWithLimit(limitsFor(family).maxTokensPerRecord);
  // Over a limit of 0 tokens, the problem quotes the characters the full path counted.
  const tooMany = scanWithLimit(0).problems.find((p) => p.code === 'TOO_MANY_TOKENS');
  const quoted = tooMany ? /\(([\d,]+) characters/.exec(tooMany.reason)?.[1] : '0';
  return {
    validRecords: result.validRecords,
    problems: result.problems.map((p) => p.code),
    findings: result.totalFindings,
    chars: Number(quoted?.replace(/,/g, '')),
  };
}

// ---------------------------------------------------------------------------------------------
// Taken: [name, family, line, characters counted].

const TAKEN: readonly Counted[] = [
  // bedrock-conversation-2024: schemaVersion (a label, never counted), system? and messages.
  ['a conversation with a system block', 'bedrock-conversation-2024', NOVA, 62],
  ['the fixtures conversation, no system', 'bedrock-conversation-2024', conversation(ASK), 19 + 11],
  [
    'an empty system array',
    'bedrock-conversation-2024',
    json({ schemaVersion: LABEL, system: [], messages: alternating(ASK, ANSWER) }),
    38,
  ],
  [
    'three system blocks',
    'bedrock-conversation-2024',
    json({
      schemaVersion: LABEL,
      system: [{ text: 'Be brief.' }, { text: 'Be kind.' }, { text: 'Cite.' }],
      messages: alternating('a', 'b'),
    }),
    9 + 8 + 5 + 2,
  ],
  [
    'keys in reverse order, content before role',
    'bedrock-conversation-2024',
    json({
      messages: [
        { content: [{ text: ASK }], role: 'user' },
        { content: [{ text: ANSWER }], role: 'assistant' },
      ],
      system: [{ text: SYSTEM }],
      schemaVersion: LABEL,
    }),
    62,
  ],
  ['messages, then schemaVersion, then system', 'bedrock-conversation-2024', NOVA_SYSTEM_LAST, 62],
  ['four turns', 'bedrock-conversation-2024', nova('one', 'two', 'three', 'four'), 3 + 3 + 5 + 4],
  [
    'two text blocks in each turn',
    'bedrock-conversation-2024',
    json({ schemaVersion: LABEL, messages: [turn('user', 'ab', 'cde'), turn('assistant', 'f', 'ghij')] }),
    2 + 3 + 1 + 4,
  ],
  [
    'empty texts everywhere',
    'bedrock-conversation-2024',
    json({ schemaVersion: LABEL, system: [{ text: '' }], messages: alternating('', '') }),
    0,
  ],
  [
    'another schemaVersion string (scanned, not counted)',
    'bedrock-conversation-2024',
    json({ schemaVersion: 'bedrock-conversation-2023', messages: alternating(ASK, ANSWER) }),
    38,
  ],
  [
    'an empty schemaVersion',
    'bedrock-conversation-2024',
    json({ schemaVersion: '', messages: alternating(ASK, ANSWER) }),
    38,
  ],
  [
    'escapes \\n \\t \\" \\\\ in a text',
    'bedrock-conversation-2024',
    nova('say "hi"\nthen\tstop', 'C\\temp'),
    18 + 6,
  ],
  ['a text that is one escaped quote', 'bedrock-conversation-2024', nova('"', ANSWER), 1 + 19],
  ['a text that is one backslash', 'bedrock-conversation-2024', nova('\\', ANSWER), 1 + 19],
  ['a text ending in a backslash', 'bedrock-conversation-2024', nova('a\\', 'b\\\\'), 2 + 3],
  [
    'an escaped quote just before the closing quote',
    'bedrock-conversation-2024',
    nova('say "hi"', 'ok'),
    8 + 2,
  ],
  [
    'escaped quotes and slashes in every string',
    'bedrock-conversation-2024',
    json({ schemaVersion: LABEL, system: [{ text: '"a"' }], messages: alternating('b\\', '\\"c"') }),
    3 + 2 + 4,
  ],
  [
    'a text that looks like JSON',
    'bedrock-conversation-2024',
    nova('{"text":"x"},{"role":"user"}', ANSWER),
    28 + 19,
  ],
  [
    'brackets, braces and commas in a text',
    'bedrock-conversation-2024',
    nova('a], b}, {c [d', ANSWER),
    13 + 19,
  ],
  ['non-ASCII text (UTF-16 units)', 'bedrock-conversation-2024', nova('café ✓ 😀', '日本語です'), 9 + 5],
  [
    'colons that are no reserved keyword',
    'bedrock-conversation-2024',
    nova('at 10:30, ratio 3:4, Error: none, Format: json', ANSWER),
    46 + 19,
  ],
  [
    'a long text',
    'bedrock-conversation-2024',
    nova('the warehouse has stock '.repeat(100), ANSWER),
    2400 + 19,
  ],

  // claude-messages: system? (a string) and messages with string content.
  ['a Claude record with a system prompt', 'claude-messages', CLAUDE, 62],
  ['a Claude record without a system prompt', 'claude-messages', claude(ASK, ANSWER), 38],
  [
    'system after messages, content before role',
    'claude-messages',
    json({
      messages: [
        { content: ASK, role: 'user' },
        { content: ANSWER, role: 'assistant' },
      ],
      system: SYSTEM,
    }),
    62,
  ],
  ['empty system and contents', 'claude-messages', json({ system: '', messages: chat('', '') }), 0],
  ['four Claude turns', 'claude-messages', claude('one', 'two', 'three', 'four'), 15],
  ['escapes in Claude contents', 'claude-messages', claude('line\none', 'say "hi"'), 8 + 8],
  [
    'a \\u escape in a Claude content',
    'claude-messages',
    '{"messages":[{"role":"user","content":"caf\\u00e9"},{"role":"assistant","content":"ok"}]}',
    4 + 2,
  ],
  [
    'a Nova keyword in a Claude record (not reserved there)',
    'claude-messages',
    json({ system: 'User: <image>', messages: chat('Bot: [EOS]', 'Assistant: <video>') }),
    13 + 10 + 18,
  ],
  ['non-ASCII Claude contents', 'claude-messages', claude('naïve café', '😀'), 10 + 2],

  // prompt-completion: both keys, either order.
  ['a prompt and a completion', 'prompt-completion', PC, 38],
  ['completion before prompt', 'prompt-completion', json({ completion: ANSWER, prompt: ASK }), 38],
  ['an empty prompt and completion', 'prompt-completion', json({ prompt: '', completion: '' }), 0],
  [
    'escapes in both strings, the second starting with its only one',
    'prompt-completion',
    json({ prompt: 'line one\nline two', completion: '\tindented' }),
    17 + 9,
  ],
  [
    'an escape in the completion only',
    'prompt-completion',
    json({ prompt: ASK, completion: 'a\\b' }),
    19 + 3,
  ],
  [
    '\\u escapes (é, A) in a prompt',
    'prompt-completion',
    '{"prompt":"\\u0041BC caf\\u00e9","completion":"ok"}',
    8 + 2,
  ],
  ['an escaped slash', 'prompt-completion', '{"prompt":"and\\/or","completion":"ok"}', 6 + 2],
  [
    'a percent sign that is no escape',
    'prompt-completion',
    json({ prompt: 'a 50% discount', completion: 'ok' }),
    16,
  ],

  // continued-pretraining: input only.
  ['an input text', 'continued-pretraining', INPUT, 40],
  ['an empty input', 'continued-pretraining', input(''), 0],
  ['an input of one escaped quote', 'continued-pretraining', input('"'), 1],
  ['an input of one backslash', 'continued-pretraining', input('\\'), 1],
  ['an input of a backslash and a quote (three backslashes)', 'continued-pretraining', input('\\"'), 2],
  ['an input of two backslashes', 'continued-pretraining', input('\\\\'), 2],
  ['a surrogate pair written as escapes', 'continued-pretraining', '{"input":"\\ud83d\\ude00"}', 2],
  ['a DEL character (not a control character in JSON)', 'continued-pretraining', input('a\x7fb'), 3],
  ['a space (the first character that is no control)', 'continued-pretraining', input(' '), 1],
  ['a long input', 'continued-pretraining', input('returns are accepted '.repeat(200)), 4200],
];

const isAscii = (line: string) => /^[\x00-\x7f]*$/.test(line);

describe('plainRecordChars: a plain record is taken', () => {
  it.each(TAKEN)('counts %s (%s)', (_name, family, line, chars) => {
    expect(plainRecordChars(family, line)).toBe(chars);
    expect(plainRecordChars(family, line, false)).toBe(chars);
  });

  it.each(TAKEN.filter(([, , line]) => isAscii(line)))(
    'counts %s (%s) the same with the ASCII hint',
    (_name, family, line, chars) => {
      expect(plainRecordChars(family, line, true)).toBe(chars);
    },
  );

  it.each(TAKEN)(
    '%s (%s): the full path finds it valid and clean, counting the same',
    (_n, family, line, chars) => {
      expect(fullPath(family, line)).toEqual({ validRecords: 1, problems: [], findings: 0, chars });
    },
  );

  it('does not carry a count, a position or escape state from one call into the next', () => {
    const escaped = json({ prompt: 'line one\nline two', completion: 'say "hi"' });
    const halfCounted = json({ prompt: ASK, completion: fake.email });
    const sequence: readonly [FamilyId, string, number][] = [
      ['prompt-completion', PC, 38],
      ['prompt-completion', escaped, 25],
      ['prompt-completion', halfCounted, FALLBACK],
      ['prompt-completion', PC, 38],
      ['prompt-completion', `${PC} `, FALLBACK],
      ['prompt-completion', escaped, 25],
      ['bedrock-conversation-2024', NOVA, 62],
      ['prompt-completion', PC, 38],
      ['continued-pretraining', INPUT, 40],
      ['continued-pretraining', INPUT, 40],
    ];
    expect(sequence.map(([family, line]) => plainRecordChars(family, line))).toEqual(
      sequence.map(([, , chars]) => chars),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Fallbacks: [name, family, line]. Each line is a base record (taken) with one thing changed.

const START: readonly Row[] = [
  ['an empty line', 'continued-pretraining', ''],
  ['a leading space', 'continued-pretraining', ` ${INPUT}`],
  ['a byte-order mark', 'continued-pretraining', `\ufeff${INPUT}`],
  ['an array around the record', 'continued-pretraining', `[${INPUT}]`],
  ['a string', 'continued-pretraining', json(INPUT_TEXT)],
  ['a leading space (conversation)', 'bedrock-conversation-2024', ` ${NOVA}`],
];

const CONTROL: readonly Row[] = [
  ['a raw NUL in a string', 'continued-pretraining', edit(INPUT, 'Returns', 'Ret\u0000urns')],
  ['a raw tab in a string', 'continued-pretraining', edit(INPUT, 'are accepted', 'are\taccepted')],
  ['a raw line feed in a string', 'prompt-completion', edit(PC, 'Monday', 'Mon\nday')],
  ['a raw carriage return at the end', 'continued-pretraining', `${INPUT}\r`],
  ['a raw U+001F (the last control character)', 'continued-pretraining', edit(INPUT, 'thirty', 'thir\x1fty')],
  ['a raw U+0001 at the start of a string', 'claude-messages', edit(CLAUDE, '"You are', '"\x01You are')],
  ['a raw tab in a Nova text', 'bedrock-conversation-2024', edit(NOVA, 'Where is', 'Where\tis')],
];

const WHITESPACE: readonly Row[] = [
  ['a space after {', 'bedrock-conversation-2024', edit(NOVA, '{"schemaVersion"', '{ "schemaVersion"')],
  [
    'a space before a colon',
    'bedrock-conversation-2024',
    edit(NOVA, '"schemaVersion":', '"schemaVersion" :'),
  ],
  ['a space after a colon', 'bedrock-conversation-2024', edit(NOVA, '"schemaVersion":', '"schemaVersion": ')],
  ['a space after a comma', 'bedrock-conversation-2024', edit(NOVA, ',"system"', ', "system"')],
  ['a space after [ in system', 'bedrock-conversation-2024', edit(NOVA, '[{"text":"You', '[ {"text":"You')],
  ['a space before ] in system', 'bedrock-conversation-2024', edit(NOVA, 'agent."}]', 'agent."} ]')],
  [
    'a space inside a text block',
    'bedrock-conversation-2024',
    edit(NOVA, '{"text":"Where', '{"text": "Where'),
  ],
  ['a space after a role colon', 'bedrock-conversation-2024', edit(NOVA, '"role":"user"', '"role": "user"')],
  [
    'a space between messages',
    'bedrock-conversation-2024',
    edit(NOVA, '},{"role":"assistant"', '}, {"role":"assistant"'),
  ],
  ['a space before the last }', 'bedrock-conversation-2024', `${NOVA.slice(0, -1)} }`],
  ['a trailing space', 'bedrock-conversation-2024', `${NOVA} `],
  ['a space between Claude keys', 'claude-messages', edit(CLAUDE, ',"messages"', ' ,"messages"')],
  ['a space in a Claude message', 'claude-messages', edit(CLAUDE, ',"content":"Where', ', "content":"Where')],
  ['a space between prompt and completion', 'prompt-completion', edit(PC, ',"completion"', ', "completion"')],
  ['a space before the input value', 'continued-pretraining', edit(INPUT, ':"', ': "')],
];

const KEYS: readonly Row[] = [
  [
    'an unknown top-level key',
    'bedrock-conversation-2024',
    edit(NOVA, '{"schemaVersion"', '{"modelId":"nova-lite","schemaVersion"'),
  ],
  ['a capitalised key', 'bedrock-conversation-2024', edit(NOVA, '"system"', '"System"')],
  ['a key extending a known one', 'bedrock-conversation-2024', edit(NOVA, '"system"', '"systemPrompt"')],
  ['a key a known one extends', 'bedrock-conversation-2024', edit(NOVA, '"system"', '"syste"')],
  [
    'an unknown key in a message',
    'bedrock-conversation-2024',
    edit(NOVA, '{"role":"user"', '{"id":"t1","role":"user"'),
  ],
  ['a misspelt role key', 'bedrock-conversation-2024', edit(NOVA, '"role":"user"', '"rolE":"user"')],
  [
    'a content key extending the known one',
    'bedrock-conversation-2024',
    edit(NOVA, '"content":[{"text":"Where', '"contents":[{"text":"Where'),
  ],
  [
    'a content key with its closing quote replaced',
    'bedrock-conversation-2024',
    edit(NOVA, '"content":[{"text":"Where', '"contentX:[{"text":"Where'),
  ],
  [
    'a role key with its closing quote replaced',
    'bedrock-conversation-2024',
    edit(NOVA, '"role":"user"', '"roleX:"user"'),
  ],
  [
    'a key before text in a block',
    'bedrock-conversation-2024',
    edit(NOVA, '{"text":"Where', '{"type":"text","text":"Where'),
  ],
  [
    'a key after text in a block',
    'bedrock-conversation-2024',
    edit(NOVA, 'parcel?"}', 'parcel?","cachePoint":"default"}'),
  ],
  ['a misspelt text key', 'bedrock-conversation-2024', edit(NOVA, '{"text":"Where', '{"texT":"Where')],
  [
    'a text key with its colon replaced',
    'bedrock-conversation-2024',
    edit(NOVA, '{"text":"Where', '{"text";"Where'),
  ],
  [
    'a text key with its closing quote replaced',
    'bedrock-conversation-2024',
    edit(NOVA, '{"text":"Where', '{"textX:"Where'),
  ],
  ['an unknown Claude key', 'claude-messages', edit(CLAUDE, '{"system"', '{"model":"claude","system"')],
  [
    'a Claude message key extending content',
    'claude-messages',
    edit(CLAUDE, '"content":"Where', '"contents":"Where'),
  ],
  ['a prompt key extending the known one', 'prompt-completion', edit(PC, '"prompt"', '"prompts"')],
  ['a prompt key the known one extends', 'prompt-completion', edit(PC, '"prompt"', '"promp"')],
  ['a prompt key of the same length', 'prompt-completion', edit(PC, '"prompt"', '"prompX"')],
  [
    'an unknown key between prompt and completion',
    'prompt-completion',
    edit(PC, ',"completion"', ',"id":"7","completion"'),
  ],
  ['a text key in continued pre-training', 'continued-pretraining', '{"text":"Returns are accepted."}'],
  ['an input key extending the known one', 'continued-pretraining', edit(INPUT, '"input"', '"inputs"')],
  ['an input key of the same length', 'continued-pretraining', edit(INPUT, '"input"', '"inpux"')],
  ['an input key the known one extends', 'continued-pretraining', edit(INPUT, '"input"', '"inpu"')],
  ['a key without its opening quote', 'continued-pretraining', edit(INPUT, '{"input"', '{xinput"')],
  ['a key with its closing quote replaced', 'continued-pretraining', edit(INPUT, '"input":', '"inputx:')],
  ['a key with its colon replaced', 'continued-pretraining', edit(INPUT, '"input":', '"input";')],
  ['an unquoted key', 'continued-pretraining', edit(INPUT, '"input"', 'input')],
  ['a key written with an escape', 'continued-pretraining', edit(INPUT, '"input"', '"inp\\u0075t"')],
];

const REPEATED: readonly Row[] = [
  [
    'schemaVersion twice',
    'bedrock-conversation-2024',
    edit(NOVA, '{"schemaVersion"', `{"schemaVersion":"${LABEL}","schemaVersion"`),
  ],
  ['system twice', 'bedrock-conversation-2024', edit(NOVA, ',"messages"', ',"system":[],"messages"')],
  [
    'messages twice',
    'bedrock-conversation-2024',
    `${NOVA.slice(0, -1)},${NOVA.slice(NOVA.indexOf('"messages"'))}`,
  ],
  [
    'role twice in a message',
    'bedrock-conversation-2024',
    edit(NOVA, '{"role":"user"', '{"role":"user","role":"user"'),
  ],
  [
    'content twice in a message',
    'bedrock-conversation-2024',
    edit(NOVA, '{"role":"user",', '{"role":"user","content":[{"text":"x"}],'),
  ],
  [
    'text twice in a block',
    'bedrock-conversation-2024',
    edit(NOVA, '{"text":"Where', '{"text":"x","text":"Where'),
  ],
  ['system twice (Claude)', 'claude-messages', edit(CLAUDE, '{"system"', '{"system":"","system"')],
  [
    'messages twice (Claude)',
    'claude-messages',
    `${CLAUDE.slice(0, -1)},${CLAUDE.slice(CLAUDE.indexOf('"messages"'))}`,
  ],
  [
    'role twice in a Claude message',
    'claude-messages',
    edit(CLAUDE, '{"role":"user"', '{"role":"user","role":"user"'),
  ],
  [
    'content twice in a Claude message',
    'claude-messages',
    edit(CLAUDE, '{"role":"user",', '{"role":"user","content":"x",'),
  ],
  ['prompt twice', 'prompt-completion', edit(PC, '{"prompt"', '{"prompt":"x","prompt"')],
  ['completion twice', 'prompt-completion', `${PC.slice(0, -1)},"completion":"x"}`],
  ['input twice', 'continued-pretraining', '{"input":"a","input":"a"}'],
];

const MISSING: readonly Row[] = [
  [
    'no schemaVersion',
    'bedrock-conversation-2024',
    json({ system: [{ text: SYSTEM }], messages: alternating(ASK, ANSWER) }),
  ],
  ['no messages', 'bedrock-conversation-2024', json({ schemaVersion: LABEL, system: [{ text: SYSTEM }] })],
  ['only messages (Nova)', 'bedrock-conversation-2024', json({ messages: alternating(ASK, ANSWER) })],
  ['an empty object (Nova)', 'bedrock-conversation-2024', '{}'],
  [
    'a message without content',
    'bedrock-conversation-2024',
    edit(NOVA, '{"role":"assistant","content":[{"text":"It ships on Monday."}]}', '{"role":"assistant"}'),
  ],
  ['a message without role', 'bedrock-conversation-2024', edit(NOVA, '{"role":"user",', '{')],
  [
    'an empty message',
    'bedrock-conversation-2024',
    edit(NOVA, '{"role":"user","content":[{"text":"Where is my parcel?"}]}', '{}'),
  ],
  ['an empty text block', 'bedrock-conversation-2024', edit(NOVA, '{"text":"Where is my parcel?"}', '{}')],
  ['no messages (Claude)', 'claude-messages', json({ system: SYSTEM })],
  ['an empty object (Claude)', 'claude-messages', '{}'],
  ['a Claude message without role', 'claude-messages', edit(CLAUDE, '{"role":"user",', '{')],
  [
    'a Claude message without content',
    'claude-messages',
    edit(CLAUDE, ',"content":"It ships on Monday."', ''),
  ],
  ['no completion', 'prompt-completion', json({ prompt: ASK })],
  ['no prompt', 'prompt-completion', json({ completion: ANSWER })],
  ['an empty object (prompt-completion)', 'prompt-completion', '{}'],
  ['an empty object (continued pre-training)', 'continued-pretraining', '{}'],
];

/** Where a string is expected: a number, null, a boolean, an object, an array, a bare word. */
const NOT_STRINGS = [
  ['a number', '2024'],
  ['a negative number', '-1'],
  ['null', 'null'],
  ['true', 'true'],
  ['false', 'false'],
  ['an object', '{"text":"a"}'],
  ['an array', '["a"]'],
  ['a bare word ending in a quote', 'ab"'],
  ['a number ending in a quote', '1"'],
] as const;

const TYPES: readonly Row[] = [
  ...NOT_STRINGS.flatMap(([what, value]): Row[] => [
    [`${what} as schemaVersion`, 'bedrock-conversation-2024', edit(NOVA, `"${LABEL}"`, value)],
    [`${what} as a system text`, 'bedrock-conversation-2024', edit(NOVA, `"${SYSTEM}"`, value)],
    [`${what} as a turn's text`, 'bedrock-conversation-2024', edit(NOVA, `"${ANSWER}"`, value)],
    [`${what} as the role`, 'bedrock-conversation-2024', edit(NOVA, '"user"', value)],
    [`${what} as the Claude system`, 'claude-messages', edit(CLAUDE, `"${SYSTEM}"`, value)],
    [`${what} as a Claude content`, 'claude-messages', edit(CLAUDE, `"${ASK}"`, value)],
    [`${what} as the prompt`, 'prompt-completion', edit(PC, `"${ASK}"`, value)],
    [`${what} as the completion`, 'prompt-completion', edit(PC, `"${ANSWER}"`, value)],
    [`${what} as the input`, 'continued-pretraining', edit(INPUT, `"${INPUT_TEXT}"`, value)],
  ]),
  [
    'a string as the Nova system',
    'bedrock-conversation-2024',
    edit(NOVA, `[{"text":"${SYSTEM}"}]`, `"${SYSTEM}"`),
  ],
  ['null as the Nova system', 'bedrock-conversation-2024', edit(NOVA, `[{"text":"${SYSTEM}"}]`, 'null')],
  [
    'an object as the Nova system',
    'bedrock-conversation-2024',
    edit(NOVA, `[{"text":"${SYSTEM}"}]`, `{"text":"${SYSTEM}"}`),
  ],
  [
    'a string in the system array',
    'bedrock-conversation-2024',
    edit(NOVA, `[{"text":"${SYSTEM}"}]`, `["${SYSTEM}"]`),
  ],
  [
    'a nested system array',
    'bedrock-conversation-2024',
    edit(NOVA, `[{"text":"${SYSTEM}"}]`, `[[{"text":"${SYSTEM}"}]]`),
  ],
  ['a string as a Nova content', 'bedrock-conversation-2024', edit(NOVA, `[{"text":"${ASK}"}]`, `"${ASK}"`)],
  ['an empty Nova content', 'bedrock-conversation-2024', edit(NOVA, `[{"text":"${ASK}"}]`, '[]')],
  [
    'a string in a Nova content',
    'bedrock-conversation-2024',
    edit(NOVA, `[{"text":"${ASK}"}]`, `["${ASK}"]`),
  ],
  [
    'an object as messages',
    'bedrock-conversation-2024',
    json({ schemaVersion: LABEL, messages: { first: turn('user', ASK) } }),
  ],
  ['a string as messages', 'bedrock-conversation-2024', json({ schemaVersion: LABEL, messages: 'hello' })],
  ['an empty messages array', 'bedrock-conversation-2024', json({ schemaVersion: LABEL, messages: [] })],
  [
    'a string as a message',
    'bedrock-conversation-2024',
    json({ schemaVersion: LABEL, messages: ['hi', 'ho'] }),
  ],
  ['an array as a Claude content', 'claude-messages', edit(CLAUDE, `"${ASK}"`, `[{"text":"${ASK}"}]`)],
  ['a string as Claude messages', 'claude-messages', json({ messages: 'hello' })],
  ['an empty Claude messages array', 'claude-messages', json({ messages: [] })],
];

const TURNS: readonly Row[] = [
  [
    'the assistant first',
    'bedrock-conversation-2024',
    json({ schemaVersion: LABEL, messages: [turn('assistant', ASK), turn('user', ANSWER)] }),
  ],
  [
    'the user twice',
    'bedrock-conversation-2024',
    json({ schemaVersion: LABEL, messages: [turn('user', ASK), turn('user', ANSWER)] }),
  ],
  [
    'the assistant twice',
    'bedrock-conversation-2024',
    json({
      schemaVersion: LABEL,
      messages: [turn('user', ASK), turn('assistant', 'a'), turn('assistant', 'b'), turn('user', 'c')],
    }),
  ],
  [
    'a system turn',
    'bedrock-conversation-2024',
    json({
      schemaVersion: LABEL,
      messages: [turn('system', SYSTEM), turn('user', ASK), turn('assistant', ANSWER), turn('user', 'x')],
    }),
  ],
  ['a capitalised role', 'bedrock-conversation-2024', edit(NOVA, '"role":"user"', '"role":"User"')],
  ['a role extending user', 'bedrock-conversation-2024', edit(NOVA, '"role":"user"', '"role":"users"')],
  ['a role user extends', 'bedrock-conversation-2024', edit(NOVA, '"role":"user"', '"role":"use"')],
  [
    'a role extending assistant',
    'bedrock-conversation-2024',
    edit(NOVA, '"role":"assistant"', '"role":"assistants"'),
  ],
  [
    'a role assistant extends',
    'bedrock-conversation-2024',
    edit(NOVA, '"role":"assistant"', '"role":"assistan"'),
  ],
  [
    'a user role with its closing quote replaced',
    'bedrock-conversation-2024',
    edit(NOVA, '"role":"user"', '"role":"userX'),
  ],
  [
    'an assistant role with its closing quote replaced',
    'bedrock-conversation-2024',
    edit(NOVA, '"role":"assistant"', '"role":"assistantX'),
  ],
  [
    'a role without its opening quote',
    'bedrock-conversation-2024',
    edit(NOVA, '"role":"user"', '"role":Xuser"'),
  ],
  [
    'a role written with an escape',
    'bedrock-conversation-2024',
    edit(NOVA, '"role":"user"', '"role":"us\\u0065r"'),
  ],
  ['one turn', 'bedrock-conversation-2024', nova(ASK)],
  ['three turns', 'bedrock-conversation-2024', nova(ASK, ANSWER, 'And the refund?')],
  ['five turns', 'bedrock-conversation-2024', nova('a', 'b', 'c', 'd', 'e')],
  [
    'the assistant first (Claude)',
    'claude-messages',
    json({
      messages: [
        { role: 'assistant', content: ASK },
        { role: 'user', content: ANSWER },
      ],
    }),
  ],
  [
    'a system turn (Claude)',
    'claude-messages',
    json({ messages: [{ role: 'system', content: SYSTEM }, ...chat(ASK, ANSWER)] }),
  ],
  ['one turn (Claude)', 'claude-messages', claude(ASK)],
  ['three turns (Claude)', 'claude-messages', claude(ASK, ANSWER, 'And the refund?')],
];

const SEPARATORS: readonly Row[] = [
  ['garbage after the record', 'continued-pretraining', `${INPUT}x`],
  ['a second } after the record', 'continued-pretraining', `${INPUT}}`],
  ['a comma after the record', 'continued-pretraining', `${INPUT},`],
  ['two records on one line', 'continued-pretraining', `${INPUT}${INPUT}`],
  ['a ] after the record', 'bedrock-conversation-2024', `${NOVA}]`],
  ['a trailing comma in the record', 'continued-pretraining', edit(INPUT, '."}', '.",}')],
  ['a leading comma in the record', 'continued-pretraining', edit(INPUT, '{"', '{,"')],
  ['two commas between keys', 'prompt-completion', edit(PC, ',"completion"', ',,"completion"')],
  ['a colon between keys', 'prompt-completion', edit(PC, ',"completion"', ':"completion"')],
  ['] closing the record', 'continued-pretraining', edit(INPUT, '."}', '."]')],
  ['a trailing comma in system', 'bedrock-conversation-2024', edit(NOVA, 'agent."}]', 'agent."},]')],
  ['a trailing comma in a content', 'bedrock-conversation-2024', edit(NOVA, 'parcel?"}]', 'parcel?"},]')],
  ['a trailing comma in messages', 'bedrock-conversation-2024', edit(NOVA, 'Monday."}]}]', 'Monday."}]},]')],
  ['a trailing comma in a message', 'bedrock-conversation-2024', edit(NOVA, 'parcel?"}]}', 'parcel?"}]},}')],
  ['} closing the system array', 'bedrock-conversation-2024', edit(NOVA, 'agent."}]', 'agent."}}')],
  ['] closing a text block', 'bedrock-conversation-2024', edit(NOVA, 'parcel?"}]', 'parcel?"]]')],
  ['} closing a content array', 'bedrock-conversation-2024', edit(NOVA, 'parcel?"}]}', 'parcel?"}}}')],
  ['] closing a message', 'bedrock-conversation-2024', edit(NOVA, 'parcel?"}]}', 'parcel?"}]]')],
  ['} closing the messages array', 'bedrock-conversation-2024', `${NOVA.slice(0, -2)}}}`],
  [
    'a comma instead of a colon after role',
    'bedrock-conversation-2024',
    edit(NOVA, '"role":"user"', '"role","user"'),
  ],
  ['a trailing comma in Claude messages', 'claude-messages', edit(CLAUDE, 'Monday."}]', 'Monday."},]')],
  ['] closing a Claude message', 'claude-messages', edit(CLAUDE, 'parcel?"}', 'parcel?"]')],
];

const ESCAPES: readonly Row[] = [
  ['\\x, which JSON does not know', 'continued-pretraining', edit(INPUT, 'thirty', '\\x41thirty')],
  ["\\', which JSON does not know", 'prompt-completion', edit(PC, 'Monday', "Monday\\'s")],
  ['\\a, which JSON does not know', 'claude-messages', edit(CLAUDE, 'parcel', 'parc\\ael')],
  ['a \\u escape of two digits', 'continued-pretraining', edit(INPUT, 'thirty', '\\u12thirty')],
  ['a \\u escape of non-hex digits', 'prompt-completion', edit(PC, 'Monday', '\\uZZZZMonday')],
  ['a \\u escape cut by the closing quote', 'continued-pretraining', edit(INPUT, 'days."', 'days.\\u00e"')],
  ['a backslash escaping the closing quote', 'continued-pretraining', edit(INPUT, 'days."}', 'days.\\"}')],
  ['a backslash escaping the prompt closing quote', 'prompt-completion', edit(PC, 'parcel?"', 'parcel?\\"')],
  [
    'three backslashes before the closing quote',
    'continued-pretraining',
    edit(INPUT, 'days."}', 'days.\\\\\\"}'),
  ],
  ['\\x in a Nova text', 'bedrock-conversation-2024', edit(NOVA, 'parcel', 'parc\\xel')],
  ['\\x in a Nova schemaVersion', 'bedrock-conversation-2024', edit(NOVA, LABEL, 'bedrock\\x')],
];

/** Every prefix of a line, from empty to one character short: each is cut at a different point. */
const truncations = (name: string, family: FamilyId, line: string): Row[] =>
  Array.from(
    { length: line.length },
    (_, n): Row => [`${name} cut after ${n} characters`, family, line.slice(0, n)],
  );

const TRUNCATED: readonly Row[] = [
  ...truncations('a Nova record', 'bedrock-conversation-2024', NOVA),
  ...truncations('a Nova record with escapes', 'bedrock-conversation-2024', nova('say "hi"\\', 'ok')),
  ...truncations('a Claude record', 'claude-messages', CLAUDE),
  ...truncations('a prompt-completion record', 'prompt-completion', PC),
  ...truncations(
    'an escaped prompt-completion record',
    'prompt-completion',
    json({ prompt: 'a\\', completion: '"b"' }),
  ),
  ...truncations('an input record', 'continued-pretraining', input('quote " and backslash \\')),
];

/**
 * Each structural character of a line ({ } [ ] , : and quotes: the base records' texts hold none)
 * deleted, or doubled: either way the line is no longer JSON of the family's shape.
 */
const STRUCTURAL = /[{}[\],:"]/g;
const cutsAndDoubles = (name: string, family: FamilyId, line: string): Row[] =>
  [...line.matchAll(STRUCTURAL)].flatMap(({ 0: c, index: at }): Row[] => [
    [`${name} without its ${c} at ${at}`, family, line.slice(0, at) + line.slice(at + 1)],
    [`${name} with its ${c} at ${at} doubled`, family, line.slice(0, at) + c + line.slice(at)],
  ]);

const CUT_OR_DOUBLED: readonly Row[] = [
  ...cutsAndDoubles('a Nova record', 'bedrock-conversation-2024', NOVA),
  ...cutsAndDoubles('a Nova record, system last', 'bedrock-conversation-2024', NOVA_SYSTEM_LAST),
  ...cutsAndDoubles('a Claude record', 'claude-messages', CLAUDE),
  ...cutsAndDoubles('a prompt-completion record', 'prompt-completion', PC),
  ...cutsAndDoubles('an input record', 'continued-pretraining', INPUT),
];

describe('plainRecordChars: anything else falls back', () => {
  it.each(START)('not starting with {: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(CONTROL)('a control character: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(WHITESPACE)('whitespace between tokens: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(KEYS)('a key not of the format: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(REPEATED)('a repeated key: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(MISSING)('a missing required key: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(TYPES)('a value of another type: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(TURNS)('turns out of order or number: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(SEPARATORS)('a separator out of place: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(ESCAPES)('a bad escape: %s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it('a structural character deleted or doubled, at every place of one record of each family', () => {
    const taken = CUT_OR_DOUBLED.filter(([, family, line]) => plainRecordChars(family, line) !== FALLBACK);
    expect(taken.map(([name]) => name)).toEqual([]);
  });
  it('a truncated line, at every point of one record of each family', () => {
    const taken = TRUNCATED.filter(([, family, line]) => plainRecordChars(family, line) !== FALLBACK);
    expect(taken.map(([name]) => name)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Possible findings: any detector match in any string sends the line the full way.

/** What is found, by name (the values are never printed). */
const FINDINGS: readonly (readonly [kind: string, value: string])[] = [
  ['an email', `write to ${fake.email} today`],
  ['an example email (the allow-list may suppress it)', fake.exampleEmail],
  ['a card number', `card ${fake.card}`],
  ['a test card number', fake.testCard],
  ['a US social security number', fake.ssn],
  ['a phone number', `call ${fake.phone}`],
  ['an IBAN', fake.iban],
  ['an IPv4 address', `server ${fake.ipv4}`],
  ['an AWS access key id', fake.awsAccessKeyId],
  ['a GitHub token', fake.githubToken],
  ['a JWT', fake.jwt],
  ['a password assignment', `password = ${fake.password}`],
  ['a percent-encoded email', fake.email.replace('@', '%40')],
  ['a full-width @ in an email', fake.email.replace('@', '\uff20')],
];

/** Each string position of each family, with the value put there. */
const POSITIONS: readonly (readonly [where: string, family: FamilyId, line: (value: string) => string])[] = [
  [
    'a Nova system text',
    'bedrock-conversation-2024',
    (v) =>
      json({
        schemaVersion: LABEL,
        system: [{ text: 'x' }, { text: v }],
        messages: alternating(ASK, ANSWER),
      }),
  ],
  ['a Nova user text', 'bedrock-conversation-2024', (v) => nova(v, ANSWER)],
  [
    'the second block of a Nova turn',
    'bedrock-conversation-2024',
    (v) => json({ schemaVersion: LABEL, messages: [turn('user', ASK), turn('assistant', ANSWER, v)] }),
  ],
  ['the fourth Nova turn', 'bedrock-conversation-2024', (v) => nova('a', 'b', 'c', v)],
  [
    'the Nova schemaVersion',
    'bedrock-conversation-2024',
    (v) => json({ schemaVersion: v, messages: alternating(ASK, ANSWER) }),
  ],
  ['the Claude system', 'claude-messages', (v) => json({ system: v, messages: chat(ASK, ANSWER) })],
  ['a Claude user content', 'claude-messages', (v) => claude(v, ANSWER)],
  ['the last Claude content', 'claude-messages', (v) => claude(ASK, ANSWER, 'c', v)],
  ['the prompt', 'prompt-completion', (v) => json({ prompt: v, completion: ANSWER })],
  ['the completion', 'prompt-completion', (v) => json({ prompt: ASK, completion: v })],
  ['the input', 'continued-pretraining', (v) => input(v)],
];

const FOUND: readonly Row[] = FINDINGS.flatMap(([kind, value]) =>
  POSITIONS.map(([where, family, line]): Row => [`${kind} in ${where}`, family, line(value)]),
);

/** Findings only an escape spells: the detectors must see the decoded string. */
const ESCAPED_FINDINGS: readonly Row[] = [
  [
    'an email with \\u0040 for @ in the prompt',
    'prompt-completion',
    json({ prompt: fake.email, completion: ANSWER }).replace('@', '\\u0040'),
  ],
  [
    'an email with \\u0040 for @ in a Claude content',
    'claude-messages',
    claude(fake.email, ANSWER).replace('@', '\\u0040'),
  ],
  [
    'an email with \\u0040 for @ in the input',
    'continued-pretraining',
    input(fake.email).replace('@', '\\u0040'),
  ],
  ['an email after an escaped quote', 'continued-pretraining', input(`"${fake.email}"`)],
  [
    'an email in the second of two escaped strings',
    'prompt-completion',
    json({ prompt: 'a\nb', completion: `"${fake.email}"` }),
  ],
];

describe('plainRecordChars: a possible finding falls back', () => {
  it.each(FOUND)('%s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
    expect(plainRecordChars(family, line, false)).toBe(FALLBACK);
  });
  it.each(ESCAPED_FINDINGS)('%s (%s)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
});

// ---------------------------------------------------------------------------------------------
// Nova reserved keywords, and the families the fast path never takes.

const KEYWORDS = ['User:', 'Bot:', 'Assistant:', 'System:', '<image>', '<video>', '[EOS]'];

const RESERVED: readonly Row[] = [
  ...KEYWORDS.flatMap((keyword): Row[] => [
    [`${keyword} opening a user text`, 'bedrock-conversation-2024', nova(`${keyword} hi`, ANSWER)],
    [
      `${keyword} inside an assistant text`,
      'bedrock-conversation-2024',
      nova(ASK, `then ${keyword} said ok`),
    ],
    [`${keyword} in a system text`, 'bedrock-conversation-2024', edit(NOVA, SYSTEM, `${SYSTEM} ${keyword}`)],
  ]),
  [
    'a \\u escape (it could spell a keyword)',
    'bedrock-conversation-2024',
    edit(NOVA, 'parcel', 'parc\\u0065l'),
  ],
  [
    'a \\u escape in the schemaVersion',
    'bedrock-conversation-2024',
    edit(NOVA, LABEL, 'bedrock\\u002dconversation'),
  ],
  [
    'a keyword spelt with a \\u escape',
    'bedrock-conversation-2024',
    edit(NOVA, 'Where', 'User\\u003a Where'),
  ],
];

const NEVER: readonly Row[] = [
  [
    'a distillation prompt',
    'conversation-prompts',
    json({ schemaVersion: LABEL, messages: [turn('user', ASK)] }),
  ],
  ['a labelled distillation record', 'conversation-prompts', NOVA],
  ['the fixtures conversation', 'conversation-prompts', conversation(ASK)],
  [
    'an RFT record',
    'rft-chat',
    json({ messages: [{ role: 'user', content: ASK }], reference_answer: ANSWER }),
  ],
  ['a Claude-shaped record', 'rft-chat', CLAUDE],
  ['an input record', 'rft-chat', INPUT],
];

describe('plainRecordChars: Nova reserved keywords and the prompt-only families fall back', () => {
  it.each(RESERVED)('%s (bedrock-conversation-2024)', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
  it.each(NEVER)('%s (%s) is always left to the full checks', (_name, family, line) => {
    expect(plainRecordChars(family, line)).toBe(FALLBACK);
  });
});
