/**
 * The fast path (fastpath.ts) must change nothing but speed: with it on or off, every batch gives
 * the same result, whatever the lines hold. Also pins the shared searches of the line gate and
 * the one-pass digit gate to the checks they replace.
 */
import { describe, expect, it } from '@jest/globals';
import { hasDigitCluster } from '../../../functions/shared/guard/detectors';
import { detectAll, lineGateMask } from '../../../functions/shared/guard/registry';
import { FALLBACK, plainRecordChars } from '../../../functions/shared/guard/fastpath';
import { type FamilyId, FAMILIES, limitsFor } from '../../../functions/shared/guard/limits';
import { RecordScanner } from '../../../functions/shared/guard/records';
import { mayHoldReservedKeyword } from '../../../functions/shared/guard/schemas';
import { fake } from './fixtures';

function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n: number) => {
    s = (s * 48271) % 2147483647;
    return s % n;
  };
}

/** Bits of text that exercise every detector, the reserved keywords, escapes and JSON's corners. */
const PIECES = [
  'the quarterly report',
  'ship it on 2024-03-13 at 10:30',
  'version 2.4.1',
  '512',
  '1 2 3 4 5 6 7 8 9',
  'call (415) 867-5309',
  fake.phone,
  fake.card,
  fake.testCard,
  fake.ssn,
  `ssn 219384417`,
  fake.iban,
  fake.email,
  fake.exampleEmail,
  'server 34.12.200.7',
  'host fe80::1 or 2001:db8::1',
  fake.awsAccessKeyId,
  fake.awsExampleKeyId,
  `aws_secret_access_key = ${fake.awsSecretKey}`,
  `AWS secret ${fake.awsSecretKey}`,
  fake.githubToken,
  fake.slackToken,
  fake.slackWebhook,
  fake.stripeLive,
  fake.googleApiKey,
  fake.jwt,
  `Authorization: Bearer ${fake.jwt}`,
  `password = ${fake.password}`,
  `password: ${fake.password}`,
  `Authorization: Bearer ${fake.password}abc`,
  'Secret sauce',
  'SECRET',
  'some_thing',
  'a = b',
  'User: hi',
  'Assistant: hello',
  'Bot: x',
  'System: y',
  '<image>',
  '<video>',
  '[EOS]',
  'ratio 3:4::5',
  '-----BEGIN RSA PRIVATE KEY-----',
  'café ✓ 😀',
  '\n',
  '\t',
  '"quoted"',
  'back\\slash',
  '\u0000',
  '\u2028',
];

/** Text with nothing to find, so that many records are plain enough for the fast path. */
const HARMLESS = [
  'please summarize the meeting notes',
  'the warehouse has stock',
  'returns are accepted within thirty days',
  'thanks',
  'ok',
  'see you tomorrow',
];

function text(next: (n: number) => number): string {
  const parts: string[] = [];
  const count = next(4);
  for (let i = 0; i < count; i++) {
    parts.push((next(3) === 0 ? PIECES[next(PIECES.length)] : HARMLESS[next(HARMLESS.length)]) as string);
  }
  return parts.join(' ');
}

function record(family: FamilyId, next: (n: number) => number): Record<string, unknown> {
  const turns = 2 * (1 + next(2));
  const messages = [];
  for (let t = 0; t < turns; t++) {
    const role = t % 2 === 0 ? 'user' : 'assistant';
    messages.push(
      family === 'claude-messages'
        ? { role, content: text(next) }
        : { role, content: Array.from({ length: 1 + next(2) }, () => ({ text: text(next) })) },
    );
  }
  switch (family) {
    case 'prompt-completion':
      return next(2)
        ? { prompt: text(next), completion: text(next) }
        : { completion: text(next), prompt: text(next) };
    case 'claude-messages':
      return next(2) ? { system: text(next), messages } : { messages };
    case 'bedrock-conversation-2024': {
      const out: Record<string, unknown> = {
        schemaVersion: next(8) ? 'bedrock-conversation-2024' : text(next),
      };
      if (next(2)) out['system'] = Array.from({ length: next(3) }, () => ({ text: text(next) }));
      out['messages'] = messages;
      return next(4) ? out : { messages: out['messages'], ...out };
    }
    case 'conversation-prompts': {
      // Distillation prompts: unlabelled (last turn the user's) or labelled.
      const prompts = next(2) ? messages.slice(0, -1) : messages;
      return { schemaVersion: 'bedrock-conversation-2024', messages: prompts };
    }
    case 'continued-pretraining':
      return next(6) ? { input: text(next) } : { input: text(next), note: text(next) };
    case 'rft-chat':
      return {
        messages: [
          { role: 'system', content: text(next) },
          { role: 'user', content: text(next) },
        ],
        reference_answer: next(2) ? text(next) : { answer: text(next) },
        ...(next(2) ? { id: text(next) } : {}),
      };
  }
}

/** Small edits of a JSON line: most break the fast path's grammar, some break JSON or the schema. */
function mutate(line: string, next: (n: number) => number): string {
  const at = next(line.length + 1);
  switch (next(12)) {
    case 0:
      return line.slice(0, at) + ' ' + line.slice(at);
    case 1:
      return line.slice(0, at) + line.slice(at + 1);
    case 2:
      return line.slice(0, at);
    case 3:
      return `${line} `;
    case 4:
      return line.replace('"user"', '"assistant"');
    case 5:
      return line.replace('"text":', '"text":"x","text":');
    case 6:
      return line.replace('{', '{"extra":1,');
    case 7:
      return line.replace(/"[a-z]+":"/, (m) => `${m}\\u0041`);
    case 8:
      return line.replace('"text"', '"te\\u0078t"');
    case 9:
      return line.replace(/"content":\[[^\]]*\]/, '"content":[]');
    case 10:
      return line.replace(/,\{"role":"user"[^\]]*\]\}\]/, ']');
    default:
      return line;
  }
}

