/**
 * A line too long to hold in memory (over the family's maxLineBytes): counted, scanned for
 * secrets in decoded segments as its bytes stream through, never parsed.
 */
import { TextDecoder } from 'node:util';
import { addCounts, type BatchResult, RecordScanner } from '../records';

/** Each segment re-reads this much of the previous one, so a value split between them is found. */
const SEGMENT_OVERLAP = 4096;

export class LongLine {
  /** Bytes of the line so far. */
  bytes = 0;
  invalidUtf8 = false;
  private chars = 0;
  private tail = '';
  private decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly result: BatchResult = RecordScanner.emptyResult();

  constructor(
    private readonly scanner: RecordScanner,
    private readonly lineNo: number,
    private readonly maxFindings: number,
  ) {}

  feed(bytes: Buffer): void {
    this.bytes += bytes.length;
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      this.invalidUtf8 = true;
      this.decoder = new TextDecoder('utf-8');
      text = this.decoder.decode(bytes, { stream: true });
    }
    this.scanSegment(text);
  }

  /** Scans what the decoder still holds; the findings of the whole line. */
  end(): BatchResult {
    this.scanSegment(this.decoder.decode());
    return this.result;
  }

  private scanSegment(text: string): void {
    if (text.length === 0) return;
    const segment = this.tail + text;
    const base = this.chars - this.tail.length;
    // Matches that end inside text already scanned were reported with the previous segment.
    const part = this.scanner.scanText(segment, this.lineNo, base, this.tail.length);
    const into = this.result;
    into.findings.push(...part.findings.slice(0, Math.max(0, this.maxFindings - into.findings.length)));
    into.totalFindings += part.totalFindings;
    into.blockingFindings += part.blockingFindings;
    into.suppressed += part.suppressed;
    addCounts(into.counts, part.counts);
    this.chars += text.length;
    this.tail = segment.slice(-SEGMENT_OVERLAP);
  }
}
