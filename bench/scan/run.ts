/**
 * The data guard's benchmark: `npm run bench:scan` (or `npx tsx bench/scan/run.ts`)
 *   [--mib 200] [--runs 3] [--seed 42] [--hwm 65536] [--cases 300] [--no-in-process]
 *
 * 1. Whole processes, as a user runs them: `tunevault scan FILE` (the compiled CLI, built first
 *    with `npm run build`) against `node bench/scan/readline.js FILE`, a plain readline loop,
 *    interleaved, `--runs` times each, in this one run. Wall time from spawn to exit; peak RSS of
 *    each process (all its threads) from a preloaded module that reads getrusage at exit. The
 *    ratio is readline's median time over the scan's: 1 means as fast as reading the lines.
 * 2. Start-up: `tunevault --help` (median of 5) beside `node -e 0`.
 * 3. In-process figures for context (a bundle of bench/scan/child.ts per measurement, so the
 *    timings start after start-up): readline, the scan with worker threads and on one thread, a
 *    parse floor (sha256 + JSON.parse of every line, no checks), a raw newline split.
 * 4. Detection: every detector's generated cases (test/unit/guard/generated.ts, fast-check,
 *    seed --seed) through the whole scan path: recall and false-positive rate per detector.
 *
 * The file is generated once (cached in the OS temp dir): bedrock-conversation-2024 records with
 * sprinkled fake findings. Targets: ratio ≥ 0.6, peak RSS ≤ 160 MiB, `--help` ≤ 150 ms, recall
 * ≥ 0.98 and false positives ≤ 1 % per detector. The closing lines say MET or MISSED for each.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { workerCount } from '../../functions/shared/guard/scan/scanner';
import { measureDetection, plantedCases } from '../../test/unit/guard/generated';
import { generateConversationDataset } from './generate';

const ROOT = join(__dirname, '..', '..');
const TARGET_RATIO = 0.6;
const TARGET_RSS_MIB = 160;
const TARGET_HELP_MS = 150;
const TARGET_RECALL = 0.98;
const TARGET_FALSE_POSITIVES = 0.01;
const GENERATOR_VERSION = 1;

type Mode = 'readline' | 'split' | 'floor' | 'scan' | 'scan-1t';

interface Measurement {
  mode: Mode;
  ms: number;
  lines: number;
  peakRssMiB: number;
  verdict?: string;
  totalFindings?: number;
  byType?: Record<string, number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(48)}  ${value}\n`);
const verdict = (met: boolean) => (met ? 'MET' : 'MISSED');

async function dataset(mib: number, seed: number): Promise<string> {
  const path = join(tmpdir(), `tunevault-scan-bench-${mib}mib-seed${seed}.jsonl`);
  const marker = `${path}.done`;
  const expected = `v${GENERATOR_VERSION}`;
  if (existsSync(path) && existsSync(marker) && readFileSync(marker, 'utf8') === expected) return path;
  process.stdout.write(`generating ${mib} MiB dataset in ${path} …\n`);
  const started = Date.now();
  const result = await generateConversationDataset({ path, bytes: mib * 1024 * 1024, seed });
  writeFileSync(marker, expected);
  process.stdout.write(
    `  ${result.records.toLocaleString('en-US')} records, ${result.recordsWithFindings} with a fake finding, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return path;
}

// ---------------------------------------------------------------------------------------------
// Whole processes

interface ProcessRun {
  ms: number;
  peakRssMiB: number;
  status: number | null;
  stdout: string;
}

/** Runs `node args…` to its end: wall time from spawn to exit, and the process's peak RSS. */
function wholeProcess(args: string[], rssDir: string): ProcessRun {
  const rssFile = join(rssDir, `rss-${process.hrtime.bigint()}`);
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['--require', join(__dirname, 'peak-rss.js'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, TUNEVAULT_BENCH_RSS_FILE: rssFile },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.error) throw result.error;
  const rss = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : Number.NaN;
  return { ms, peakRssMiB: rss, status: result.status, stdout: result.stdout };
}

function buildCli(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'cli', 'build.js'), '--quiet'], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  if (result.status !== 0) throw new Error(`npm run build failed: ${result.stderr}`);
}

