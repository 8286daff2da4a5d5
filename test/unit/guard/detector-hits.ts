/** What the detector tests compare: a detector's matches in a text, read as values with their flags. */
import type { Detector, Severity } from '../../../functions/shared/guard';

export interface Hit {
  value: string;
  start: number;
  severity: Severity;
  example: boolean;
}

/** What one detector reports in text: value, start, severity and example flag. */
export function found(detector: Detector, text: string): Hit[] {
  return detector.find(text).map((m) => ({
    value: text.slice(m.start, m.end),
    start: m.start,
    severity: m.severity,
    example: m.example,
  }));
}

/** The values alone. */
export function values(detector: Detector, text: string): string[] {
  return found(detector, text).map((h) => h.value);
}

/** expect(actual).toEqual(expected), naming the table row in the failure message. */
export function expectRow(row: string, actual: unknown, expected: unknown): void {
  expect({ row, actual }).toEqual({ row, actual: expected });
}
