/**
 * The data guard in the workflow: stream the object version, judge it, and leave evidence.
 * The full report (masked findings, line numbers) goes to S3 under the CMK; the state machine
 * gets a small summary. Blocked data is tagged quarantined and never reaches Bedrock; data that
 * passes reaches it as a copy of exactly the version judged.
 */
import { PassThrough, Readable } from 'node:stream';
import { formatLabel, modelsTakingFormat } from '../shared/catalog';
import { type JobDefaults, type JobSpec, JobSpecError, resolveJobSpec } from '../shared/catalog/job-spec';
import { InvalidInputError, InvalidTrainingDataError, SensitiveDataError } from '../shared/errors';
import { type FamilyId, limitsFor } from '../shared/guard/limits';
import { formatsOf } from '../shared/guard/schemas';
import type { Policy, ScanOptions, ScanReport, Severity } from '../shared/guard/types';
import { s3Uri, tagText } from '../shared/naming';
import type { DatasetOptions, ScanSummary, SourceObject } from '../shared/types';
import type { S3Gateway } from '../shared/aws/s3';

export interface ScanPorts extends Pick<S3Gateway, 'mergeObjectTags' | 'copyVersionEncrypted'> {
  openStream(bucket: string, key: string, versionId?: string): Promise<Readable | undefined>;
  uploadEncrypted(bucket: string, key: string, body: Readable | string, kmsKeyArn: string): Promise<void>;
  scan(source: Readable, options: ScanOptions): Promise<ScanReport>;
}

export interface ScanSettings {
  /** The stage's job settings: the dataset's job (catalog/job-spec.ts) decides the record format and limits. */
  job: JobDefaults;
  policy: Policy;
  blockAtOrAbove: Severity;
  outputBucket: string;
  outputPrefix: string;
  /** Worker threads for the training data's record checks (see scanWorkers); 0 by default. */
  parallelism?: number;
  /** The file those workers load: the handler's own bundle. */
  workerFile?: string;
  /** vCPUs the function has (see scanVcpus): the runtime reports more cores than it gives. */
  cpus?: number;
}

/** Lambda gives one vCPU's worth of CPU at this memory size, in proportion below and above. */
export const MB_PER_VCPU = 1769;

/**
 * Worker threads the guard may use in a function of `memoryMb`: one per whole vCPU beyond the
 * first, at most 3. "At 1,769 MB, a function has the equivalent of one vCPU" (AWS Lambda
 * developer guide, "Configure Lambda function memory"); the cores the runtime reports (2 or more
 * at any size) are not what it may use, so a worker below 3,538 MB would only take CPU time
 * from the thread reading the object.
 */
export function scanWorkers(memoryMb: number): number {
  return Math.max(0, Math.min(3, scanVcpus(memoryMb) - 1));
}

/** Whole vCPUs of a function of `memoryMb` (at least one). */
export function scanVcpus(memoryMb: number): number {
  return Math.max(1, Math.floor(memoryMb / MB_PER_VCPU));
}

export interface ScanInput {
  source: SourceObject;
  dataset: DatasetOptions;
  key: { keyArn: string };
  executionArn: string;
}

/** Where a run's artifacts live: `<output prefix>runs/<execution name>/`. */
export function runArtifactsPrefix(outputPrefix: string, executionArn: string): string {
  const prefix = outputPrefix && !outputPrefix.endsWith('/') ? `${outputPrefix}/` : outputPrefix;
  return `${prefix}runs/${executionArn.slice(executionArn.lastIndexOf(':') + 1)}/`;
}

function describeFindings(report: ScanReport): string {
  const byType = Object.entries(report.counts.byType)
    .map(([type, n]) => `${type}×${n}`)
    .join(', ');
  return `${report.totalFindings} finding(s) (${byType})`;
}

