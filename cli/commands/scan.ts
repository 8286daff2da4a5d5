/** `tunevault scan FILE`: the training-data guard, offline, on a local file. */
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { CUSTOMIZATION_TYPES, type CustomizationTypeName } from '../../functions/shared/catalog';
import { printable as p, printableLines } from '../lib/text';
import { EXIT_USAGE, UsageError } from '../lib/usage';
import {
  type AllowList,
  type FamilyId,
  FAMILIES,
  familyForModel,
  formatProblem,
  isFamilyId,
  knownModelPrefixes,
  limitsFor,
  type Policy,
  type ScanReport,
  SEVERITIES,
  type Severity,
  scanTrainingData,
} from '../../functions/shared/guard';

const HELP = `tunevault scan FILE [--json] [--policy block|redact|report] [--family F | --model ID [--type T]]
                    [--out SANITIZED.jsonl] [--allow VALUE]... [--block-at SEVERITY] [--threads N]
  Checks a JSONL training file the way the ScanTrainingData step does: format per model family,
  dataset limits, secrets and PII (shown masked). Nothing leaves this machine.

  --policy      block (default): sensitive data fails the check; redact: write a sanitized copy;
                report: list findings, judge the format only
  --family      ${FAMILIES.join(' | ')} (default: from --model, else bedrock-conversation-2024)
  --model       a Bedrock base model id, e.g. amazon.nova-micro-v1:0 (picks family and limits)
  --type        with --model, the customization type: ${CUSTOMIZATION_TYPES.join(' | ')}
                (default: the model's fine-tuning format)
  --out         where --policy redact writes the sanitized copy (implies --policy redact)
  --allow       a value never to report; /regex/ for a pattern. Repeatable
  --block-at    lowest severity that blocks or is redacted: ${SEVERITIES.join(' | ')} (default high)
  --threads     worker threads for the record checks: a number, or auto (one per core beyond the two
                that read and hash, at most 3; the default for files over 16 MiB)
  --json        the full report as JSON (findings masked)

Exit status: 0 pass, 1 sensitive data (verdict block or redact), 2 invalid data, 64 usage error.`;

const EXIT = { pass: 0, redact: 1, block: 1, invalid: 2, usage: EXIT_USAGE } as const;
const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;
/** Above this size the record checks also use spare cores. */
const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;
/**
 * The guard's worker thread as `npm run build` compiles it, beside this command's bundle. Run
 * from the TypeScript sources the guard finds its own worker module instead.
 */
const BUNDLED_WORKER = path.join(path.dirname(__filename), 'guard-worker.js');

export interface ScanCliIo {
  stdout: Pick<NodeJS.WritableStream, 'write'>;
  stderr: Pick<NodeJS.WritableStream, 'write'> & { isTTY?: boolean };
}

const processIo: ScanCliIo = { stdout: process.stdout, stderr: process.stderr };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface ScanCommand {
  file: string;
  size: number;
  json: boolean;
  policy: Policy;
  family: FamilyId;
  model: string | undefined;
  out: string | undefined;
  allowList: AllowList;
  blockAtOrAbove: Severity;
  threads: number | 'auto' | undefined;
}

function parsePolicy(value: string | undefined, out: string | undefined): Policy {
  if (value === undefined) return out ? 'redact' : 'block';
  if (value !== 'block' && value !== 'redact' && value !== 'report') {
    throw new UsageError(`--policy '${value}' is not a policy: use block, redact or report.`);
  }
  if (out && value !== 'redact') {
    throw new UsageError(
      `--out writes the sanitized copy, which only --policy redact produces (got --policy ${value}).`,
    );
  }
  return value;
}

