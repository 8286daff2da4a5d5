/**
 * The registry of detectors, and the two ways the scan runs them: `lineGateMask` once per raw
 * JSONL line (which detectors can match anywhere in it), `detectAll` per decoded string.
 *
 * Adding a detector is one entry in DETECTORS: its per-string gate and its line gate come from
 * its own declaration (detectors/define.ts defineDetector), so it cannot be left switched off,
 * and a test runs every entry through the whole scan path (test/unit/guard/registry.test.ts).
 */
import {
  type AnchoredLiterals,
  anchorLiterals,
  awsAccessKeyId,
  awsSecretAccessKey,
  cardNumber,
  email,
  genericSecret,
  githubToken,
  googleApiKey,
  iban,
  ipv4,
  ipv6,
  jwt,
  phone,
  privateKey,
  slackToken,
  slackWebhook,
  stripeKey,
  usSsn,
} from './detectors';
import { hasPercentEscape, hasUnicodeTrigger, viewOf } from './normalize';
import type { Detector, DetectorMatch, FindingType } from './types';
import { SEVERITY_RANK } from './types';

/** Specific detectors before generic ones: on overlapping matches the earlier one wins ties. */
export const DETECTORS: readonly Detector[] = [
  privateKey,
  awsAccessKeyId,
  awsSecretAccessKey,
  githubToken,
  slackWebhook,
  slackToken,
  stripeKey,
  googleApiKey,
  jwt,
  cardNumber,
  usSsn,
  iban,
  email,
  phone,
  ipv4,
  ipv6,
  genericSecret,
];

export const ALL_DETECTORS_MASK = (1 << DETECTORS.length) - 1;

/**
 * Set in a mask when the strings may need their view (normalize.ts) before the detectors read
 * them: the line holds a percent escape, a `\u` escape or, unless it is known to be ASCII, a
 * character the view maps. Without it, strings are read as they are.
 */
export const VIEW_BIT = 1 << 30;

/** Every detector, reading views where needed: the mask for a string with no line to go by. */
export const FULL_MASK = ALL_DETECTORS_MASK | VIEW_BIT;

const ORDER = new Map<FindingType, number>(DETECTORS.map((d, i) => [d.type, i]));

/**
 * Which detectors can match in some string of a raw JSONL line, as a bit mask over DETECTORS
 * (plus VIEW_BIT): each detector's own line gate, one cheap search or two per detector, so most
 * lines switch most detectors off. Escapes that can spell any character (`\u`) or split a
 * literal (`\/`), and characters the view maps, switch every detector on.
 *
 * `backslash` (whether the line holds one) and `ascii` (whether it is pure ASCII) save searches
 * when the caller knows them.
 */
export function lineGateMask(line: string, backslash = line.includes('\\'), ascii = false): number {
  if (
    (backslash && (line.includes('\\u') || line.includes('\\/'))) ||
    hasPercentEscape(line) ||
    (!ascii && hasUnicodeTrigger(line))
  ) {
    return FULL_MASK;
  }
  let mask = literalBits(line);
  for (const { bit, lineGate } of GATED) if (lineGate(line)) mask |= bit;
  return mask;
}

/**
 * The literals of every detector that declares them, grouped by the character searched for
 * across detectors: one single-character search per distinct character per line (`_` serves
 * GitHub, Stripe and AWS at once), each hit compared with the literals anchored there.
 */
const LINE_LITERALS: { anchored: AnchoredLiterals; bits: Map<string, number> } = (() => {
  const bits = new Map<string, number>();
  DETECTORS.forEach((d, i) => {
    for (const literal of d.lineLiterals ?? []) bits.set(literal, (bits.get(literal) ?? 0) | (1 << i));
  });
  return { anchored: anchorLiterals([...bits.keys()]), bits };
})();
const LITERAL_BITS = LINE_LITERALS.anchored.map(({ needle, literals }) => ({
  needle,
  literals: literals.map(({ literal, offset, exact }) => ({
    literal,
    offset,
    exact,
    bit: LINE_LITERALS.bits.get(literal) ?? 0,
  })),
}));
const GATED = DETECTORS.flatMap((d, i) => (d.lineLiterals ? [] : [{ bit: 1 << i, lineGate: d.lineGate }]));

