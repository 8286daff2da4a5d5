/**
 * A line too long to hold: its bytes stream through in chunks, are decoded across chunk
 * boundaries and scanned in overlapping segments, so a value split between chunks is found
 * once, at its column, and the counts stay exact while the list is capped.
 */
import { RecordScanner } from '../../../functions/shared/guard/records';
import { LongLine } from '../../../functions/shared/guard/scan/long-line';
import { fake, pseudoRandom, RECORD_SCAN_CONFIG } from './fixtures';

function longLine(lineNo: number, maxFindings = 100, allowValues: string[] = []): LongLine {
  return new LongLine(new RecordScanner({ ...RECORD_SCAN_CONFIG, allowValues }), lineNo, maxFindings);
}

const located = (f: { type: string; line: number; column?: number }) => [f.type, f.line, f.column];

describe('LongLine', () => {
  it('finds a value split between two chunks once, at its column in the line', () => {
    const text = `{"text":"write to ${fake.email} today"}`;
    const cut = text.indexOf('@acme');
    const line = longLine(7);
    line.feed(Buffer.from(text.slice(0, cut)));
    line.feed(Buffer.from(text.slice(cut)));
    const result = line.end();
    expect(result.findings.map(located)).toEqual([['EMAIL', 7, text.indexOf(fake.email) + 1]]);
    expect(result.totalFindings).toBe(1);
    expect(result.counts.byType).toEqual({ EMAIL: 1 });
    expect(line.bytes).toBe(Buffer.byteLength(text));
    expect(line.invalidUtf8).toBe(false);
  });

  it('counts blocking and allow-listed values across chunks', () => {
    const line = longLine(3, 100, [fake.exampleEmail]);
    line.feed(Buffer.from(`{"text":"card ${fake.card} `));
    line.feed(Buffer.from(`and mail ${fake.exampleEmail} and ${fake.email}"}`));
    const result = line.end();
    expect(result.findings.map((f) => f.type)).toEqual(['CARD_NUMBER', 'EMAIL']);
    expect(result.totalFindings).toBe(2);
    // The card is high, at the blocking threshold; the email is medium.
    expect(result.blockingFindings).toBe(1);
    expect(result.suppressed).toBe(1);
  });

  it('lists at most maxFindings findings over the whole line while counting all of them', () => {
    const line = longLine(1, 2);
    line.feed(Buffer.from(`{"text":"first ${fake.email} `));
    line.feed(Buffer.from(`second ${fake.email} third ${fake.email}"}`));
    const result = line.end();
    expect(result.findings).toHaveLength(2);
    expect(result.totalFindings).toBe(3);
    expect(result.counts.byType).toEqual({ EMAIL: 3 });
  });

  it('reports invalid UTF-8 and still scans the rest of the line', () => {
    const line = longLine(2);
    line.feed(
      Buffer.concat([Buffer.from('{"text":"bad '), Buffer.from([0xff, 0xfe]), Buffer.from(' byte ')]),
    );
    line.feed(Buffer.from(`mail ${fake.email}"}`));
    const result = line.end();
    expect(line.invalidUtf8).toBe(true);
    expect(result.findings.map((f) => f.type)).toEqual(['EMAIL']);
  });

  it('decodes a character split between chunks as one character', () => {
    const text = `{"text":"café ${fake.email}"}`;
    const bytes = Buffer.from(text);
    const cut = bytes.indexOf(0xa9); // the second byte of é
    const line = longLine(4);
    line.feed(bytes.subarray(0, cut));
    line.feed(bytes.subarray(cut));
    const result = line.end();
    expect(line.invalidUtf8).toBe(false);
    expect(result.findings.map(located)).toEqual([['EMAIL', 4, text.indexOf(fake.email) + 1]]);
  });

  it('after invalid UTF-8, still decodes a character split between chunks as one character', () => {
    // 0xff (one replacement character), a space, then é split between the chunks.
    const line = longLine(5);
    line.feed(Buffer.from([0xff, 0x20, 0xc3]));
    line.feed(Buffer.concat([Buffer.from([0xa9]), Buffer.from(` ${fake.email}`)]));
    const result = line.end();
    expect(line.invalidUtf8).toBe(true);
    expect(result.findings.map(located)).toEqual([['EMAIL', 5, 5]]);
  });

  it('reports a private key longer than the segment overlap once', () => {
    const body = pseudoRandom('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 6000, 21)
      .match(/.{1,64}/g)
      ?.join('\\n');
    const key = `-----BEGIN RSA PRIVATE KEY-----\\n${body}\\n-----END RSA PRIVATE KEY-----`;
    const text = `{"text":"${key}"}`;
    const line = longLine(9);
    line.feed(Buffer.from(text.slice(0, 5000)));
    line.feed(Buffer.from(text.slice(5000)));
    const result = line.end();
    expect(result.findings.map(located)).toEqual([['PRIVATE_KEY', 9, 10]]);
    expect(result.totalFindings).toBe(1);
  });
});