function parseFamily(
  family: string | undefined,
  model: string | undefined,
  type: string | undefined,
): FamilyId {
  if (type !== undefined && !(CUSTOMIZATION_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`--type '${type}' is unknown: use one of ${CUSTOMIZATION_TYPES.join(', ')}.`);
  }
  if (type !== undefined && model === undefined) throw new UsageError('--type goes with --model.');
  if (family !== undefined) {
    if (!isFamilyId(family))
      throw new UsageError(`--family '${family}' is unknown: use one of ${FAMILIES.join(', ')}.`);
    return family;
  }
  if (model !== undefined) {
    const fromModel = familyForModel(model, type as CustomizationTypeName | undefined);
    if (!fromModel) {
      throw new UsageError(
        type
          ? `--model '${model}' does not take ${type} in TuneVault's model catalog; pass another --type or --family.`
          : `--model '${model}' is not a model TuneVault knows how to customize (known: ${knownModelPrefixes().join(', ')}); pass --family instead.`,
      );
    }
    return fromModel;
  }
  return 'bedrock-conversation-2024';
}

function parseAllow(values: string[]): AllowList {
  const exact: string[] = [];
  const patterns: RegExp[] = [];
  for (const value of values) {
    const regex = /^\/(.+)\/([a-z]*)$/.exec(value);
    if (!regex) {
      exact.push(value);
      continue;
    }
    try {
      patterns.push(new RegExp(regex[1] ?? '', regex[2]));
    } catch (error) {
      throw new UsageError(`--allow ${value} is not a valid regular expression: ${messageOf(error)}.`);
    }
  }
  return { values: exact, patterns };
}

function parseThreads(value: string | undefined): number | 'auto' | undefined {
  if (value === undefined || value === 'auto') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 16) {
    throw new UsageError(
      `--threads '${value}' is not a thread count: use auto or a whole number from 0 to 16.`,
    );
  }
  return n;
}

function parseCommand(args: string[]): ScanCommand | 'help' {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    // parseArgs names the offending option in its message ("Unknown option '--polcy'").
    throw new UsageError(
      `${messageOf(error).replace(/\.$/, '')}. Run 'tunevault scan --help' for the options.`,
    );
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [file, ...extra] = positionals;
  if (!file)
    throw new UsageError(
      'missing FILE: pass the path of a JSONL training file, e.g. tunevault scan data.jsonl.',
    );
  if (extra.length > 0)
    throw new UsageError(`one FILE at a time (also got ${extra.map((e) => `'${e}'`).join(', ')}).`);
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile())
      throw new UsageError(`'${file}' is not a file: pass the path of a JSONL training file.`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code =
      typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'error';
    throw new UsageError(`cannot read '${file}' (${code}): check the path.`);
  }
  const blockAt = values['block-at'] ?? 'high';
  const blockAtOrAbove = SEVERITIES.find((s) => s === blockAt);
  if (!blockAtOrAbove) {
    throw new UsageError(`--block-at '${blockAt}' is not a severity: use ${SEVERITIES.join(', ')}.`);
  }
  const out = values.out;
  return {
    file,
    size,
    json: values.json ?? false,
    policy: parsePolicy(values.policy, out),
    family: parseFamily(values.family, values.model, values.type),
    model: values.model,
    out,
    allowList: parseAllow(values.allow ?? []),
    blockAtOrAbove,
    threads: parseThreads(values.threads),
  };
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      policy: { type: 'string' },
      family: { type: 'string' },
      model: { type: 'string' },
      type: { type: 'string' },
      out: { type: 'string' },
      allow: { type: 'string', multiple: true },
      'block-at': { type: 'string' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1048576) return `${(bytes / 1024).toFixed(1)} KiB`;
  return mib(bytes);
}

