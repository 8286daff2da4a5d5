/**
 * The detectors' view of a text (functions/shared/guard/normalize.ts), character by character:
 * what each escape and Unicode form becomes, where every view character came from (the offsets a
 * match is redacted over), and what stays as written. The scan tests reach this through whole
 * records; these pin the mapping itself.
 */
import {
  hasPercentEscape,
  hasUnicodeTrigger,
  needsView,
  viewOf,
} from '../../../functions/shared/guard/normalize';

/** The view as plain values: its text and, for each of its characters, where it starts (plus the end). */
function view(text: string, raw = false, ascii = false) {
  const v = viewOf(text, raw, ascii);
  return v === undefined ? undefined : { text: v.text, offsets: [...v.offsets] };
}

const SPACES = [
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2001',
  '\u2002',
  '\u2003',
  '\u2004',
  '\u2005',
  '\u2006',
  '\u2007',
  '\u2008',
  '\u2009',
  '\u200a',
  '\u202f',
  '\u205f',
  '\u3000',
];
const INVISIBLE = [
  '\u00ad',
  '\u180e',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u2060',
  '\u2061',
  '\u2062',
  '\u2063',
  '\u2064',
  '\ufeff',
];
const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');

describe('hasPercentEscape: a % and two hex digits', () => {
  it.each(['0', '9', 'A', 'F', 'a', 'f'])(
    '%%%s%s is an escape (a hex digit at the edge of its range)',
    (d) => {
      expect(hasPercentEscape(`x%${d}${d}`)).toBe(true);
    },
  );

  it.each(['/', ':', '@', 'G', '`', 'g'])('%%%s%s is not (next to a hex range, outside it)', (d) => {
    expect(hasPercentEscape(`x%${d}${d}`)).toBe(false);
  });

  it('needs both digits to be hex', () => {
    expect([hasPercentEscape('%4G'), hasPercentEscape('%G4'), hasPercentEscape('%4')]).toStrictEqual([
      false,
      false,
      false,
    ]);
  });

  it('looks past a % that starts no escape to a later one', () => {
    expect(hasPercentEscape('100% of %41')).toBe(true);
    expect(hasPercentEscape('%%41')).toBe(true);
    expect(hasPercentEscape('100% sure')).toBe(false);
  });
});

