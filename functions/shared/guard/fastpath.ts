/**
 * The fast path of the record checks: one hand-rolled pass over a raw JSONL line that decides,
 * without JSON.parse, that the record is plain: compact JSON of exactly the common valid shape of
 * its family, no Nova reserved keyword near, no detector match in any string, within the token
 * limit. Such a record contributes only its token count to the report, so that is all this
 * returns; anything else (whitespace between tokens, another key order is fine but an unknown or
 * repeated key is not, numbers, null, a control character, a bad escape, a possible finding)
 * returns FALLBACK and the line takes the full path in records.ts (JSON.parse, zod, the walk),
 * which stays the single definition of every problem and finding.
 *
 * Why: JSON.parse copies every string and builds every object, which costs more than all the
 * checks together. Here strings are never copied: their ends are found with indexOf, the line is
 * checked once for control characters and backslashes, and the detectors see slices of the line
 * (decoded with JSON.parse only for a string holding an escape). A differential test
 * (test/unit/guard/fastpath.test.ts) pins that the report is identical with the fast path off.
 *
 * What it accepts is a subset of what schemas/obvious.ts's obviouslyValid accepts, so a record
 * taken here would have had no issues on the full path, and it visits every string the full
 * path's walk scans, with the same detector mask, counting the same characters.
 */
import type { FamilyId } from './limits';
import { colonsOf } from './detectors/define';
import { detectAll, lineGateMask } from './registry';
import { reservedKeywordAtColon, reservedKeywordWithoutColon } from './schemas/reserved';

/** Returned when the line must take the full path. */
export const FALLBACK = -1;

/**
 * JSON forbids raw control characters in strings. One range, so V8 runs it as a tight loop; a
 * class that also excludes the backslash splits into two ranges and runs at half the speed, so
 * backslashes are looked for separately.
 */
const NO_CONTROL = /^[^\x00-\x1f]*$/;

const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;

/** Thrown (and caught at the top) when the line leaves the fast path's grammar. */
class Leave {}
const LEAVE = new Leave();

const CONVERSATION_LABEL = 'bedrock-conversation-2024';

/**
 * schemas/reserved.ts mayHoldReservedKeyword, walking the colons the line gates walk too
 * (colonsOf keeps them for the line).
 */
function mayHoldReservedKeyword(line: string, backslash: boolean): boolean {
  if ((backslash && line.includes('\\u')) || reservedKeywordWithoutColon(line) !== undefined) return true;
  for (const colon of colonsOf(line)) if (reservedKeywordAtColon(line, colon) !== undefined) return true;
  return false;
}

class PlainRecord {
  private line = '';
  private pos = 0;
  private plain = true;
  /** Position of the next backslash at or after the last string start; -1 when none. */
  private nextBackslash = -1;
  private gates = 0;
  private chars = 0;

  /**
   * Characters counted for the token estimate when the record is plain (see the file comment);
   * FALLBACK otherwise.
   */
  check(family: FamilyId, line: string, ascii: boolean): number {
    if (line.charCodeAt(0) !== OPEN_OBJECT) return FALLBACK;
    // A control character makes the line invalid JSON; JSON.parse words the error.
    if (!NO_CONTROL.test(line)) return FALLBACK;
    // Without a backslash strings end at the next quote and need no decoding.
    const backslash = line.includes('\\');
    // The full path checks every string of a line that may hold a Nova reserved keyword
    // (schemas/reserved.ts mayHoldReservedKeyword): leave such lines to it.
    if (family === 'bedrock-conversation-2024' && mayHoldReservedKeyword(line, backslash)) return FALLBACK;
    const gates = lineGateMask(line, backslash, ascii);
    this.plain = !backslash;
    this.line = line;
    this.pos = 0;
    this.nextBackslash = backslash ? line.indexOf('\\') : -1;
    this.gates = gates;
    this.chars = 0;
    try {
      switch (family) {
        case 'bedrock-conversation-2024':
          this.conversation();
          break;
        case 'claude-messages':
          this.claude();
          break;
        case 'prompt-completion':
          this.promptCompletion();
          break;
        case 'continued-pretraining':
          this.input();
          break;
        // Distillation and RFT prompts always take the full path (schemas/obvious.ts obviouslyValid).
        case 'conversation-prompts':
        case 'rft-chat':
          return FALLBACK;
      }
    } catch (error) {
      if (error === LEAVE) return FALLBACK;
      throw error;
    } finally {
      this.line = '';
    }
    return this.pos === line.length ? this.chars : FALLBACK;
  }