/** A one-line bar on stderr, redrawn at most ten times a second. */
function progressBar(
  stderr: ScanCliIo['stderr'],
  total: number,
): { update(bytes: number): void; done(): void } {
  const started = Date.now();
  let last = 0;
  return {
    update(bytes) {
      const now = Date.now();
      if (now - last < 100 && bytes < total) return;
      last = now;
      const fraction = total > 0 ? Math.min(1, bytes / total) : 1;
      const filled = Math.round(fraction * 30);
      const rate = bytes / 1048576 / Math.max(0.001, (now - started) / 1000);
      stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${mib(bytes)} / ${mib(total)}  ${rate.toFixed(0)} MiB/s`,
      );
    },
    done() {
      stderr.write('\r\x1b[2K');
    },
  };
}

function counts(entries: [string, number | undefined][]): string {
  const shown = entries.filter(([, n]) => (n ?? 0) > 0).map(([k, n]) => `${k} ${n}`);
  return shown.length > 0 ? shown.join(', ') : 'none';
}

function humanReport(report: ScanReport, command: ScanCommand): string {
  const limits = report.limits;
  const lines = [
    `${p(command.file)}`,
    `  verdict    ${report.verdict.toUpperCase()} (policy ${report.policy}, blocking at ${command.blockAtOrAbove} and above)`,
    `  family     ${report.family}${command.model ? ` for ${command.model}` : ''}: ${limits.minRecords.toLocaleString('en-US')}–${limits.maxRecords.toLocaleString('en-US')} records, ${limits.maxTokensPerRecord.toLocaleString('en-US')} tokens per record`,
    `  data       ${report.records.toLocaleString('en-US')} records (${report.validRecords.toLocaleString('en-US')} valid), ${size(report.bytes)}, ~${report.estimatedTokens.total.toLocaleString('en-US')} tokens, sha256 ${report.sha256}`,
    `  findings   ${report.totalFindings.toLocaleString('en-US')} by severity: ${counts(Object.entries(report.counts.bySeverity).reverse())}`,
  ];
  if (report.totalFindings > 0)
    lines.push(`             by type: ${counts(Object.entries(report.counts.byType))}`);
  if (report.suppressed > 0) lines.push(`             ${report.suppressed} allow-listed`);
  for (const f of report.findings.slice(0, 20)) {
    const where = `line ${f.line}${f.column ? `:${f.column}` : ''}${f.field ? ` ${f.field}` : ''}`;
    lines.push(
      `    ${p(f.severity).padEnd(8)} ${p(f.type).padEnd(21)} ${p(f.preview)}${f.example ? ' (example)' : ''}  ${p(where)}`,
    );
  }
  if (report.totalFindings > 20)
    lines.push(
      `    … and ${(report.totalFindings - 20).toLocaleString('en-US')} more (--json lists up to 100)`,
    );
  lines.push(`  problems   ${report.problemCounts.error} errors, ${report.problemCounts.warning} warnings`);
  for (const problem of report.problems.slice(0, 20))
    lines.push(`    ${problem.level === 'error' ? 'error  ' : 'warning'}  ${p(formatProblem(problem))}`);
  const moreProblems =
    report.problemCounts.error + report.problemCounts.warning - Math.min(20, report.problems.length);
  if (moreProblems > 0) lines.push(`    … and ${moreProblems.toLocaleString('en-US')} more`);
  if (command.out)
    lines.push(
      `  sanitized  ${p(command.out)}${report.verdict === 'invalid' ? ' (the data is invalid: fix it before training)' : ''}`,
    );
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[], io: ScanCliIo = processIo): Promise<number> {
  let command: ScanCommand | 'help';
  try {
    command = parseCommand(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`tunevault scan: ${printableLines(error.message)}\n`);
    return EXIT.usage;
  }
  if (command === 'help') {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }

  const bar =
    io.stderr.isTTY && command.size > PROGRESS_MIN_BYTES ? progressBar(io.stderr, command.size) : undefined;
  const sanitized = command.out ? createWriteStream(command.out) : undefined;
  let report: ScanReport;
  try {
    // 1 MiB reads: a local file has no network to wait on, and fewer chunks cost the scanner less.
    report = await scanTrainingData(createReadStream(command.file, { highWaterMark: 1024 * 1024 }), {
      family: command.family,
      limits: limitsFor(command.family, command.model),
      policy: command.policy,
      blockAtOrAbove: command.blockAtOrAbove,
      allowList: command.allowList,
      ...(bar ? { onProgress: (n: number) => bar.update(n) } : {}),
      ...(sanitized ? { redactTo: sanitized } : {}),
      parallelism: command.threads ?? (command.size > PARALLEL_MIN_BYTES ? 'auto' : 0),
      ...(existsSync(BUNDLED_WORKER) ? { workerFile: BUNDLED_WORKER } : {}),
    });
  } finally {
    bar?.done();
    if (sanitized) {
      sanitized.end();
      await once(sanitized, 'close');
    }
  }
  io.stdout.write(command.json ? `${JSON.stringify(report, null, 2)}\n` : humanReport(report, command));
  return EXIT[report.verdict];
}