function wholeProcesses(file: string, bytes: number, runs: number): { ratio: number; rss: number } {
  const rssDir = mkdtempSync(join(tmpdir(), 'tunevault-bench-rss-'));
  const cli = join(ROOT, 'bin', 'tunevault.js');
  const readline = join(__dirname, 'readline.js');
  const times: Record<'readline' | 'scan', number[]> = { readline: [], scan: [] };
  const rss: Record<'readline' | 'scan', number[]> = { readline: [], scan: [] };
  let lastScan = '';
  try {
    for (let run = 1; run <= runs; run++) {
      for (const mode of ['readline', 'scan'] as const) {
        const r =
          mode === 'readline'
            ? wholeProcess([readline, file], rssDir)
            : wholeProcess([cli, 'scan', file], rssDir);
        // `tunevault scan` exits 1 on this file on purpose: it holds fake secrets.
        if (mode === 'readline' ? r.status !== 0 : r.status !== 1 || !r.stdout.includes('verdict    BLOCK')) {
          throw new Error(`${mode} process ended with ${r.status}: ${r.stdout.slice(0, 400)}`);
        }
        if (mode === 'scan') lastScan = r.stdout;
        times[mode].push(r.ms);
        rss[mode].push(r.peakRssMiB);
        process.stdout.write(
          `  run ${run} ${mode === 'scan' ? 'tunevault scan' : 'readline loop '}  ${(r.ms / 1000).toFixed(2)} s  ${(bytes / 1048576 / (r.ms / 1000)).toFixed(0).padStart(4)} MiB/s  peak RSS ${r.peakRssMiB.toFixed(0)} MiB\n`,
        );
      }
    }
  } finally {
    rmSync(rssDir, { recursive: true, force: true });
  }
  const found = /findings\s+(.*)/.exec(lastScan)?.[1] ?? '';
  const mid = { readline: median(times.readline), scan: median(times.scan) };
  const ratio = mid.readline / mid.scan;
  const peak = Math.max(...rss.scan);
  line(
    'readline loop (whole process)',
    `${(mid.readline / 1000).toFixed(2)} s median, ${(bytes / 1048576 / (mid.readline / 1000)).toFixed(0)} MiB/s, peak RSS ${Math.max(...rss.readline).toFixed(0)} MiB`,
  );
  line(
    'tunevault scan (whole process)',
    `${(mid.scan / 1000).toFixed(2)} s median, ${(bytes / 1048576 / (mid.scan / 1000)).toFixed(0)} MiB/s, peak RSS ${peak.toFixed(0)} MiB`,
  );
  line('tunevault scan findings', found);
  return { ratio, rss: peak };
}

function startup(): number {
  const cli = join(ROOT, 'bin', 'tunevault.js');
  const help: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    help.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (r.status !== 0) throw new Error(`tunevault --help exited with ${r.status}: ${r.stderr}`);
    const s2 = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    bare.push(Number(process.hrtime.bigint() - s2) / 1e6);
  }
  line(
    'tunevault --help',
    `${median(help).toFixed(0)} ms median of 5 (node -e 0: ${median(bare).toFixed(0)} ms)`,
  );
  return median(help);
}

// ---------------------------------------------------------------------------------------------
// In process