function describeProblems(report: ScanReport): string {
  const errors = report.problems.filter((p) => p.level === 'error');
  const shown = errors.slice(0, 5).map((p) => (p.line ? `line ${p.line}: ${p.reason}` : p.reason));
  const more = report.problemCounts.error - shown.length;
  return `${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

export async function scanTrainingDataStep(
  input: ScanInput,
  s: ScanSettings,
  ports: ScanPorts,
): Promise<ScanSummary> {
  const { source, dataset } = input;
  const spec = jobSpecOf(dataset, s.job);
  const baseModelId = spec.baseModelId;
  const family: FamilyId = spec.format;
  const subject = `${formatLabel(family)} training data for ${spec.modelName} (${spec.customizationType})`;
  const policy = dataset.dataPolicy?.policy ?? s.policy;
  const artifacts = runArtifactsPrefix(s.outputPrefix, input.executionArn);
  const redactedKey = `${artifacts}redacted.jsonl`;
  const trainingCopyKey = `${artifacts}training.jsonl`;
  const reportKey = `${artifacts}guard-report.json`;

  const body = await ports.openStream(source.bucket, source.key, source.versionId);
  if (!body) {
    throw new InvalidInputError(
      `s3://${source.bucket}/${source.key} was deleted before the data guard could read it.`,
    );
  }

  // The sanitized copy streams to S3 while the scan runs: one read of the data, flat memory.
  const redacted = policy === 'redact' ? new PassThrough() : undefined;
  const upload = redacted
    ? ports.uploadEncrypted(s.outputBucket, redactedKey, redacted, input.key.keyArn)
    : undefined;
  let report: ScanReport;
  try {
    report = await ports.scan(body, {
      family,
      limits: limitsFor(family, baseModelId),
      policy,
      blockAtOrAbove: dataset.dataPolicy?.blockAtOrAbove ?? s.blockAtOrAbove,
      ...(dataset.dataPolicy?.allow ? { allowList: { values: dataset.dataPolicy.allow } } : {}),
      ...(redacted ? { redactTo: redacted } : {}),
      ...(s.parallelism && s.workerFile ? { parallelism: s.parallelism, workerFile: s.workerFile } : {}),
      ...(s.cpus ? { cpus: s.cpus } : {}),
    });
  } catch (err) {
    redacted?.end();
    // The scan's error is the one to report; the half-written copy's upload must not crash the process.
    await upload?.catch(() => undefined);
    throw err;
  }
  redacted?.end();
  await upload;

  await ports.uploadEncrypted(
    s.outputBucket,
    reportKey,
    JSON.stringify(
      {
        source: s3Uri(source.bucket, source.key),
        versionId: source.versionId ?? null,
        baseModelId,
        ...report,
      },
      null,
      2,
    ),
    input.key.keyArn,
  );

  if (report.verdict === 'invalid') {
    const hint = await formatHint(ports, source, spec);
    throw new InvalidTrainingDataError(
      `s3://${source.bucket}/${source.key} is not valid ${subject}: ${describeProblems(report)}.${hint ? ` ${hint}` : ''} Full report: ${s3Uri(s.outputBucket, reportKey)}`,
      { reportS3Uri: s3Uri(s.outputBucket, reportKey) },
    );
  }
  if (report.verdict === 'block') {
    await ports.mergeObjectTags(
      source.bucket,
      source.key,
      {
        'tunevault:status': 'quarantined',
        'tunevault:reason': tagText(`sensitive data: ${describeFindings(report)}`),
      },
      source.versionId,
    );
    throw new SensitiveDataError(
      `s3://${source.bucket}/${source.key} holds ${describeFindings(report)} at or above '${dataset.dataPolicy?.blockAtOrAbove ?? s.blockAtOrAbove}'; the object is quarantined and no job was submitted. Redact it (policy 'redact') or allow-list known-safe values. Report: ${s3Uri(s.outputBucket, reportKey)}`,
      { findings: report.totalFindings, reportS3Uri: s3Uri(s.outputBucket, reportKey) },
    );
  }

  const validation = dataset.validationKey
    ? await scanValidationData(
        input,
        s,
        ports,
        { family, policy, baseModelId, artifacts, subject },
        dataset.validationKey,
      )
    : undefined;

  // Bedrock reads an S3 URI, not an object version: pointed at the key, a job would train on
  // whatever version is current when it starts reading, which the guard may never have seen.
  // It trains on a copy of exactly the version judged here (or on the sanitized copy).
  // The copy is made server-side, and only once the data has been judged, so blocked data is
  // never duplicated and the bytes are not read a second time.
  let trainingS3Uri = s3Uri(s.outputBucket, redactedKey);
  if (policy !== 'redact') {
    const copied = await ports.copyVersionEncrypted(
      source,
      s.outputBucket,
      trainingCopyKey,
      input.key.keyArn,
    );
    if (copied !== 'copied') {
      throw new InvalidInputError(
        `s3://${source.bucket}/${source.key} was ${copied === 'gone' ? 'deleted' : 'overwritten'} while the data guard read it; nothing was trained. Upload it again to start a new run.`,
      );
    }
    trainingS3Uri = s3Uri(s.outputBucket, trainingCopyKey);
  }

  return {
    verdict: report.verdict,
    records: report.records,
    bytes: report.bytes,
    sha256: report.sha256,
    totalFindings: report.totalFindings,
    bySeverity: report.counts.bySeverity,
    byType: Object.fromEntries(Object.entries(report.counts.byType).map(([k, v]) => [k, v ?? 0])),
    trainingS3Uri,
    reportS3Uri: s3Uri(s.outputBucket, reportKey),
    ...(validation ? { validation } : {}),
  };
}

