/**
 * Scanner benchmark: `npx tsx bench/scan/run.ts [--mib 200] [--runs 3] [--seed 42] [--hwm 65536]`.
 *
 * Generates (once, cached in the OS temp dir) a bedrock-conversation-2024 file with sprinkled
 * fake findings, then measures in fresh child processes, interleaved so background load hits
 * both sides alike:
 *   - readline: read stream + split into lines (the baseline the target is stated against)
 *   - split:    raw newline search on buffers, no decoding (context only)
 *   - scan:     scanTrainingData, policy block, parallelism 'auto' (record checks on spare cores)
 *   - scan-1t:  the same on one thread (hashing may still use a helper thread)
 *   - floor:    sha256 + decode + JSON.parse of every line and nothing else (context: the part of
 *               the scan's cost that no implementation of the checks can remove)
 * and prints MiB/s (best and median of the runs), the scan / readline ratio and the scanner's
 * peak RSS against the targets (ratio ≥ 0.6, RSS ≤ 160 MiB).
 *
 * Every mode reads through fs.createReadStream with the same highWaterMark: Node's default
 * (64 KiB) unless --hwm says otherwise. At 64 KiB a read costs the reading thread a round trip
 * through the event loop per chunk, idle time that both sides pay; larger chunks (an S3 body is
 * delivered as the socket reads it, `tunevault scan` could read a file in 1 MiB chunks) make it
 * mostly go away, and show what the checks themselves cost.
 *
 * The children run a bundle built with esbuild, not tsx: tsx's loader would add ~50 MiB to every
 * process's RSS and its on-the-fly transform would land inside the timings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { generateConversationDataset } from './generate';

const TARGET_RATIO = 0.6;
const TARGET_RSS_MIB = 160;
const GENERATOR_VERSION = 1;

type Mode = 'readline' | 'split' | 'floor' | 'scan' | 'scan-1t';

interface Measurement {
  mode: Mode;
  ms: number;
  lines: number;
  peakRssMiB: number;
  verdict?: string;
  records?: number;
  totalFindings?: number;
  byType?: Record<string, number>;
  problems?: { error: number; warning: number };
}

function parseMeasurement(stdout: string): Measurement {
  const parsed: unknown = JSON.parse(stdout.trim().split('\n').pop() ?? '');
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { ms?: unknown }).ms !== 'number' ||
    typeof (parsed as { peakRssMiB?: unknown }).peakRssMiB !== 'number'
  ) {
    throw new Error(`unexpected child output: ${stdout.slice(0, 200)}`);
  }
  return parsed as Measurement;
}

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
  return parseMeasurement(result.stdout);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '200' },
      runs: { type: 'string', default: '3' },
      seed: { type: 'string', default: '42' },
      hwm: { type: 'string' },
    },
  });
  const mib = Number(values.mib);
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  const hwm = values.hwm === undefined ? undefined : Number(values.hwm);
  if (hwm !== undefined && !(Number.isInteger(hwm) && hwm > 0)) {
    throw new Error('--hwm takes the read stream highWaterMark in bytes, e.g. --hwm 1048576');
  }
  if (!Number.isInteger(mib) || mib < 1 || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
    throw new Error('--mib, --runs and --seed take positive integers, e.g. --mib 200 --runs 3');
  }

  const file = await dataset(mib, seed);
  const bytes = statSync(file).size;
  const child = await bundleChild();
  const byMode: Record<Mode, Measurement[]> = { readline: [], split: [], floor: [], scan: [], 'scan-1t': [] };
  for (let run = 1; run <= runs; run++) {
    for (const mode of ['readline', 'scan', 'scan-1t', 'floor', 'split'] as const) {
      const m = measure(child, mode, file, hwm);
      byMode[mode].push(m);
      process.stdout.write(
        `  run ${run} ${mode.padEnd(8)} ${(bytes / 1048576 / (m.ms / 1000)).toFixed(0).padStart(5)} MiB/s  peak RSS ${m.peakRssMiB.toFixed(0)} MiB\n`,
      );
    }
  }

  const rate = (m: Measurement) => bytes / 1048576 / (m.ms / 1000);
  const best = (mode: Mode) => Math.max(...byMode[mode].map(rate));
  const mid = (mode: Mode) => median(byMode[mode].map(rate));
  const ratioBest = best('scan') / best('readline');
  const ratioMedian = mid('scan') / mid('readline');
  const peakRss = Math.max(
    ...byMode.scan.map((m) => m.peakRssMiB),
    ...byMode['scan-1t'].map((m) => m.peakRssMiB),
  );
  const lastScan = byMode.scan[byMode.scan.length - 1];

  const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(34)} ${value}\n`);
  process.stdout.write(
    `\nfile: ${file} (${(bytes / 1048576).toFixed(1)} MiB, ${lastScan?.lines.toLocaleString('en-US')} lines), read in ${hwm === undefined ? '64 KiB (default)' : `${(hwm / 1024).toFixed(0)} KiB`} chunks\n`,
  );
  line(
    'plain line read (readline)',
    `${best('readline').toFixed(0)} MiB/s best, ${mid('readline').toFixed(0)} median`,
  );
  line(
    'raw newline split (context)',
    `${best('split').toFixed(0)} MiB/s best, ${mid('split').toFixed(0)} median`,
  );
  line(
    'parse floor: sha256 + JSON.parse',
    `${best('floor').toFixed(0)} MiB/s best, ${mid('floor').toFixed(0)} median, ratio ${(mid('floor') / mid('readline')).toFixed(2)} (no checks at all)`,
  );
  line(
    'scanner (parallelism auto)',
    `${best('scan').toFixed(0)} MiB/s best, ${mid('scan').toFixed(0)} median`,
  );
  line(
    'scanner (one thread)',
    `${best('scan-1t').toFixed(0)} MiB/s best, ${mid('scan-1t').toFixed(0)} median`,
  );
  line(
    'ratio scanner / readline',
    `${ratioBest.toFixed(2)} best-vs-best, ${ratioMedian.toFixed(2)} median-vs-median`,
  );
  line(
    'ratio one-thread scan / readline',
    `${(best('scan-1t') / best('readline')).toFixed(2)} best-vs-best, ${(mid('scan-1t') / mid('readline')).toFixed(2)} median`,
  );
  line('scanner peak RSS', `${peakRss.toFixed(0)} MiB (max over runs, both modes)`);
  if (lastScan) {
    line(
      'scan result',
      `verdict ${lastScan.verdict}, ${lastScan.totalFindings} findings ${JSON.stringify(lastScan.byType)}`,
    );
    line(
      '',
      `problems ${JSON.stringify(lastScan.problems)} (the synthetic file is larger than the Nova record limit)`,
    );
  }
  process.stdout.write('\n');
  line(
    `target ratio ≥ ${TARGET_RATIO}`,
    `${ratioMedian >= TARGET_RATIO ? 'MET' : 'MISSED'} (median ${ratioMedian.toFixed(2)})`,
  );
  line(
    `target peak RSS ≤ ${TARGET_RSS_MIB} MiB`,
    `${peakRss <= TARGET_RSS_MIB ? 'MET' : 'MISSED'} (${peakRss.toFixed(0)} MiB)`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