async function bundleChild(): Promise<string> {
  const outfile = join(tmpdir(), 'tunevault-scan-bench-child.cjs');
  await build({
    entryPoints: [join(__dirname, 'child.ts')],
    bundle: true,
    platform: 'node',
    target: `node${process.versions.node}`,
    format: 'cjs',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

function measure(child: string, mode: Mode, file: string, hwm: number | undefined): Measurement {
  const args = hwm === undefined ? [child, mode, file] : [child, mode, file, String(hwm)];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${mode} child failed (${result.status}): ${result.stderr}`);
  const parsed: unknown = JSON.parse(result.stdout.trim().split('\n').pop() ?? '');
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as Measurement).ms !== 'number') {
    throw new Error(`unexpected child output: ${result.stdout.slice(0, 200)}`);
  }
  return parsed as Measurement;
}

async function inProcess(file: string, bytes: number, runs: number, hwm: number | undefined): Promise<void> {
  const child = await bundleChild();
  const byMode: Record<Mode, Measurement[]> = { readline: [], split: [], floor: [], scan: [], 'scan-1t': [] };
  for (let run = 1; run <= runs; run++) {
    for (const mode of ['readline', 'scan', 'scan-1t', 'floor', 'split'] as const) {
      byMode[mode].push(measure(child, mode, file, hwm));
    }
  }
  const rate = (m: Measurement) => bytes / 1048576 / (m.ms / 1000);
  const mid = (mode: Mode) => median(byMode[mode].map(rate));
  const chunks = hwm === undefined ? '64 KiB reads' : `${(hwm / 1024).toFixed(0)} KiB reads`;
  line(`in process, ${chunks}: readline`, `${mid('readline').toFixed(0)} MiB/s median`);
  line('  raw newline split (context)', `${mid('split').toFixed(0)} MiB/s`);
  line('  parse floor: sha256 + JSON.parse', `${mid('floor').toFixed(0)} MiB/s (no checks at all)`);
  // `auto` adds a worker per core beyond two, so on a 2-core machine this row runs no worker.
  const cores = availableParallelism();
  line(
    `  scan, auto threads (${workerCount('auto', cores)} workers on ${cores} cores)`,
    `${mid('scan').toFixed(0)} MiB/s, ratio ${(mid('scan') / mid('readline')).toFixed(2)}`,
  );
  line(
    '  scan, one thread',
    `${mid('scan-1t').toFixed(0)} MiB/s, ratio ${(mid('scan-1t') / mid('readline')).toFixed(2)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Detection

async function detection(seed: number, cases: number): Promise<{ recall: boolean; falsePositives: boolean }> {
  const planted = plantedCases(seed, cases);
  const { figures } = await measureDetection(planted);
  process.stdout.write(
    `\ndetection: ${cases} values and ${cases} near misses per detector in generated contexts (fast-check, seed ${seed}), whole scan path\n`,
  );
  process.stdout.write(`  ${'detector'.padEnd(24)} ${'recall'.padStart(7)} ${'false pos.'.padStart(11)}\n`);
  let recall = true;
  let falsePositives = true;
  for (const f of figures) {
    recall &&= f.recall >= TARGET_RECALL;
    falsePositives &&= f.falsePositiveRate <= TARGET_FALSE_POSITIVES;
    process.stdout.write(
      `  ${f.type.padEnd(24)} ${f.recall.toFixed(3).padStart(7)} ${`${(f.falsePositiveRate * 100).toFixed(1)} %`.padStart(11)}\n`,
    );
  }
  const worst = (key: 'recall' | 'falsePositiveRate', pick: (a: number, b: number) => boolean) =>
    figures.reduce((w, f) => (pick(f[key], w[key]) ? f : w));
  const lowRecall = worst('recall', (a, b) => a < b);
  const highFp = worst('falsePositiveRate', (a, b) => a > b);
  line(
    `target recall ≥ ${TARGET_RECALL} (every detector)`,
    `${verdict(recall)} (lowest ${lowRecall.recall.toFixed(3)}, ${lowRecall.type})`,
  );
  line(
    `target false positives ≤ ${TARGET_FALSE_POSITIVES * 100} % (every detector)`,
    `${verdict(falsePositives)} (highest ${(highFp.falsePositiveRate * 100).toFixed(1)} %, ${highFp.type})`,
  );
  return { recall, falsePositives };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '200' },
      runs: { type: 'string', default: '3' },
      seed: { type: 'string', default: '42' },
      hwm: { type: 'string' },
      cases: { type: 'string', default: '300' },
      'no-in-process': { type: 'boolean', default: false },
    },
  });
  const mib = Number(values.mib);
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  const cases = Number(values.cases);
  const hwm = values.hwm === undefined ? undefined : Number(values.hwm);
  if (hwm !== undefined && !(Number.isInteger(hwm) && hwm > 0)) {
    throw new Error('--hwm takes the read stream highWaterMark in bytes, e.g. --hwm 1048576');
  }
  for (const [name, n] of Object.entries({ mib, runs, cases })) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive integer`);
  }
  if (!Number.isInteger(seed)) throw new Error('--seed takes an integer');

  buildCli();
  const file = await dataset(mib, seed);
  const bytes = statSync(file).size;
  process.stdout.write(
    `file: ${file} (${(bytes / 1048576).toFixed(1)} MiB)\n\nwhole processes, ${runs} runs each, interleaved:\n`,
  );
  const whole = wholeProcesses(file, bytes, runs);
  const help = startup();
  if (!values['no-in-process']) await inProcess(file, bytes, runs, hwm);
  const quality = await detection(seed, cases);

  process.stdout.write('\n');
  line(
    `target ratio ≥ ${TARGET_RATIO} (whole processes)`,
    `${verdict(whole.ratio >= TARGET_RATIO)} (${whole.ratio.toFixed(2)}: readline median ÷ scan median, ${runs} runs)`,
  );
  line(
    `target peak RSS ≤ ${TARGET_RSS_MIB} MiB`,
    `${verdict(whole.rss <= TARGET_RSS_MIB)} (${whole.rss.toFixed(0)} MiB, tunevault scan)`,
  );
  line(`target --help ≤ ${TARGET_HELP_MS} ms`, `${verdict(help <= TARGET_HELP_MS)} (${help.toFixed(0)} ms)`);
  if (!quality.recall || !quality.falsePositives) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
