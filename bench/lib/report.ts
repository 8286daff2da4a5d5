/**
 * How the benchmarks print: one line per figure with its target and verdict beside it, and a
 * summary of every section at the end. Verdicts on sizes and times are information only; the
 * exit code reports correctness (counts, runs that did not succeed, bundles that do not load).
 */
import fs from 'node:fs';
import path from 'node:path';

export type Verdict = 'met' | 'NOT MET' | 'info' | 'ok' | 'WRONG';

export interface Figure {
  section: string;
  label: string;
  value: string;
  target?: string;
  verdict: Verdict;
}

export class Report {
  readonly figures: Figure[] = [];
  /** Correctness failures: any of these makes `npm run bench` exit non-zero. */
  readonly failures: string[] = [];
  private readonly write: (s: string) => void;

  constructor(out: NodeJS.WriteStream = process.stdout) {
    // Bound now: output capture (below) replaces stream.write while the embedded AWS runs.
    const w = out.write.bind(out);
    this.write = (s) => {
      w(s);
    };
  }

  print(line = ''): void {
    this.write(`${line}\n`);
  }

  heading(title: string): void {
    this.print();
    this.print(`━━ ${title} ${'━'.repeat(Math.max(3, 96 - title.length))}`);
  }

  /** A figure with its target: `met` / `NOT MET` when a target applies, else `info`. */
  figure(section: string, label: string, value: string, target?: string, met?: boolean): void {
    const verdict: Verdict = met === undefined ? 'info' : met ? 'met' : 'NOT MET';
    this.figures.push({ section, label, value, ...(target ? { target } : {}), verdict });
    this.print(
      `  ${label.padEnd(44)} ${value.padEnd(30)} ${target ? `${target} → ${verdict}` : ''}`.trimEnd(),
    );
  }

  /** A count that must be exact: a wrong one fails the benchmark. */
  count(section: string, label: string, actual: number, expected: number, unit = ''): void {
    const ok = actual === expected;
    this.figures.push({
      section,
      label,
      value: `${actual}${unit}`,
      target: `= ${expected}`,
      verdict: ok ? 'ok' : 'WRONG',
    });
    this.print(
      `  ${label.padEnd(44)} ${`${actual}${unit}`.padEnd(30)} = ${expected} → ${ok ? 'ok' : 'WRONG'}`,
    );
    if (!ok) this.failures.push(`${section}: ${label} is ${actual}, expected ${expected}`);
  }

  fail(section: string, message: string): void {
    this.failures.push(`${section}: ${message}`);
    this.print(`  ✗ ${message}`);
  }

  summary(): void {
    this.heading('Summary');
    let section = '';
    for (const f of this.figures) {
      if (f.section !== section) {
        section = f.section;
        this.print(`  ${section}`);
      }
      this.print(
        `    ${f.label.padEnd(42)} ${f.value.padEnd(30)} ${f.target ? `${f.target.padEnd(16)} ${f.verdict}` : ''}`.trimEnd(),
      );
    }
    this.print();
    if (this.failures.length === 0) this.print('  Correctness: every count is right.');
    else for (const f of this.failures) this.print(`  ✗ ${f}`);
  }
}

/**
 * Runs `work` with this process's stdout and stderr going to a log file: the in-process Lambda
 * handlers log there (Powertools writes straight to process.stdout), not into the report.
 */
export async function capturingOutput<T>(logFile: string, work: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write);
  for (const s of streams) {
    s.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk === 'string') fs.writeSync(fd, chunk);
      else fs.writeSync(fd, chunk);
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof s.write;
  }
  try {
    return await work();
  } finally {
    streams.forEach((s, i) => {
      s.write = originals[i] as typeof s.write;
    });
    fs.closeSync(fd);
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
