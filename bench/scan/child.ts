/**
 * One measurement in a fresh process, so peak RSS belongs to that measurement alone.
 * Usage: node child.js <readline|split|floor|scan|scan-1t> FILE [HIGH_WATER_MARK]  → one JSON line
 * on stdout. Every mode reads FILE through the same kind of read stream, with the same
 * highWaterMark (Node's default, 64 KiB, unless given), so the comparisons stay fair.
 *
 * Bundled by run.ts; the scan's worker threads load this same bundle (workerFile below), so
 * everything that runs a measurement stays behind the isMainThread check.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { isMainThread } from 'node:worker_threads';
import { scanTrainingData } from '../../functions/shared/guard';

type Mode = 'readline' | 'split' | 'floor' | 'scan' | 'scan-1t';
const MODES: readonly Mode[] = ['readline', 'split', 'floor', 'scan', 'scan-1t'];

let highWaterMark: number | undefined;

function open(file: string) {
  return createReadStream(file, highWaterMark ? { highWaterMark } : {});
}

async function readlineBaseline(file: string): Promise<{ lines: number; extra: Record<string, unknown> }> {
  // The plain line read the brief compares against: a read stream split into lines by readline.
  const lines = createInterface({ input: open(file), crlfDelay: Number.POSITIVE_INFINITY });
  let count = 0;
  for await (const _line of lines) count++;
  return { lines: count, extra: {} };
}

async function splitBaseline(file: string): Promise<{ lines: number; extra: Record<string, unknown> }> {
  // For context only: newline search on raw buffers, no decoding at all.
  let count = 0;
  for await (const chunk of open(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
  }
  return { lines: count, extra: {} };
}

async function parseFloor(file: string): Promise<{ lines: number; extra: Record<string, unknown> }> {
  // The work no scanner can skip: every byte hashed, every line decoded and JSON.parse'd.
  const hash = createHash('sha256');
  let count = 0;
  let carry = Buffer.alloc(0);
  for await (const chunk of open(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      JSON.parse(data.toString('utf8', start, end));
      count++;
      start = end + 1;
    }
    carry = Buffer.from(data.subarray(start));
  }
  return { lines: count, extra: { sha256: hash.digest('hex') } };
}

async function scan(
  file: string,
  parallel: boolean,
): Promise<{ lines: number; extra: Record<string, unknown> }> {
  const report = await scanTrainingData(open(file), {
    family: 'bedrock-conversation-2024',
    policy: 'block',
    ...(parallel ? { parallelism: 'auto' as const, workerFile: __filename } : {}),
  });
  return {
    lines: report.lines,
    extra: {
      verdict: report.verdict,
      records: report.records,
      totalFindings: report.totalFindings,
      byType: report.counts.byType,
      problems: report.problemCounts,
      sha256: report.sha256,
    },
  };
}

async function main(): Promise<void> {
  const [modeArg, file, hwmArg] = process.argv.slice(2);
  const mode = MODES.find((m) => m === modeArg);
  highWaterMark = hwmArg === undefined ? undefined : Number(hwmArg);
  if (
    !file ||
    !mode ||
    (highWaterMark !== undefined && !(Number.isInteger(highWaterMark) && highWaterMark > 0))
  ) {
    process.stderr.write(`usage: child <${MODES.join('|')}> FILE [HIGH_WATER_MARK]\n`);
    process.exit(64);
  }
  const run = {
    readline: readlineBaseline,
    split: splitBaseline,
    floor: parseFloor,
    scan: (f: string) => scan(f, true),
    'scan-1t': (f: string) => scan(f, false),
  }[mode];
  const started = process.hrtime.bigint();
  const result = await run(file);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // maxRSS is in KiB on Linux and macOS.
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ mode, ms, lines: result.lines, peakRssMiB, ...result.extra })}\n`);
}

if (isMainThread) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