/** Bedrock takes small validation sets (a few thousand records at most): held in memory. */
export const MAX_VALIDATION_BYTES = 64 * 1024 * 1024;

async function readAll(body: Readable, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * The sidecar's validation data reaches Bedrock too, so it is judged like the training data,
 * and the job reads a copy of exactly the bytes judged (sanitized under `redact`).
 */
async function scanValidationData(
  input: ScanInput,
  s: ScanSettings,
  ports: ScanPorts,
  run: { family: FamilyId; policy: Policy; baseModelId: string; artifacts: string; subject: string },
  validationKey: string,
): Promise<NonNullable<ScanSummary['validation']>> {
  const { source, dataset } = input;
  const where = `validation data s3://${source.bucket}/${validationKey} (the sidecar's validationKey)`;
  const body = await ports.openStream(source.bucket, validationKey);
  if (!body) throw new InvalidInputError(`${where} does not exist; upload it before the training data.`);
  const bytes = await readAll(body, MAX_VALIDATION_BYTES);
  if (!bytes) {
    throw new InvalidTrainingDataError(
      `${where} is larger than ${MAX_VALIDATION_BYTES / 1024 / 1024} MiB; Bedrock validation sets are far smaller.`,
      {},
    );
  }
  const redacted: Buffer[] = [];
  const redactTo = run.policy === 'redact' ? new PassThrough() : undefined;
  redactTo?.on('data', (chunk: Buffer) => redacted.push(chunk));
  const blockAtOrAbove = dataset.dataPolicy?.blockAtOrAbove ?? s.blockAtOrAbove;
  const report = await ports.scan(Readable.from([bytes]), {
    family: run.family,
    policy: run.policy,
    blockAtOrAbove,
    // A validation set may be small: the training minimum does not apply.
    limits: { ...limitsFor(run.family, run.baseModelId), minRecords: 1 },
    ...(dataset.dataPolicy?.allow ? { allowList: { values: dataset.dataPolicy.allow } } : {}),
    ...(redactTo ? { redactTo } : {}),
  });
  redactTo?.end();
  const reportKey = `${run.artifacts}validation-guard-report.json`;
  await ports.uploadEncrypted(
    s.outputBucket,
    reportKey,
    JSON.stringify(
      { source: s3Uri(source.bucket, validationKey), baseModelId: run.baseModelId, ...report },
      null,
      2,
    ),
    input.key.keyArn,
  );
  if (report.verdict === 'invalid') {
    throw new InvalidTrainingDataError(
      `${where} is not valid ${run.subject}: ${describeProblems(report)}. Full report: ${s3Uri(s.outputBucket, reportKey)}`,
      { reportS3Uri: s3Uri(s.outputBucket, reportKey) },
    );
  }
  if (report.verdict === 'block') {
    await ports.mergeObjectTags(source.bucket, validationKey, {
      'tunevault:status': 'quarantined',
      'tunevault:reason': tagText(`sensitive data: ${describeFindings(report)}`),
    });
    throw new SensitiveDataError(
      `${where} holds ${describeFindings(report)} at or above '${blockAtOrAbove}'; it is quarantined and no job was submitted. Report: ${s3Uri(s.outputBucket, reportKey)}`,
      { findings: report.totalFindings, reportS3Uri: s3Uri(s.outputBucket, reportKey) },
    );
  }
  const copyKey = `${run.artifacts}validation.jsonl`;
  await ports.uploadEncrypted(
    s.outputBucket,
    copyKey,
    redactTo ? Buffer.concat(redacted).toString('utf8') : bytes.toString('utf8'),
    input.key.keyArn,
  );
  return {
    verdict: report.verdict,
    records: report.records,
    totalFindings: report.totalFindings,
    s3Uri: s3Uri(s.outputBucket, copyKey),
    reportS3Uri: s3Uri(s.outputBucket, reportKey),
  };
}

/** The dataset's job; startCustomization checked it already, so a problem here means the stage changed mid-run. */
function jobSpecOf(dataset: DatasetOptions, job: JobDefaults): JobSpec {
  try {
    return resolveJobSpec(dataset, job);
  } catch (err) {
    if (err instanceof JobSpecError)
      throw new InvalidInputError(`The dataset's job is not valid: ${err.message}`);
    throw err;
  }
}

/** The first records of the object, for telling which format they are in (at most 5 lines, 1 MiB). */
async function headRecords(ports: ScanPorts, source: SourceObject): Promise<unknown[]> {
  const body = await ports.openStream(source.bucket, source.key, source.versionId);
  if (!body) return [];
  let text = '';
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (text.length > 1024 * 1024 || text.split('\n').length > 6) break;
  }
  body.destroy();
  const out: unknown[] = [];
  for (const line of text.split('\n').slice(0, 5)) {
    try {
      if (line.trim() !== '') out.push(JSON.parse(line));
    } catch {
      // Not JSON: says nothing about the format.
    }
  }
  return out;
}

