import {
  DIGIT_GATES,
  digitGroupSpans,
  hasDigitCluster,
  isDigit,
  isJoiner,
  isWordChar,
  scanClusters,
} from '../../../functions/shared/guard/detectors/digits';
import { match } from '../../../functions/shared/guard/detectors/match';
import { expectRow } from './detector-hits';

/** The digit clusters of text as [start, end] pairs: each cluster is one window with no context. */
function clusters(text: string): [number, number][] {
  return scanClusters(
    /[\s\S]+/g,
    text,
    (hit) => match(hit.index, hit.index + hit[0].length, 'low'),
    0,
    0,
  ).map((m) => [m.start, m.end]);
}

/** Every hit scanClusters passes to accept (index in text, hit text), none accepted. */
function hitsSeen(regex: RegExp, text: string, before?: number, after?: number): [number, string][] {
  const seen: [number, string][] = [];
  const out = scanClusters(
    regex,
    text,
    (hit) => {
      seen.push([hit.index, hit[0]]);
      return undefined;
    },
    before,
    after,
  );
  expect(out).toEqual([]);
  return seen;
}

/** The matches scanClusters returns when accept turns each hit into a match of `length` characters. */
function accepted(
  regex: RegExp,
  text: string,
  length: number,
  before?: number,
  after?: number,
): [number, number][] {
  return scanClusters(regex, text, (hit) => match(hit.index, hit.index + length, 'low'), before, after).map(
    (m) => [m.start, m.end],
  );
}

describe('digit character classes', () => {
  it('isDigit, isJoiner and isWordChar agree with the regex classes on every ASCII code', () => {
    const codes = Array.from({ length: 200 }, (_, c) => c);
    const where = (re: RegExp) => codes.filter((c) => re.test(String.fromCharCode(c)));
    expect(codes.filter(isDigit)).toEqual(where(/[0-9]/));
    expect(codes.filter(isJoiner)).toEqual(where(/[-./]/));
    expect(codes.filter(isWordChar)).toEqual(where(/\w/));
  });
});

describe('hasDigitCluster', () => {
  it('passes nine digits with at most two separators between neighbours, or a dotted quad', () => {
    const rows: [string, boolean][] = [
      ['123456789', true],
      ['id 123456789.', true],
      ['1 2 3 4 5 6 7 8 9', true],
      ['(415) 867-5309', true],
      ['12-34/56.78 9', true],
      ['1.2.3.4', true],
      ['host 10.0.0.1 up', true],
      ['12345678', false],
      ['12345678 and 1234567', false],
      ['1234   56789', false],
      ['on 2024-03-13', false],
      ['1.2.3', false],
      ['no digits at all', false],
      ['', false],
    ];
    for (const [text, expected] of rows) expectRow(text, hasDigitCluster(text), expected);
  });

  it('answers for the text asked about, not the one before it', () => {
    expect(hasDigitCluster('123456789')).toBe(true);
    expect(hasDigitCluster('abc')).toBe(false);
    expect(hasDigitCluster('987654321')).toBe(true);
    expect(hasDigitCluster('987654321')).toBe(true);
    expect(hasDigitCluster('12345678')).toBe(false);
    expect(hasDigitCluster('12345678')).toBe(false);
  });

  it('is the gate of the digit detectors, always on for raw lines', () => {
    expect(DIGIT_GATES.gate).toBe(hasDigitCluster);
    expect(DIGIT_GATES.lineGate).toBe('always');
  });
});

describe('digit clusters', () => {
  it('are maximal runs of digits and number separators of seven characters or more, from a digit to a digit', () => {
    const rows: [string, [number, number][]][] = [
      ['123456789', [[0, 9]]],
      ['x 123456789 y', [[2, 11]]],
      [
        'tel (415) 867-5309, id 123456789',
        [
          [5, 18],
          [23, 32],
        ],
      ],
      ['123456789 x 123456', [[0, 9]]],
      [
        '123456789 x 1234567',
        [
          [0, 9],
          [12, 19],
        ],
      ],
      [
        '123456789 x 12 3456. y',
        [
          [0, 9],
          [12, 19],
        ],
      ],
      ['a1b 123456789', [[4, 13]]],
      ['12345678 and 1234567', []],
      ['abc', []],
    ];
    for (const [text, expected] of rows) expectRow(text, clusters(text), expected);
  });

  it('stop at 4098 characters and never restart inside a run of digits', () => {
    expect(clusters('5'.repeat(4100))).toEqual([[0, 4098]]);
    expect(clusters(`${'5'.repeat(4100)} 1234567`)).toEqual([
      [0, 4098],
      [4101, 4108],
    ]);
  });
});

