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

/** A key an object of the format may have, and how its value is read. */
type Member = readonly [name: string, read: (record: PlainRecord) => void];

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
          this.object(PlainRecord.CONVERSATION, 0b101);
          break;
        case 'claude-messages':
          this.object(PlainRecord.CLAUDE, 0b10);
          break;
        case 'prompt-completion':
          this.object(PlainRecord.PROMPT_COMPLETION, 0b11);
          break;
        case 'continued-pretraining':
          this.object(PlainRecord.INPUT, 0b1);
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
  private static readonly CONVERSATION: readonly Member[] = [
    ['schemaVersion', (r) => r.labelString(CONVERSATION_LABEL)],
    ['system', (r) => r.systemBlocks()],
    ['messages', (r) => r.turns(true)],
  ];

  /** {"system"?: string, "messages": [{"role", "content": string}…]} in any key order. */
  private static readonly CLAUDE: readonly Member[] = [
    ['system', (r) => r.textString()],
    ['messages', (r) => r.turns(false)],
  ];

  /** {"prompt": string, "completion": string} in either order. */
  private static readonly PROMPT_COMPLETION: readonly Member[] = [
    ['prompt', (r) => r.textString()],
    ['completion', (r) => r.textString()],
  ];

  /** {"input": string}: continued pre-training text. */
  private static readonly INPUT: readonly Member[] = [['input', (r) => r.textString()]];

  /**
   * An object whose keys are among MEMBERS, in any order, each at most once (a repeated key would
   * leave JSON.parse keeping the last value only), each value read by its member's reader; the
   * members whose bit is set in REQUIRED (bit i for MEMBERS[i]) must all be there.
   */
  private object(members: readonly Member[], required: number): void {
    this.expect(OPEN_OBJECT);
    let seen = 0;
    do {
      let i = 0;
      while (i < members.length && !this.key((members[i] as Member)[0], seen, 1 << i)) i++;
      const member = members[i];
      if (!member) throw LEAVE;
      seen |= 1 << i;
      member[1](this);
    } while (this.skip(COMMA));
    this.expect(CLOSE_OBJECT);
    if ((seen & required) !== required) throw LEAVE;
  }

  /** [textBlock…], possibly empty: a conversation's system prompt. */
  private systemBlocks(): void {
    this.expect(OPEN_ARRAY);
    if (!this.skip(CLOSE_ARRAY)) {
      do this.textBlock();
      while (this.skip(COMMA));
      this.expect(CLOSE_ARRAY);
    }
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