  // -------------------------------------------------------------------------------------------
  // Shapes (compare schemas/obvious.ts obviouslyValid)

  /** {"schemaVersion": string, "system"?: [textBlock…], "messages": [turn…]} in any key order. */
  private conversation(): void {
    this.expect(OPEN_OBJECT);
    let seen = 0;
    do {
      if (this.key('schemaVersion', seen, 1)) {
        seen |= 1;
        this.labelString(CONVERSATION_LABEL);
      } else if (this.key('system', seen, 2)) {
        seen |= 2;
        this.expect(OPEN_ARRAY);
        if (!this.skip(CLOSE_ARRAY)) {
          do this.textBlock();
          while (this.skip(COMMA));
          this.expect(CLOSE_ARRAY);
        }
      } else if (this.key('messages', seen, 4)) {
        seen |= 4;
        this.turns(true);
      } else {
        throw LEAVE;
      }
    } while (this.skip(COMMA));
    this.expect(CLOSE_OBJECT);
    if ((seen & 5) !== 5) throw LEAVE;
  }

  /** {"system"?: string, "messages": [{"role", "content": string}…]} in any key order. */
  private claude(): void {
    this.expect(OPEN_OBJECT);
    let seen = 0;
    do {
      if (this.key('system', seen, 1)) {
        seen |= 1;
        this.textString();
      } else if (this.key('messages', seen, 2)) {
        seen |= 2;
        this.turns(false);
      } else {
        throw LEAVE;
      }
    } while (this.skip(COMMA));
    this.expect(CLOSE_OBJECT);
    if ((seen & 2) !== 2) throw LEAVE;
  }

  /** {"prompt": string, "completion": string} in either order. */
  private promptCompletion(): void {
    this.expect(OPEN_OBJECT);
    let seen = 0;
    do {
      if (this.key('prompt', seen, 1)) {
        seen |= 1;
        this.textString();
      } else if (this.key('completion', seen, 2)) {
        seen |= 2;
        this.textString();
      } else {
        throw LEAVE;
      }
    } while (this.skip(COMMA));
    this.expect(CLOSE_OBJECT);
    if (seen !== 3) throw LEAVE;
  }

  /** {"input": string}: continued pre-training text. */
  private input(): void {
    this.expect(OPEN_OBJECT);
    if (!this.key('input', 0, 1)) throw LEAVE;
    this.textString();
    this.expect(CLOSE_OBJECT);
  }

  /**
   * An even number (at least two) of turns, user first, strictly alternating; content is a
   * non-empty array of text blocks (blocks) or a string.
   */
  private turns(blocks: boolean): void {
    this.expect(OPEN_ARRAY);
    let i = 0;
    do {
      this.expect(OPEN_OBJECT);
      let seen = 0;
      do {
        if (this.key('role', seen, 1)) {
          seen |= 1;
          if (!this.line.startsWith(i % 2 === 0 ? '"user"' : '"assistant"', this.pos)) throw LEAVE;
          this.pos += i % 2 === 0 ? 6 : 11;
        } else if (this.key('content', seen, 2)) {
          seen |= 2;
          if (blocks) {
            this.expect(OPEN_ARRAY);
            do this.textBlock();
            while (this.skip(COMMA));
            this.expect(CLOSE_ARRAY);
          } else {
            this.textString();
          }
        } else {
          throw LEAVE;
        }
      } while (this.skip(COMMA));
      this.expect(CLOSE_OBJECT);
      if (seen !== 3) throw LEAVE;
      i++;
    } while (this.skip(COMMA));
    this.expect(CLOSE_ARRAY);
    if (i < 2 || i % 2 !== 0) throw LEAVE;
  }