/**
 * When the records are valid in another format, says which, which models take it, and the
 * sidecar fields to set: the usual cause is data for one model family sent to another.
 */
export async function formatHint(
  ports: ScanPorts,
  source: SourceObject,
  spec: JobSpec,
): Promise<string | undefined> {
  const records = await headRecords(ports, source);
  if (records.length === 0) return undefined;
  const votes = new Map<FamilyId, number>();
  for (const r of records) for (const f of formatsOf(r)) votes.set(f, (votes.get(f) ?? 0) + 1);
  const [found] = [...votes.entries()]
    .filter(([f, n]) => f !== spec.format && n * 2 > records.length)
    .sort((a, b) => b[1] - a[1])[0] ?? [undefined];
  if (!found) return undefined;
  const takers = modelsTakingFormat(found);
  if (takers.length === 0) return undefined;
  const names = takers.map((t) => `${t.model.id} (${t.model.name}, ${t.type}, ${t.regions.join('/')})`);
  const sameModel = takers.filter((t) => t.model.id === spec.baseModelId);
  const fix =
    sameModel.length > 0
      ? `set the sidecar field customizationType to ${sameModel.map((t) => t.type).join(' or ')}`
      : 'set the sidecar field baseModelId to one of them (with customizationType when it differs, in a stack in its Region)';
  return `These records are in the ${formatLabel(found)} format, which ${names.join(', ')} take${takers.length === 1 ? 's' : ''}: ${fix}, or convert the records to ${formatLabel(spec.format)}.`;
}