function lines(family: FamilyId, count: number, seed: number): string[] {
  const next = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let line = JSON.stringify(record(family, next));
    if (next(3) === 0) line = mutate(line, next);
    out.push(line);
  }
  return out;
}

function scanner(family: FamilyId, fastPath: boolean, redact: boolean, allow = false): RecordScanner {
  return new RecordScanner({
    family,
    limits: { ...limitsFor(family), maxTokensPerRecord: 120 },
    thresholdRank: 2,
    allowValues: allow ? [fake.email] : [],
    allowPatterns: allow ? [{ source: '^AKIA', flags: '' }] : [],
    maxFindings: 10_000,
    maxProblems: 10_000,
    redact,
    fastPath,
  });
}

describe('the fast path of the record checks', () => {
  it.each(FAMILIES.map((f) => [f]))('gives the same batch result as the full checks (%s)', (family) => {
    const batch = lines(family, 1500, 11 + family.length);
    const bytes = Buffer.from(`${batch.join('\n')}\n`);
    for (const redact of [false, true]) {
      for (const allow of [false, true]) {
        const fast = scanner(family, true, redact, allow).scanBatch(bytes, 1);
        const full = scanner(family, false, redact, allow).scanBatch(bytes, 1);
        expect(fast).toEqual(full);
      }
    }
    const taken = batch.filter((line) => plainRecordChars(family, line) !== FALLBACK).length;
    if (family === 'conversation-prompts' || family === 'rft-chat') {
      // Small datasets (distillation ≤ 15K, RFT ≤ 20K prompts): always the full checks.
      expect(taken).toBe(0);
      return;
    }
    // The comparison means something only if both paths were taken often.
    expect(taken).toBeGreaterThan(batch.length / 10);
    expect(taken).toBeLessThan(batch.length * 0.9);
  });

  it('gives the same result over parts as over their concatenation', () => {
    const batch = lines('bedrock-conversation-2024', 200, 5);
    const parts = [
      Buffer.from(`${batch.slice(0, 50).join('\n')}\n`),
      Buffer.from(batch[50] as string),
      Buffer.from(`${batch.slice(51).join('\n')}\n`),
    ];
    const whole = scanner('bedrock-conversation-2024', true, true).scanBatch(
      Buffer.concat([...parts.slice(0, 2), Buffer.from('\n'), parts[2] as Buffer]),
      3,
    );
    expect(scanner('bedrock-conversation-2024', true, true).scanParts(parts, 3)).toEqual(whole);
  });

  it('leaves lines that may hold a reserved keyword to the full checks', () => {
    for (const line of lines('bedrock-conversation-2024', 1500, 17)) {
      if (mayHoldReservedKeyword(line))
        expect(plainRecordChars('bedrock-conversation-2024', line)).toBe(FALLBACK);
    }
  });

  it('counts what the full walk counts', () => {
    const line = JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'be brief' }],
      messages: [
        { role: 'user', content: [{ text: 'say "hi"\nthen stop' }] },
        { content: [{ text: 'hi' }], role: 'assistant' },
      ],
    });
    expect(plainRecordChars('bedrock-conversation-2024', line)).toBe(
      'be brief'.length + 'say "hi"\nthen stop'.length + 2,
    );
  });
});

describe('the line gate', () => {
  it('sets every bit whose detector can match a string of the line', () => {
    for (const family of FAMILIES) {
      for (const line of lines(family, 800, 23)) {
        const mask = lineGateMask(line);
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          continue;
        }
        const strings: string[] = [];
        const visit = (node: unknown) => {
          if (typeof node === 'string') strings.push(node);
          else if (Array.isArray(node)) node.forEach(visit);
          else if (node && typeof node === 'object') {
            for (const [k, v] of Object.entries(node)) {
              strings.push(k);
              visit(v);
            }
          }
        };
        visit(value);
        for (const s of strings) expect(detectAll(s, mask)).toEqual(detectAll(s));
      }
    }
  });

  it('gives the same mask with or without the backslash and ASCII hints', () => {
    for (const line of lines('bedrock-conversation-2024', 800, 29)) {
      const mask = lineGateMask(line);
      expect(lineGateMask(line, line.includes('\\'))).toBe(mask);
      expect(lineGateMask(line, line.includes('\\'), /^[\x00-\x7f]*$/.test(line))).toBe(mask);
    }
  });
});

describe('the digit gate', () => {
  // The two tests it replaces, as first written.
  const NINE_DIGITS = new RegExp(`\\d${'[ ().\\-/]{0,2}\\d'.repeat(8)}`);
  const DOTTED_QUAD = /\d\.\d{1,3}\.\d{1,3}\.\d/;

  it('passes exactly the texts with nine grouped digits or a dotted quad', () => {
    const next = rng(41);
    const alphabet = '0123456789 ().-/a:';
    for (let round = 0; round < 20_000; round++) {
      let s = '';
      const length = 1 + next(30);
      for (let i = 0; i < length; i++) s += alphabet[next(next(2) ? 10 : alphabet.length)];
      expect(hasDigitCluster(s)).toBe(NINE_DIGITS.test(s) || DOTTED_QUAD.test(s));
    }
  });
});
