import {
  anchorLiterals,
  colonsOf,
  type DetectorSpec,
  defineDetector,
  literalPositions,
} from '../../../functions/shared/guard/detectors/define';
import { NONE } from '../../../functions/shared/guard/detectors/match';

/** The message a call throws, undefined when it returns. */
function thrown(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const find: DetectorSpec['find'] = () => NONE;
const spec = (extra: Partial<DetectorSpec>): DetectorSpec => ({
  type: 'AWS_ACCESS_KEY_ID',
  severity: 'high',
  find,
  ...extra,
});

describe('anchorLiterals', () => {
  it('anchors each literal at its rarest character, ties going to the first', () => {
    const rows: [string, string][] = [
      ['a_b', '_'], // a symbol beats the letters around it, wherever it stands
      ['_ab', '_'],
      ['ab_', '_'],
      ['xoxb-', 'x'],
      ['secret', 'c'],
      ['AWS', 'W'],
      ['é@', 'é'], // characters outside the table rank with the rarest, the earlier one wins a tie
      ['@é', '@'],
      ['éü', 'é'],
      ['', ''],
    ];
    for (const [literal, anchor] of rows) {
      const [group] = anchorLiterals([literal]);
      expect({ literal, anchor: group?.anchor, offset: group?.literals[0]?.offset }).toEqual({
        literal,
        anchor,
        offset: literal.indexOf(anchor),
      });
    }
  });

  it('searches the longest text all literals of a group share from the anchor on', () => {
    expect(anchorLiterals(['xoxb-', 'xoxp-'])).toEqual([
      {
        anchor: 'x',
        needle: 'xox',
        literals: [
          { literal: 'xoxb-', offset: 0, exact: false },
          { literal: 'xoxp-', offset: 0, exact: false },
        ],
      },
    ]);
    expect(anchorLiterals(['a_bc', 'd_bx', 'xoxb-'])).toEqual([
      {
        anchor: '_',
        needle: '_b',
        literals: [
          { literal: 'a_bc', offset: 1, exact: false },
          { literal: 'd_bx', offset: 1, exact: false },
        ],
      },
      { anchor: 'x', needle: 'xoxb-', literals: [{ literal: 'xoxb-', offset: 0, exact: true }] },
    ]);
  });

  it('marks a literal exact only when it is the needle itself', () => {
    expect(anchorLiterals(['xoxb-'])[0]?.literals[0]?.exact).toBe(true);
    expect(anchorLiterals(['a_b'])[0]).toEqual({
      anchor: '_',
      needle: '_b',
      literals: [{ literal: 'a_b', offset: 1, exact: false }],
    });
    expect(anchorLiterals([''])).toEqual([
      { anchor: '', needle: '', literals: [{ literal: '', offset: 0, exact: true }] },
    ]);
    expect(anchorLiterals([])).toEqual([]);
  });
});

describe('literalPositions', () => {
  const sorted = (p: number[] | undefined) => (p ? [...p].sort((a, b) => a - b) : p);

  it('finds every start of every literal across groups', () => {
    const anchored = anchorLiterals(['a_b', 'xoxb-', 'xoxp-']);
    expect(sorted(literalPositions('a_b xoxb- a_b xoxp-', anchored, false))).toEqual([0, 4, 10, 14]);
    expect(sorted(literalPositions(' xoxb-', anchored, false))).toEqual([1]);
    expect(sorted(literalPositions('xa_b', anchored, false))).toEqual([1]);
    expect(sorted(literalPositions('aaa', anchorLiterals(['aa']), false))).toEqual([0, 1]);
  });

  it('reports nothing when only a needle, not a whole literal, is present', () => {
    const anchored = anchorLiterals(['xoxb-', 'xoxp-']);
    expect(literalPositions('xoxa- and xox', anchored, false)).toBeUndefined();
    expect(sorted(literalPositions('xoxa- xoxp-', anchored, false))).toEqual([6]);
    expect(literalPositions('c_b', anchorLiterals(['a_b']), false)).toBeUndefined();
    expect(literalPositions('anything', [], false)).toBeUndefined();
    expect(literalPositions('', anchored, false)).toBeUndefined();
  });

  it('with first, only tells that a literal is there', () => {
    const anchored = anchorLiterals(['a_b', 'xoxb-']);
    expect(literalPositions('xoxb- a_b a_b', anchored, true)).toEqual([]);
    expect(literalPositions('x_b xoxa-', anchored, true)).toBeUndefined();
  });
});

describe('defineDetector', () => {
  it('requires exactly one of triggers and gate', () => {
    const message = 'detector AWS_ACCESS_KEY_ID: declare either triggers or a gate';
    expect(() => defineDetector(spec({}))).toThrow(message);
    expect(() => defineDetector(spec({ triggers: ['AKIA'], gate: () => true }))).toThrow(message);
    expect(() => defineDetector(spec({ triggers: ['AKIA'] }))).not.toThrow();
    expect(() => defineDetector(spec({ gate: () => true }))).not.toThrow();
  });

  it('rejects an empty trigger or one holding a character JSON escapes', () => {
    for (const bad of ['', '"', 'a\\b', 'a\u0000', '\u001f', 'line\n']) {
      expect({ bad, error: thrown(() => defineDetector(spec({ triggers: ['ok', bad] }))) }).toEqual({
        bad,
        error: `detector trigger ${JSON.stringify(bad)} is empty or holds a character JSON escapes`,
      });
    }
    for (const good of [' ', 'a b', '\u007f', "it's", '{x}']) {
      expect({ good, error: thrown(() => defineDetector(spec({ triggers: [good] }))) }).toEqual({ good });
    }
  });

  it('gates on any of its literal triggers, as written', () => {
    const triggers = ['xoxb-', 'xoxp-', 'a_b'];
    const d = defineDetector(spec({ triggers }));
    for (const text of ['xoxb-', 'say xoxp- now', 'ya_bz'])
      expect({ text, gate: d.gate(text) }).toEqual({ text, gate: true });
    for (const text of ['', 'xoxa-', 'XOXB-', 'a_c xox'])
      expect({ text, gate: d.gate(text) }).toEqual({ text, gate: false });
    expect(d.lineGate).toBe(d.gate);
    expect(d.lineLiterals).toBe(triggers);
    expect(d).toMatchObject({ type: 'AWS_ACCESS_KEY_ID', severity: 'high', find });
  });

  it('uses a declared gate, and the line gate defaults to it', () => {
    const gate = (text: string) => text.startsWith('k');
    const d = defineDetector(spec({ gate, severity: 'low' }));
    expect(d.gate).toBe(gate);
    expect(d.lineGate).toBe(gate);
    expect(d.severity).toBe('low');
    expect(d.find).toBe(find);
    expect('lineLiterals' in d).toBe(false);
  });

  it('uses a declared line gate, with no line literals then', () => {
    const lineGate = (line: string) => line.length > 3;
    const d = defineDetector(spec({ triggers: ['xoxb-'], lineGate }));
    expect(d.lineGate).toBe(lineGate);
    expect(d.gate('xoxb-')).toBe(true);
    expect('lineLiterals' in d).toBe(false);
  });

  it("makes an 'always' line gate pass every line", () => {
    for (const extra of [{ triggers: ['xoxb-'] }, { gate: () => false }]) {
      const d = defineDetector(spec({ ...extra, lineGate: 'always' }));
      const row = Object.keys(extra)[0];
      expect({
        row,
        empty: d.lineGate(''),
        other: d.lineGate('no trigger here'),
        literals: 'lineLiterals' in d,
      }).toEqual({
        row,
        empty: true,
        other: true,
        literals: false,
      });
    }
  });
});

describe('colonsOf', () => {
  it('lists the positions of the colons of the text asked about', () => {
    expect([...colonsOf('a:b')]).toEqual([1]);
    expect([...colonsOf('a:b')]).toEqual([1]);
    expect([...colonsOf('::x:')]).toEqual([0, 1, 3]);
    expect([...colonsOf('{"k":"v","w":1}')]).toEqual([4, 12]);
    expect([...colonsOf('no colon')]).toEqual([]);
    expect([...colonsOf('')]).toEqual([]);
    expect([...colonsOf('a:b')]).toEqual([1]);
  });
});
