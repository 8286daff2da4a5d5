/**
 * What the detectors' `find` functions are made of: the match record, the regex loop that
 * turns hits into matches, entropy and character-class tests. All allocation-free on the
 * common path: the scanner calls them millions of times.
 */
import type { DetectorMatch, Severity } from '../types';

/** The result of a find that matched nothing: shared, never written to. */
export const NONE: DetectorMatch[] = [];

/** Reused by every entropy call: the scanner runs millions of them and must not allocate. */
const counts = new Uint16Array(256);

/** Shannon entropy in bits per character of text[start, end). */
export function shannonEntropy(text: string, start = 0, end = text.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) & 0xff;
    counts[c] = (counts[c] ?? 0) + 1;
  }
  let bits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) & 0xff;
    const k = counts[c] ?? 0;
    if (k > 0) {
      // Each distinct character contributes once; zeroing it both skips repeats and resets the table.
      const p = k / n;
      bits -= p * Math.log2(p);
      counts[c] = 0;
    }
  }
  return bits;
}

export function match(start: number, end: number, severity: Severity, example = false): DetectorMatch {
  return { start, end, severity, example };
}

/** Runs a global regex over text; `accept` turns a regex hit into a match or rejects it. */
export function scan(
  regex: RegExp,
  text: string,
  accept: (hit: RegExpExecArray) => DetectorMatch | undefined,
): DetectorMatch[] {
  let out: DetectorMatch[] | undefined;
  regex.lastIndex = 0;
  for (let hit = regex.exec(text); hit !== null; hit = regex.exec(text)) {
    const m = accept(hit);
    if (m) {
      if (!out) out = [];
      out.push(m);
      if (m.end > regex.lastIndex) regex.lastIndex = m.end;
    }
    if (hit[0].length === 0) regex.lastIndex++;
  }
  return out ?? NONE;
}

export function lowerWindow(text: string, start: number, length: number): string {
  return text.slice(Math.max(0, start - length), start).toLowerCase();
}

export function hasLowerUpperDigit(value: string): {
  lower: boolean;
  upper: boolean;
  digit: boolean;
  other: boolean;
} {
  let lower = false;
  let upper = false;
  let digit = false;
  let other = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = true;
    else if (c >= 65 && c <= 90) upper = true;
    else if (c >= 48 && c <= 57) digit = true;
    else other = true;
  }
  return { lower, upper, digit, other };
}
