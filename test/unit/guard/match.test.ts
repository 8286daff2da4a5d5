import {
  hasLowerUpperDigit,
  lowerWindow,
  match,
  NONE,
  scan,
  shannonEntropy,
} from '../../../functions/shared/guard/detectors/match';

describe('shannonEntropy', () => {
  it('gives the bits per character of the whole text', () => {
    const rows: [string, number][] = [
      ['', 0],
      ['a', 0],
      ['aaaa', 0],
      ['ab', 1],
      ['abcd', 2],
      ['aab', -(2 / 3) * Math.log2(2 / 3) - (1 / 3) * Math.log2(1 / 3)],
      ['abcdefgh', 3],
    ];
    const round = (x: number) => Math.round(x * 1e9) / 1e9;
    for (const [text, bits] of rows)
      expect({ text, bits: round(shannonEntropy(text)) }).toEqual({ text, bits: round(bits) });
  });

  it('measures only the range asked for, and nothing of one call leaks into the next', () => {
    expect(shannonEntropy('xxab', 2)).toBeCloseTo(1, 10);
    expect(shannonEntropy('aba', 0, 2)).toBeCloseTo(1, 10);
    expect(shannonEntropy('bab', 1)).toBeCloseTo(1, 10);
    expect(shannonEntropy('abcabc', 1, 1)).toBe(0);
    expect(shannonEntropy('abc', 2, 1)).toBe(0);
    expect(shannonEntropy('aaaa', 0, 2)).toBe(0);
    expect(shannonEntropy('ab')).toBeCloseTo(1, 10);
  });
});

describe('match', () => {
  it('records a span and severity, not an example unless told', () => {
    expect(match(1, 3, 'high')).toStrictEqual({ start: 1, end: 3, severity: 'high', example: false });
    expect(match(0, 2, 'low', true)).toStrictEqual({ start: 0, end: 2, severity: 'low', example: true });
  });
});

describe('scan', () => {
  const span = (hit: RegExpExecArray, extra = 0) =>
    match(hit.index, hit.index + hit[0].length + extra, 'high');
  const spans = (out: { start: number; end: number }[]) => out.map((m) => [m.start, m.end]);

  it('turns every accepted hit into a match, from the start whatever lastIndex was', () => {
    const regex = /b/g;
    regex.lastIndex = 3;
    expect(spans(scan(regex, 'abbcb', (hit) => span(hit)))).toEqual([
      [1, 2],
      [2, 3],
      [4, 5],
    ]);
  });

  it('leaves out rejected hits, and returns the shared empty result when none is accepted', () => {
    expect(spans(scan(/b/g, 'abbcb', (hit) => (hit.index === 2 ? undefined : span(hit))))).toEqual([
      [1, 2],
      [4, 5],
    ]);
    const none = scan(/b/g, 'abc', () => undefined);
    expect(none).toBe(NONE);
    expect(none).toEqual([]);
    expect(scan(/q/g, 'abc', (hit) => span(hit))).toEqual([]);
  });

  it('resumes after a match that reaches past its hit, but never before the hit end', () => {
    expect(spans(scan(/a/g, 'aaa', (hit) => span(hit, 1)))).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(spans(scan(/aa/g, 'aaa', (hit) => match(hit.index, hit.index + 1, 'high')))).toEqual([[0, 1]]);
  });

  it('steps past empty hits', () => {
    expect(spans(scan(/x*/g, 'axxbx', (hit) => (hit[0].length ? span(hit) : undefined)))).toEqual([
      [1, 3],
      [4, 5],
    ]);
    expect(spans(scan(/(?=b)/g, 'abab', (hit) => match(hit.index, hit.index, 'low')))).toEqual([
      [1, 1],
      [3, 3],
    ]);
  });
});

describe('lowerWindow', () => {
  it('lower-cases up to length characters before start', () => {
    expect(lowerWindow('AbCDEf', 5, 2)).toBe('de');
    expect(lowerWindow('AbCDEf', 6, 6)).toBe('abcdef');
    expect(lowerWindow('ABCDEF', 2, 3)).toBe('ab');
    expect(lowerWindow('ABC', 2, 5)).toBe('ab');
    expect(lowerWindow('ABC', 0, 2)).toBe('');
  });
});

describe('hasLowerUpperDigit', () => {
  it('sorts each character into lower, upper, digit or other', () => {
    const none = { lower: false, upper: false, digit: false, other: false };
    const rows: [string, Partial<typeof none>][] = [
      ['', {}],
      ['a', { lower: true }],
      ['z', { lower: true }],
      ['A', { upper: true }],
      ['Z', { upper: true }],
      ['0', { digit: true }],
      ['9', { digit: true }],
      ['`', { other: true }], // the neighbours of each range
      ['{', { other: true }],
      ['@', { other: true }],
      ['[', { other: true }],
      ['/', { other: true }],
      [':', { other: true }],
      [' ', { other: true }],
      ['é', { other: true }],
      ['aB1', { lower: true, upper: true, digit: true }],
      ['m5', { lower: true, digit: true }],
      ['Q-', { upper: true, other: true }],
    ];
    for (const [value, set] of rows)
      expect({ value, ...hasLowerUpperDigit(value) }).toEqual({ value, ...none, ...set });
  });
});