  /** {"text": string} and nothing else. */
  private textBlock(): void {
    if (!this.line.startsWith('{"text":', this.pos)) throw LEAVE;
    this.pos += 8;
    this.textString();
    this.expect(CLOSE_OBJECT);
  }

  // -------------------------------------------------------------------------------------------
  // Tokens

  private expect(c: number): void {
    if (this.line.charCodeAt(this.pos) !== c) throw LEAVE;
    this.pos++;
  }

  private skip(c: number): boolean {
    if (this.line.charCodeAt(this.pos) !== c) return false;
    this.pos++;
    return true;
  }

  /**
   * `"name":` at the cursor, not seen before in this object (a repeated key would leave JSON.parse
   * keeping the last value only). Keys of the format are never scanned (records.ts SCHEMA_KEYS).
   */
  private key(name: string, seen: number, flag: number): boolean {
    const line = this.line;
    const pos = this.pos;
    if (
      line.charCodeAt(pos) !== QUOTE ||
      line.charCodeAt(pos + name.length + 1) !== QUOTE ||
      line.charCodeAt(pos + name.length + 2) !== COLON ||
      !line.startsWith(name, pos + 1)
    ) {
      return false;
    }
    if (seen & flag) throw LEAVE;
    this.pos = pos + name.length + 3;
    return true;
  }

  /**
   * A string under a field that holds a label (schemaVersion): the label itself is skipped, any
   * other value is scanned but not counted, as the full path's walk does for NON_TEXT_FIELDS.
   */
  private labelString(label: string): void {
    const value = this.string();
    if (value !== label) this.scan(value);
  }

  /** A string of content: counted and scanned. */
  private textString(): void {
    const value = this.string();
    this.chars += value.length;
    this.scan(value);
  }

  /** The string at the cursor, decoded. */
  private string(): string {
    const line = this.line;
    if (line.charCodeAt(this.pos) !== QUOTE) throw LEAVE;
    const start = this.pos + 1;
    let end = line.indexOf('"', start);
    if (this.plain) {
      if (end === -1) throw LEAVE;
      this.pos = end + 1;
      return line.slice(start, end);
    }
    // Skip quotes escaped by an odd run of backslashes.
    for (;;) {
      if (end === -1) throw LEAVE;
      let backslashes = 0;
      while (end - 1 - backslashes >= start && line.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
      if (backslashes % 2 === 0) break;
      end = line.indexOf('"', end + 1);
    }
    this.pos = end + 1;
    if (this.nextBackslash !== -1 && this.nextBackslash < start) {
      this.nextBackslash = line.indexOf('\\', start);
    }
    if (this.nextBackslash === -1 || this.nextBackslash >= end) return line.slice(start, end);
    // An escape: JSON.parse of the string alone decodes it exactly as of the whole line.
    try {
      return JSON.parse(line.slice(start - 1, end + 1)) as string;
    } catch {
      throw LEAVE;
    }
  }

  /** Any detector match (even one the allow-list would suppress) sends the line the full way. */
  private scan(value: string): void {
    if (this.gates !== 0 && detectAll(value, this.gates).length > 0) throw LEAVE;
  }
}

const shared = new PlainRecord();

/**
 * Characters of a plain record's strings for the token estimate (as records.ts counts them), or
 * FALLBACK when the line needs the full checks. See the file comment for what "plain" means.
 */
export function plainRecordChars(family: FamilyId, line: string, ascii = false): number {
  return shared.check(family, line, ascii);
}
