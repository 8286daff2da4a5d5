/**
 * How a detector is declared (`defineDetector`) and the literal search its gates are made of.
 *
 * A detector declares what must be in a text for it to match (`triggers`, literal strings, or a
 * `gate` function); the registry (../registry.ts) derives from that both its per-string gate and
 * its bit in the per-line gate, so a detector cannot be left out of either.
 */
import type { Detector } from '../types';

/** What a detector module declares; `defineDetector` completes it into a Detector. */
export interface DetectorSpec extends Pick<Detector, 'type' | 'severity' | 'find'> {
  /**
   * Literal strings, one of which is in every text `find` can match (case-sensitive). They must
   * hold no character JSON escapes (`"`, `\`, control characters), so that a string holding one
   * comes from a raw line holding it too. Each is searched for its rarest character first.
   */
  triggers?: readonly string[];
  /** A precondition of its own, when literals cannot say it. */
  gate?: (text: string) => boolean;
  /**
   * The precondition on a raw JSONL line: must pass whenever `gate` passes on any decoded string
   * of the line. Defaults to the gate itself (a literal in a string is in its line); 'always'
   * where nearly every line would pass anyway.
   */
  lineGate?: ((line: string) => boolean) | 'always';
}

/**
 * Characters from rarest to most common in training data (English prose inside JSON): symbols
 * prose hardly uses, rare letters, capitals (the sentence-starting ones last), lower-case letters
 * by their English frequency, digits and punctuation. Only used to pick which character of a
 * trigger to search for: a single-character search runs at memory speed, and the rarer the
 * character the fewer places need a closer look.
 */
const RARITY = `@_=|~^\`$#&*+<>[]{}\\QZXJKVYUGBPFDLNMRCEHWOTAIS/qzjx-vkbypgwfmucldhr!?;%9876543210()'":,.snioate \t`;

function rarestChar(trigger: string): string {
  let best = trigger[0] ?? '';
  const rank = (c: string) => {
    const i = RARITY.indexOf(c);
    return i === -1 ? 0 : i;
  };
  for (const c of trigger) if (rank(c) < rank(best)) best = c;
  return best;
}

/**
 * Literals grouped by the character searched for, with `needle`: the longest text every literal
 * of the group holds from that character on (`xox` for Slack's `xoxb-`, `xoxp-`, …), which is what
 * is searched, so that frequent characters are passed over inside V8's search rather than one by
 * one in JavaScript. Each literal keeps the offset of that character in it.
 */
export type AnchoredLiterals = {
  anchor: string;
  needle: string;
  literals: { literal: string; offset: number; exact: boolean }[];
}[];

export function anchorLiterals(literals: readonly string[]): AnchoredLiterals {
  const groups = new Map<string, { literal: string; offset: number }[]>();
  for (const literal of literals) {
    const anchor = rarestChar(literal);
    groups.set(anchor, [...(groups.get(anchor) ?? []), { literal, offset: literal.indexOf(anchor) }]);
  }
  return [...groups].map(([anchor, group]) => {
    const tails = group.map(({ literal, offset }) => literal.slice(offset));
    let needle = tails[0] ?? anchor;
    for (const tail of tails) while (!tail.startsWith(needle)) needle = needle.slice(0, -1);
    return {
      anchor,
      needle,
      literals: group.map(({ literal, offset }) => ({
        literal,
        offset,
        exact: offset === 0 && literal === needle,
      })),
    };
  });
}

/**
 * Where the literals occur in text (start positions, unsorted), found by searching each group's
 * needle, which starts with the group's rarest character: one search per group, then a
 * comparison at each hit, instead of a search per literal (V8 searches a short needle by its
 * first character, which for "aws" or "secret" stops at nearly every word). With `first`, stops
 * at the first.
 */
export function literalPositions(
  text: string,
  anchored: AnchoredLiterals,
  first: boolean,
): number[] | undefined {
  let positions: number[] | undefined;
  for (let g = 0; g < anchored.length; g++) {
    const { needle, literals } = anchored[g] as AnchoredLiterals[number];
    for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) {
      for (let l = 0; l < literals.length; l++) {
        const { literal, offset, exact } = literals[l] as AnchoredLiterals[number]['literals'][number];
        if (!exact && !text.startsWith(literal, i - offset)) continue;
        if (first) return FOUND;
        if (!positions) positions = [];
        positions.push(i - offset);
      }
    }
  }
  return positions;
}

const FOUND: number[] = [];

/** The gate of a detector declaring literal triggers: does text hold one of them? */
function literalGate(triggers: readonly string[]): (text: string) => boolean {
  for (const t of triggers) {
    if (t.length === 0 || /["\\\u0000-\u001f]/.test(t)) {
      throw new Error(`detector trigger ${JSON.stringify(t)} is empty or holds a character JSON escapes`);
    }
  }
  const anchored = anchorLiterals(triggers);
  return (text) => literalPositions(text, anchored, true) !== undefined;
}

const ALWAYS = () => true;

let colonText: string | undefined;
const colonList: number[] = [];

/**
 * Positions of the colons in text. Several line gates walk a line's colons (a record has a dozen
 * of JSON's own): the walk is made once, for the text last asked about.
 */
export function colonsOf(text: string): readonly number[] {
  if (text !== colonText) {
    colonText = text;
    colonList.length = 0;
    for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) colonList.push(i);
  }
  return colonList;
}

export function defineDetector(spec: DetectorSpec): Detector {
  if (!spec.triggers === !spec.gate) {
    throw new Error(`detector ${spec.type}: declare either triggers or a gate`);
  }
  const gate = spec.gate ?? literalGate(spec.triggers ?? []);
  const lineGate = spec.lineGate === 'always' ? ALWAYS : (spec.lineGate ?? gate);
  return {
    type: spec.type,
    severity: spec.severity,
    gate,
    lineGate,
    find: spec.find,
    // The registry searches the literals of all detectors at once on a line (see lineGateMask).
    ...(spec.triggers && !spec.lineGate ? { lineLiterals: spec.triggers } : {}),
  };
}