describe('scanClusters', () => {
  it('runs the regex on each cluster with two characters before and one after by default', () => {
    expect(hitsSeen(/[\s\S]+/g, 'ab 1234567 cd 123456789')).toEqual([
      [1, 'b 1234567 '],
      [12, 'd 123456789'],
    ]);
    expect(hitsSeen(/[\s\S]+/g, '123456789 x')).toEqual([[0, '123456789 ']]);
    expect(hitsSeen(/[\s\S]+/g, 'x 123456789')).toEqual([[0, 'x 123456789']]);
  });

  it('takes the context it is given, clipped to the text', () => {
    expect(hitsSeen(/[\s\S]+/g, 'ab 1234567 cd 123456789', 3, 2)).toEqual([
      [0, 'ab 1234567 c'],
      [11, 'cd 123456789'],
    ]);
    expect(hitsSeen(/[\s\S]+/g, 'abcdef 123456789 ghijkl', 4, 3)).toEqual([[3, 'def 123456789 gh']]);
  });

  it('calls accept for nothing when the text has no cluster', () => {
    expect(hitsSeen(/[\s\S]+/g, 'abc def', 2, 3)).toEqual([]);
    expect(hitsSeen(/[\s\S]+/g, '12345678', 2, 3)).toEqual([]);
    expect(scanClusters(/[\s\S]+/g, 'abc', () => match(0, 1, 'low'))).toEqual([]);
  });

  it('passes every hit with its index in the text, and every empty hit once', () => {
    expect(hitsSeen(/\d/g, 'ab 123456789').map(([i]) => i)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(hitsSeen(/(?:)/g, 'ab 123456789').map(([i]) => i)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  it('returns the accepted matches in order and resumes after the end of each', () => {
    expect(accepted(/\d\d/g, 'ab 123456789', 3)).toEqual([
      [3, 6],
      [6, 9],
      [9, 12],
    ]);
    expect(accepted(/\d\d/g, 'ab 123456789', 2)).toEqual([
      [3, 5],
      [5, 7],
      [7, 9],
      [9, 11],
    ]);
    // A match shorter than its hit: the regex still resumes after the hit.
    expect(accepted(/\d+/g, 'abcdefgh 123456789', 1, 4, 1)).toEqual([[9, 10]]);
    expect(accepted(/\d+/g, 'ab 123456789', 1)).toEqual([[3, 4]]);
  });

  it('does not take a hit twice where the windows of neighbouring clusters overlap', () => {
    // Windows [0, 10) and [9, 18): the second window's hit starts inside the first match.
    expect(accepted(/[\s\S]+/g, '123456789,,7654321', 10)).toEqual([[0, 10]]);
    // Windows [0, 10) and [10, 19): they meet, and both hits are taken.
    expect(accepted(/[\s\S]+/g, '123456789,x,7654321', 1)).toEqual([
      [0, 1],
      [10, 11],
    ]);
    expect(accepted(/[\s\S]+/g, '123456789,x,7654321', 10)).toEqual([
      [0, 10],
      [10, 20],
    ]);
  });
});

describe('digitGroupSpans', () => {
  /** Each call of tryFrom as [a, the runs it saw], returning what `decide` says. */
  function calls(
    text: string,
    decide: (runs: number[], a: number) => [number, number] | undefined = () => undefined,
  ): { tried: [number, number[]][]; found: [number, number][] } {
    const tried: [number, number[]][] = [];
    const found = digitGroupSpans(text, (runs, a) => {
      tried.push([a, [...runs]]);
      const span = decide(runs, a);
      return span ? match(span[0], span[1], 'low') : undefined;
    }).map((m): [number, number] => [m.start, m.end]);
    return { tried, found };
  }

  it('tries each digit group of each cluster in turn, with the runs of that cluster only', () => {
    const runs = [5, 7, 8, 12, 13, 16];
    expect(calls('77 x 12 3456-789 y')).toEqual({
      tried: [
        [0, runs],
        [2, runs],
        [4, runs],
      ],
      found: [],
    });
    const first = [0, 3, 4, 7, 8, 11];
    const second = [16, 19, 20, 23, 24, 27];
    expect(calls('123 456 789 and 987-654-321').tried).toEqual([
      [0, first],
      [2, first],
      [4, first],
      [0, second],
      [2, second],
      [4, second],
    ]);
  });

  it('tries no group when the text has no cluster', () => {
    expect(calls('12345678')).toEqual({ tried: [], found: [] });
  });

  it('skips the groups inside an accepted match and resumes with the group where it ends', () => {
    // Accepting groups 0-1 from the first group: group 1 is skipped, group 2 tried.
    const text = '123 456 789 012';
    const result = calls(text, (runs, a) => (a === 0 ? [runs[0] ?? 0, runs[3] ?? 0] : undefined));
    expect(result.tried.map(([a]) => a)).toEqual([0, 4, 6]);
    expect(result.found).toEqual([[0, 7]]);
    // A match ending where the next group starts: that group is still tried.
    const touching = calls(text, (runs, a) => [runs[a] ?? 0, runs[a + 2] ?? text.length]);
    expect(touching.tried.map(([a]) => a)).toEqual([0, 2, 4, 6]);
    expect(touching.found).toEqual([
      [0, 4],
      [4, 8],
      [8, 12],
      [12, 15],
    ]);
  });

  it('keeps runs within the cluster at the 4098-character cap', () => {
    const { tried } = calls('5'.repeat(4100));
    expect(tried).toEqual([[0, [0, 4098]]]);
  });
});
