/**
 * The data guard in the workflow: stream the object once, judge it, and leave evidence.
 * The full report (masked findings, line numbers) goes to S3 under the CMK; the state machine
 * gets a small summary. Blocked data is tagged quarantined and never reaches Bedrock.
 */
import { PassThrough, type Readable } from 'node:stream';
import { InvalidInputError, InvalidTrainingDataError, SensitiveDataError } from '../shared/errors';
import { familyForModel } from '../shared/guard/limits';
import type { FamilyId } from '../shared/guard/limits';
import type { Policy, ScanOptions, ScanReport, Severity } from '../shared/guard/types';
import { s3Uri, tagSafe } from '../shared/naming';
import type { DatasetOptions, ScanSummary, SourceObject } from '../shared/types';

export interface ScanPorts {
  openStream(bucket: string, key: string, versionId?: string): Promise<Readable | undefined>;
  uploadEncrypted(bucket: string, key: string, body: Readable | string, kmsKeyArn: string): Promise<void>;
  mergeObjectTags(
    bucket: string,
    key: string,
    tags: Record<string, string>,
    versionId?: string,
  ): Promise<void>;
  scan(source: Readable, options: ScanOptions): Promise<ScanReport>;
}

export interface ScanSettings {
  baseModelId: string;
  policy: Policy;
  blockAtOrAbove: Severity;
  outputBucket: string;
  outputPrefix: string;
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
  const baseModelId = dataset.baseModelId ?? s.baseModelId;
  const family: FamilyId = familyForModel(baseModelId) ?? 'prompt-completion';
  const policy = dataset.dataPolicy?.policy ?? s.policy;
  const artifacts = runArtifactsPrefix(s.outputPrefix, input.executionArn);
  const redactedKey = `${artifacts}redacted.jsonl`;
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
      policy,
      blockAtOrAbove: dataset.dataPolicy?.blockAtOrAbove ?? s.blockAtOrAbove,
      ...(dataset.dataPolicy?.allow ? { allowList: { values: dataset.dataPolicy.allow } } : {}),
      ...(redacted ? { redactTo: redacted } : {}),
    });
  } finally {
    redacted?.end();
  }
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
    throw new InvalidTrainingDataError(
      `s3://${source.bucket}/${source.key} is not valid ${family} training data for ${baseModelId}: ${describeProblems(report)}. Full report: ${s3Uri(s.outputBucket, reportKey)}`,
    );
  }
  if (report.verdict === 'block') {
    await ports.mergeObjectTags(
      source.bucket,
      source.key,
      {
        'tunevault:status': 'quarantined',
        'tunevault:reason': tagSafe(`sensitive data: ${describeFindings(report)}`),
      },
      source.versionId,
    );
    throw new SensitiveDataError(
      `s3://${source.bucket}/${source.key} holds ${describeFindings(report)} at or above '${dataset.dataPolicy?.blockAtOrAbove ?? s.blockAtOrAbove}'; the object is quarantined and no job was submitted. Redact it (policy 'redact') or allow-list known-safe values. Report: ${s3Uri(s.outputBucket, reportKey)}`,
    );
  }

  return {
    verdict: report.verdict,
    records: report.records,
    bytes: report.bytes,
    sha256: report.sha256,
    totalFindings: report.totalFindings,
    bySeverity: report.counts.bySeverity,
    byType: Object.fromEntries(Object.entries(report.counts.byType).map(([k, v]) => [k, v ?? 0])),
    trainingS3Uri:
      report.verdict === 'redact' ? s3Uri(s.outputBucket, redactedKey) : s3Uri(source.bucket, source.key),
    reportS3Uri: s3Uri(s.outputBucket, reportKey),
  };
}
