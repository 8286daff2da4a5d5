/**
 * The work the five digit detectors share (card, SSN, IBAN, phone, IPv4): one gate per string,
 * the digit clusters it passes, and the loops that run a detector only around them.
 */
import type { DetectorMatch } from '../types';
import { NONE } from './match';

/**
 * First a gate: nine digits with at most two separators between neighbours (unrolled to keep the
 * pattern flat), or a dotted quad. Dates, times, versions and prices fail it, and it is one fast
 * test where extracting the clusters straight away would be a slow exec loop over every date in
 * the data. Then, for the few strings that pass, the digit clusters: maximal runs of digits and
 * the separators numbers are written with, at least seven characters. Every card, SSN, phone and
 * IPv4 candidate lies inside one, so the detectors' regexes run on those short windows instead of
 * the whole string. Cached for the string last asked about, since the detectors run one after the
 * other on the same string.
 *
 * The gate, in one pass: nine digits with at most two separators between neighbours, unrolled
 * (`\d(?:[ ().\-/]{0,2}\d){8}`), or a dotted quad (`\d\.\d{1,3}\.\d{1,3}\.\d`). The nine
 * digits are only tried from a digit with no digit within two separators before it: any other
 * start extends back to such a one, so whether the text matches is unchanged, and a long number
 * is not re-tried digit by digit.
 */
const DIGIT_GATE = new RegExp(
  `\\d(?:(?<!\\d[ ().\\-/]{0,2}.)${'[ ().\\-/]{0,2}\\d'.repeat(8)}|\\.\\d{1,3}\\.\\d{1,3}\\.\\d)`,
);
const DIGIT_CLUSTER = /\d(?<!\d\d)[\d ().\-/]{5,4096}\d/g;
const NO_CLUSTERS: number[] = [];
let clusterText: string | undefined;
let clusterBounds: number[] = NO_CLUSTERS;

/** Flat [start, end, start, end, …] of the digit clusters of text; empty when the gate fails. */
function digitClusters(text: string): number[] {
  if (text !== clusterText) {
    clusterText = text;
    clusterBounds = NO_CLUSTERS;
    if (DIGIT_GATE.test(text)) {
      const bounds: number[] = [];
      DIGIT_CLUSTER.lastIndex = 0;
      for (let m = DIGIT_CLUSTER.exec(text); m !== null; m = DIGIT_CLUSTER.exec(text)) {
        bounds.push(m.index, m.index + m[0].length);
      }
      clusterBounds = bounds;
    }
  }
  return clusterBounds;
}

/** Whether the digit detectors (card, SSN, IBAN, phone, IPv4) can match anything in text. */
export function hasDigitCluster(text: string): boolean {
  return digitClusters(text).length > 0;
}

/**
 * The gates of the digit detectors. On a raw line always on: nearly every line of real data
 * holds a date or a number, so a line-level search would cost a pass and switch nothing off.
 */
export const DIGIT_GATES = { gate: hasDigitCluster, lineGate: 'always' } as const;

/**
 * Like `scan`, but only around the digit clusters of text: `before` and `after` characters of
 * context (by default enough for the patterns' boundary checks and a leading "(" or "+"). Hit
 * indexes are rewritten to positions in text before `accept` sees them.
 */
export function scanClusters(
  regex: RegExp,
  text: string,
  accept: (hit: RegExpExecArray) => DetectorMatch | undefined,
  before = 2,
  after = 1,
): DetectorMatch[] {
  const bounds = digitClusters(text);
  let out: DetectorMatch[] | undefined;
  let taken = 0;
  for (let c = 0; c < bounds.length; c += 2) {
    const from = Math.max(0, (bounds[c] ?? 0) - before);
    const window = text.slice(from, Math.min(text.length, (bounds[c + 1] ?? 0) + after));
    regex.lastIndex = 0;
    for (let hit = regex.exec(window); hit !== null; hit = regex.exec(window)) {
      const empty = hit[0].length === 0;
      hit.index += from;
      // Windows of neighbouring clusters overlap: a hit already taken is not taken twice.
      const m = hit.index < taken ? undefined : accept(hit);
      if (m) {
        taken = m.end;
        if (!out) out = [];
        out.push(m);
        if (m.end - from > regex.lastIndex) regex.lastIndex = m.end - from;
      }
      if (empty) regex.lastIndex++;
    }
  }
  return out ?? NONE;
}

/** Reused by digitRuns: the digit detectors run one at a time and never nest. */
const runsScratch: number[] = [];

/**
 * Start and end of each maximal run of digits in text[from, to), flat: [start, end, start, end, …].
 * The array is reused by the next call.
 */
function digitRuns(text: string, from: number, to: number): number[] {
  const runs = runsScratch;
  runs.length = 0;
  let i = from;
  while (i < to) {
    while (i < to && !isDigit(text.charCodeAt(i))) i++;
    if (i >= to) break;
    const start = i;
    while (i < to && isDigit(text.charCodeAt(i))) i++;
    runs.push(start, i);
  }
  return runs;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `-`, `.` or `/`: characters that join the parts of one number (a date, a version, an id). */
export function isJoiner(c: number): boolean {
  return c === 45 || c === 46 || c === 47;
}

export function isWordChar(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * Every span of consecutive digit groups in the digit clusters of text, tried from each group in
 * turn (never one greedy match: a card beside a quantity, a date or a CVV is still a card).
 * `tryFrom(runs, a)` looks at the spans starting with group `a` (runs as digitRuns gives them)
 * and returns the match it accepts, if any; groups inside an accepted match are not tried again.
 * Each detector bounds its spans by digit count, so the work stays linear.
 */
export function digitGroupSpans(
  text: string,
  tryFrom: (runs: number[], a: number) => DetectorMatch | undefined,
): DetectorMatch[] {
  const bounds = digitClusters(text);
  let out: DetectorMatch[] | undefined;
  for (let c = 0; c < bounds.length; c += 2) {
    const runs = digitRuns(text, bounds[c] ?? 0, bounds[c + 1] ?? 0);
    let taken = -1;
    for (let a = 0; a < runs.length; a += 2) {
      if ((runs[a] ?? 0) < taken) continue;
      const m = tryFrom(runs, a);
      if (!m) continue;
      if (!out) out = [];
      out.push(m);
      taken = m.end;
    }
  }
  return out ?? NONE;
}