function literalBits(line: string): number {
  let mask = 0;
  for (let g = 0; g < LITERAL_BITS.length; g++) {
    const { needle, literals } = LITERAL_BITS[g] as (typeof LITERAL_BITS)[number];
    for (let i = line.indexOf(needle); i !== -1; i = line.indexOf(needle, i + 1)) {
      for (let l = 0; l < literals.length; l++) {
        const { literal, offset, exact, bit } = literals[l] as (typeof literals)[number];
        if ((mask & bit) !== bit && (exact || line.startsWith(literal, i - offset))) mask |= bit;
      }
    }
  }
  return mask;
}

export interface TypedMatch extends DetectorMatch {
  type: FindingType;
  /** The value as the detectors read it (decoded: `jane@acme.com` for `jane%40acme.com`). */
  value: string;
}

const NO_MATCHES: TypedMatch[] = [];

/**
 * Runs the detectors selected by `mask` on the view of text and keeps one match per overlapping
 * span: one that holds the other whole, else the most severe, else the one listed first (a card
 * number is not also a phone number). Offsets are into `text` itself, covering whatever spelled the value (a whole `%40`, a
 * whole escape), so replacing them keeps the text's structure. `raw`: text is a line that was
 * not parsed as JSON, whose backslash escapes the view decodes too.
 */
export function detectAll(text: string, mask = FULL_MASK, raw = false): TypedMatch[] {
  const view = (mask & VIEW_BIT) !== 0 ? viewOf(text, raw) : undefined;
  const subject = view ? view.text : text;
  let all: TypedMatch[] | undefined;
  for (let i = 0; i < DETECTORS.length; i++) {
    if ((mask & (1 << i)) === 0) continue;
    const detector = DETECTORS[i] as Detector;
    if (!detector.gate(subject)) continue;
    const found = detector.find(subject);
    if (found.length === 0) continue;
    if (!all) all = [];
    for (const m of found) {
      all.push({
        start: m.start,
        end: m.end,
        severity: m.severity,
        example: m.example,
        type: detector.type,
        value: '',
      });
    }
  }
  if (!all) return NO_MATCHES;
  const kept = all.length === 1 ? all : resolveOverlaps(all);
  for (const m of kept) {
    m.value = subject.slice(m.start, m.end);
    if (view) {
      m.start = view.offsets[m.start] ?? 0;
      m.end = view.offsets[m.end] ?? text.length;
    }
  }
  return kept;
}

function resolveOverlaps(all: TypedMatch[]): TypedMatch[] {
  const order = (type: FindingType) => ORDER.get(type) ?? 0;
  all.sort((a, b) => a.start - b.start || order(a.type) - order(b.type));
  const kept: TypedMatch[] = [];
  for (const m of all) {
    const last = kept[kept.length - 1];
    if (!last || m.start >= last.end) {
      kept.push(m);
      continue;
    }
    // A match that holds the other whole saw more of the value (an IBAN around digits that also
    // pass for a card); otherwise the more severe, then the one listed first.
    const contains = m.start <= last.start && m.end >= last.end;
    const contained = last.start <= m.start && last.end >= m.end;
    const better =
      contains !== contained
        ? contains
        : SEVERITY_RANK[m.severity] > SEVERITY_RANK[last.severity] ||
          (SEVERITY_RANK[m.severity] === SEVERITY_RANK[last.severity] && order(m.type) < order(last.type));
    if (better) {
      // The span kept covers both, so nothing of the weaker match is left unredacted.
      m.start = Math.min(m.start, last.start);
      m.end = Math.max(m.end, last.end);
      kept[kept.length - 1] = m;
    } else {
      last.end = Math.max(last.end, m.end);
    }
  }
  return kept;
}