describe('hasUnicodeTrigger: the characters the view maps', () => {
  it.each(SPACES.map((c) => [hex(c), c]))('U+%s (a Unicode space) triggers', (_, c) => {
    expect(hasUnicodeTrigger(`a${c}b`)).toBe(true);
  });

  it.each(INVISIBLE.map((c) => [hex(c), c]))('U+%s (an invisible character) triggers', (_, c) => {
    expect(hasUnicodeTrigger(`a${c}b`)).toBe(true);
  });

  it('the full-width forms U+FF01–FF5E trigger, their neighbours and other non-ASCII do not', () => {
    expect(['\uff01', '\uff5e', '\uff00', '\uff5f', 'é', '\u2010'].map(hasUnicodeTrigger)).toStrictEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('needsView', () => {
  it('is false for plain text, raw or not', () => {
    expect([needsView('plain text', false), needsView('plain text', true)]).toStrictEqual([false, false]);
  });

  it('is true for a percent escape, even when the caller says the text is ASCII', () => {
    expect(needsView('a%40b', false, true)).toBe(true);
  });

  it('reads Unicode forms unless the caller says the text is ASCII (by default it does)', () => {
    expect([needsView('a\u00a0b', false), needsView('a\u00a0b', false, true)]).toStrictEqual([true, false]);
  });

  it('reads backslashes only in a raw line', () => {
    expect([needsView('a\\nb', true), needsView('a\\nb', false)]).toStrictEqual([true, false]);
  });
});

describe('viewOf: percent escapes', () => {
  it('is undefined when the view would equal the text', () => {
    expect([view('plain'), view('a\\nb'), view('100% sure')]).toStrictEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('decodes an escape to its character, which spans the whole escape', () => {
    expect(view('a%40b')).toStrictEqual({ text: 'a@b', offsets: [0, 1, 4, 5] });
  });

  it('decodes each hex digit at its value, upper and lower case alike', () => {
    expect(view('%30%39%41%46%61%66%2F%2f')?.text).toBe('09AFaf//');
  });

  it.each([
    ['two bytes, lowest lead (U+0080)', '%C2%80', '\u0080'],
    ['two bytes, highest lead (U+07FF)', '%DF%BF', '\u07ff'],
    ['two bytes (é)', '%C3%A9', 'é'],
    ['three bytes, lowest lead (U+0800)', '%E0%A0%80', '\u0800'],
    ['three bytes, highest lead (U+FFFD)', '%EF%BF%BD', '\ufffd'],
    ['four bytes, lowest lead (U+10000)', '%F0%90%80%80', '\u{10000}'],
    ['four bytes, highest lead (U+10FFFF)', '%F4%8F%BF%BF', '\u{10ffff}'],
  ])('decodes a UTF-8 sequence of %s', (_, escaped, char) => {
    // Every UTF-16 unit of the character starts where its first escape does.
    const units = Array(char.length).fill(1);
    expect(view(`x${escaped}y`)).toStrictEqual({
      text: `x${char}y`,
      offsets: [0, ...units, 1 + escaped.length, 2 + escaped.length],
    });
  });

  it.each([
    ['a lone continuation byte', '%80'],
    ['an overlong lead (C1)', '%C1%81'],
    ['a lead past U+10FFFF (F5)', '%F5%80%80%80'],
    ['a lead with a non-continuation byte after it', '%C3%28'],
    ['a lead at the end of the run', '%E2%82'],
    ['a four-byte lead with a bad last byte', '%F0%9F%98%28'],
    ['four continuation bytes (no lead)', '%80%80%80%80'],
    ['an overlong lead followed by three continuation bytes', '%C1%BF%BF%BF'],
  ])('keeps %s as written, character by character', (_, escaped) => {
    const v = view(`x${escaped}y`);
    // Each byte that starts no valid sequence stays as its three characters; a valid one after it is decoded.
    const kept = escaped.replace(/%28/g, '(');
    expect(v?.text).toBe(`x${kept}y`);
  });

  it('keeps an undecodable escape with each of its characters at its own offset', () => {
    expect(view('a%80b')).toStrictEqual({ text: 'a%80b', offsets: [0, 1, 2, 3, 4, 5] });
  });

  it('decodes a valid escape after an undecodable one, over its own characters', () => {
    expect(view('%C3%28')).toStrictEqual({ text: '%C3(', offsets: [0, 1, 2, 3, 6] });
  });

  it('decodes tab and line breaks, keeps other control characters and DEL as written', () => {
    expect(view('%09|%0A|%0D|%20|%1F|%1D|%00|%7F|%7E')?.text).toBe('\t|\n|\r| |%1F|%1D|%00|%7F|~');
  });

  it('a character of two UTF-16 units (an emoji) spans its four escapes from both units', () => {
    expect(view('%F0%9F%98%80!')).toStrictEqual({ text: '😀!', offsets: [0, 0, 12, 13] });
  });

  it('maps what an escape decodes to like the text itself: a no-break space to a space, a zero-width space to nothing, a full-width digit to ASCII', () => {
    expect(view('a%C2%A0b%E2%80%8Bc%EF%BC%94d')).toStrictEqual({
      text: 'a bc4d',
      offsets: [0, 1, 7, 17, 18, 27, 28],
    });
  });
});

describe('viewOf: Unicode forms', () => {
  it.each(SPACES.map((c) => [hex(c), c]))('U+%s reads as a space', (_, c) => {
    expect(view(`a${c}b`)).toStrictEqual({ text: 'a b', offsets: [0, 1, 2, 3] });
  });

  it.each(INVISIBLE.map((c) => [hex(c), c]))('U+%s is not read at all', (_, c) => {
    expect(view(`a${c}b`)).toStrictEqual({ text: 'ab', offsets: [0, 2, 3] });
  });

  it('reads full-width forms as ASCII (U+FF01 → !, U+FF5E → ~, ４５３９ → 4539), keeping other non-ASCII', () => {
    expect(view('\uff01\uff5e\uff14\uff15\uff13\uff19é\uff00\uff5f')).toStrictEqual({
      text: '!~4539é\uff00\uff5f',
      offsets: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    });
  });
});

describe('viewOf: JSON escapes in a raw line', () => {
  it.each([
    ['n', '\n'],
    ['r', '\r'],
    ['t', '\t'],
    ['b', '\b'],
    ['f', '\f'],
    ['"', '"'],
    ['\\', '\\'],
    ['/', '/'],
  ])('decodes \\%s, spanning both characters', (e, decoded) => {
    expect(view(`a\\${e}b`, true)).toStrictEqual({ text: `a${decoded}b`, offsets: [0, 1, 3, 4] });
  });

  it('decodes \\uXXXX (either case of hex), spanning all six characters', () => {
    expect(view('a\\u0040b\\u00e9', true)).toStrictEqual({ text: 'a@bé', offsets: [0, 1, 7, 8, 14] });
    expect(view('\\u004A\\u004a', true)?.text).toBe('JJ');
  });

  it('maps what a \\u escape decodes to: a no-break space to a space, a zero-width space to nothing', () => {
    expect(view('a\\u00a0b\\u200bc', true)).toStrictEqual({ text: 'a bc', offsets: [0, 1, 7, 14, 15] });
  });

  it('keeps a \\u without four hex digits, and an unknown escape, as written', () => {
    expect(view('\\u12G4 \\u12 \\x', true)?.text).toBe('\\u12G4 \\u12 \\x');
    expect(view('\\u004', true)?.text).toBe('\\u004');
  });

  it('decodes a one-letter escape followed by four hex digits as that escape, then the digits', () => {
    expect(view('\\n0041\\t00e9', true)?.text).toBe('\n0041\t00e9');
  });

  it('keeps a backslash at the end of the line', () => {
    expect(view('ab\\', true)).toStrictEqual({ text: 'ab\\', offsets: [0, 1, 2, 3] });
  });

  it('leaves backslashes alone when the line was parsed as JSON (not raw)', () => {
    expect(view('a\\nb%40', false)?.text).toBe('a\\nb@');
  });
});
