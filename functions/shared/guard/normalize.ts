/**
 * The text the detectors read: what a person (or a model) sees, not how it was written down.
 *
 * A value can be written so that no pattern recognises it while it stays perfectly readable:
 * `jane%40acme.com` in a URL, `4539\u00a01452\u00a06018\u00a01594` with non-breaking spaces,
 * `AK\u200bIA…` with a zero-width space, `\u0040` in a line that is not JSON. The view maps those
 * to the plain characters they stand for, keeping for every character of the view where it came
 * from, so a match is reported and redacted over the original characters (a whole `%40`, a whole
 * escape) and the redacted line keeps its structure.
 *
 * What is mapped (each by hand: no library decodes and keeps offsets):
 * - percent escapes `%XX` (runs of them decoded as UTF-8; an escape that is not part of a UTF-8
 *   character, or that spells a control character other than a tab or line break, stays as
 *   written);
 * - Unicode spaces (no-break, en/em, thin, narrow no-break, ideographic, …) → a space;
 * - invisible characters (zero-width space/joiners, word joiner, soft hyphen, BOM) → nothing;
 * - full-width ASCII forms (U+FF01–FF5E, `４５３９`) → ASCII;
 * - with `raw` (a line that is not parsed as JSON): JSON's backslash escapes → what they encode.
 */

/** A view of a text for the detectors; `offsets[i]` is where view character i starts in the text. */
export interface TextView {
  text: string;
  /** Length text.length + 1: offsets[view.length] is the original length. */
  offsets: Int32Array;
}

/** Characters that are read as a space. */
const SPACES =
  '\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000';
/** Characters that are not read at all. */
const INVISIBLE = '\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff';

/**
 * Could text need a view? One search for the characters above (a regex class V8 runs as a tight
 * loop) and one for a percent escape. `raw` adds JSON's backslash escapes.
 */
const UNICODE_TRIGGER = new RegExp(`[${SPACES}${INVISIBLE}\\uff01-\\uff5e]`);

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

/** Whether text holds a `%XX` escape. */
export function hasPercentEscape(text: string): boolean {
  for (let i = text.indexOf('%'); i !== -1; i = text.indexOf('%', i + 1)) {
    if (isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) return true;
  }
  return false;
}

/** Whether a non-ASCII text holds a character the view maps (spaces, invisibles, full-width forms). */
export function hasUnicodeTrigger(text: string): boolean {
  return UNICODE_TRIGGER.test(text);
}

/** Whether the view of text would differ from text. `ascii`: the caller knows text is ASCII. */
export function needsView(text: string, raw: boolean, ascii = false): boolean {
  return hasPercentEscape(text) || (!ascii && hasUnicodeTrigger(text)) || (raw && text.includes('\\'));
}

class ViewBuilder {
  private readonly chars: string[] = [];
  private readonly starts: number[] = [];

  /** One character, which may be two UTF-16 units (a decoded emoji): each unit gets its start. */
  push(char: string, start: number): void {
    this.chars.push(char);
    this.starts.push(start);
    if (char.length === 2) this.starts.push(start);
  }

  finish(length: number): TextView {
    const offsets = new Int32Array(this.starts.length + 1);
    offsets.set(this.starts);
    offsets[this.starts.length] = length;
    return { text: this.chars.join(''), offsets };
  }
}

/** Length in bytes of a UTF-8 sequence starting with byte b; 0 when b cannot start one. */
function utf8Length(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/**
 * Decodes the `%XX` run starting at i into the builder; returns where it ends. Each decoded
 * character spans the escapes it was made of.
 */
function percentRun(text: string, i: number, out: ViewBuilder): number {
  const bytes: number[] = [];
  const at: number[] = [];
  let j = i;
  while (text.charCodeAt(j) === 37 && isHex(text.charCodeAt(j + 1)) && isHex(text.charCodeAt(j + 2))) {
    bytes.push(hexValue(text.charCodeAt(j + 1)) * 16 + hexValue(text.charCodeAt(j + 2)));
    at.push(j);
    j += 3;
  }
  let k = 0;
  while (k < bytes.length) {
    const b = bytes[k] as number;
    const n = utf8Length(b);
    // A control character (other than tab and line breaks) is not what a URL means to say: a
    // `%1D` inside a password stays as written.
    let ok = n > 0 && k + n <= bytes.length && (b >= 0x20 || b === 9 || b === 10 || b === 13) && b !== 0x7f;
    for (let m = 1; ok && m < n; m++) ok = ((bytes[k + m] as number) & 0xc0) === 0x80;
    if (!ok) {
      // Not UTF-8: the escape stays as written, character by character.
      const start = at[k] as number;
      for (let m = 0; m < 3; m++) out.push(text[start + m] as string, start + m);
      k++;
      continue;
    }
    const char = Buffer.from(bytes.slice(k, k + n)).toString('utf8');
    emit(char, at[k] as number, out);
    k += n;
  }
  return j;
}

/** One decoded character into the view, after the Unicode mappings. */
function emit(char: string, start: number, out: ViewBuilder): void {
  const c = char.charCodeAt(0);
  if (c < 0x80) out.push(char, start);
  else if (SPACES.includes(char)) out.push(' ', start);
  else if (INVISIBLE.includes(char)) return;
  else if (c >= 0xff01 && c <= 0xff5e && char.length === 1) out.push(String.fromCharCode(c - 0xfee0), start);
  else out.push(char, start);
}

const JSON_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  '\\': '\\',
  '/': '/',
};

/**
 * The view of text (see the file comment). `raw`: text is a line that was not parsed as JSON, so
 * its backslash escapes are decoded too. Returns undefined when the view would equal the text.
 */
export function viewOf(text: string, raw: boolean, ascii = false): TextView | undefined {
  if (!needsView(text, raw, ascii)) return undefined;
  const out = new ViewBuilder();
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 37 && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      i = percentRun(text, i, out);
      continue;
    }
    if (raw && c === 92) {
      const next = text[i + 1];
      if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) {
        emit(String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16)), i, out);
        i += 6;
        continue;
      }
      const decoded = next === undefined ? undefined : JSON_ESCAPES[next];
      if (decoded !== undefined) {
        out.push(decoded, i);
        i += 2;
        continue;
      }
    }
    if (c < 0x80) out.push(text[i] as string, i);
    else emit(text[i] as string, i, out);
    i++;
  }
  return out.finish(text.length);
}
