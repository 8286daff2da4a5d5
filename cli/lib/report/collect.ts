/**
 * The run report's data: the run as Step Functions recorded it, and what the gateways read of
 * its job, its key, the guard's report and the job's metrics. What does not exist is absent; a
 * read that fails for any other reason (AccessDenied, a throttle that outlived the SDK's
 * retries) becomes a gap the report names, so the rest of the report is still written.
 */
import { BedrockGateway, type JobInfo } from '../../../functions/shared/aws/bedrock';
import { type KeyInfo, KmsGateway } from '../../../functions/shared/aws/kms';
import { S3Gateway } from '../../../functions/shared/aws/s3';
import { statusDetailsText } from '../../../functions/shared/job-status';
import { parseS3Uri } from '../../../functions/shared/naming';
import type { CliClients } from '../clients';
import type { RunSummary } from '../drop';
import { guardReportUriOf } from '../run-view';

export interface LossPoint {
  step: number;
  loss: number;
}

/** Reads `step_number,...,<lossColumn>` CSVs as Bedrock writes them. */
export function parseMetricsCsv(csv: string, lossColumn: string): LossPoint[] {
  const [header, ...rows] = csv.trim().split(/\r?\n/);
  const cols = (header ?? '').split(',').map((c) => c.trim());
  const stepAt = cols.indexOf('step_number');
  const lossAt = cols.indexOf(lossColumn);
  if (stepAt < 0 || lossAt < 0) return [];
  return rows
    .map((r) => r.split(','))
    .map((c) => ({ step: Number(c[stepAt]), loss: Number(c[lossAt]) }))
    .filter((p) => Number.isFinite(p.step) && Number.isFinite(p.loss));
}

export interface GuardFinding {
  type: string;
  severity: string;
  line: number;
  field?: string;
  preview: string;
  example?: boolean;
}

export interface GuardReport {
  verdict?: string;
  policy?: string;
  family?: string;
  records?: number;
  totalFindings?: number;
  suppressed?: number;
  counts?: { byType?: Record<string, number>; bySeverity?: Record<string, number> };
  findings?: GuardFinding[];
  problems?: { line?: number; reason: string; level: string; code?: string }[];
  problemCounts?: { error: number; warning: number };
}

export interface JobView {
  status?: string;
  /** `validation Completed · data processing Completed · training Failed` */
  statusDetails?: string;
  customizationType?: string;
  creationTime?: number;
  endTime?: number;
  durationMs?: number;
  outputS3Uri?: string;
  outputModelKmsKeyArn?: string;
  failureMessage?: string;
}

/** The key as KMS describes it now, and whether it rotates. */
export type KeyView = KeyInfo & { rotationEnabled?: boolean };

/** Something the report could not read, and why. */
export interface ReportGap {
  what: string;
  error: string;
}

export interface ReportData {
  summary: RunSummary;
  guard?: GuardReport;
  guardReportUri?: string;
  job?: JobView;
  key?: KeyView;
  training: LossPoint[];
  validation: LossPoint[];
  gaps: ReportGap[];
  generatedAt: number;
}

export function jobViewOf(job: JobInfo): JobView {
  const creationTime = job.creationTime?.getTime();
  const endTime = job.endTime?.getTime();
  const phases = statusDetailsText(job.statusDetails);
  return {
    status: job.status,
    ...(phases ? { statusDetails: phases } : {}),
    ...(job.customizationType ? { customizationType: job.customizationType } : {}),
    ...(creationTime !== undefined ? { creationTime } : {}),
    ...(endTime !== undefined ? { endTime } : {}),
    ...(creationTime !== undefined && endTime !== undefined ? { durationMs: endTime - creationTime } : {}),
    ...(job.outputS3Uri ? { outputS3Uri: job.outputS3Uri } : {}),
    ...(job.outputModelKmsKeyArn ? { outputModelKmsKeyArn: job.outputModelKmsKeyArn } : {}),
    ...(job.failureMessage ? { failureMessage: job.failureMessage } : {}),
  };
}

/** The job as Bedrock records it; undefined when there is none (any other error bubbles). */
export async function describeJob(c: CliClients, jobArn: string | undefined): Promise<JobView | undefined> {
  if (!jobArn) return undefined;
  const job = await new BedrockGateway(c.bedrock).getJob(jobArn);
  return job ? jobViewOf(job) : undefined;
}

function jobOutputBase(job: JobView | undefined, jobArn: string | undefined): string | undefined {
  const base = job?.outputS3Uri;
  const id = jobArn?.split('/').pop();
  if (!base || !id) return undefined;
  return `${base.endsWith('/') ? base : `${base}/`}model-customization-job-${id}/`;
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export async function collectReportData(c: CliClients, summary: RunSummary): Promise<ReportData> {
  const gaps: ReportGap[] = [];
  /** One read: its value, or undefined with the reason kept as a gap. */
  const read = async <T>(what: string, get: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await get();
    } catch (err) {
      gaps.push({ what, error: errorText(err) });
      return undefined;
    }
  };
  const s3 = new S3Gateway(c.s3);
  const kms = new KmsGateway(c.kms);
  const text = (uri: string) =>
    read(uri, () => {
      const { bucket, key } = parseS3Uri(uri);
      return s3.getText(bucket, key);
    });
  const keyArn = summary.kmsKeyArn;
  const guardReportUri = guardReportUriOf(summary.run);
  const [guardText, job, key] = await Promise.all([
    guardReportUri ? text(guardReportUri) : undefined,
    read(`customization job ${summary.jobArn}`, () => describeJob(c, summary.jobArn)),
    keyArn ? read(`key ${keyArn}`, () => kms.describeKey(keyArn)) : undefined,
  ]);
  const rotationEnabled = key
    ? await read(`rotation of key ${key.keyArn}`, () => kms.isRotationEnabled(key.keyId))
    : undefined;
  const guard = guardText ? parseGuardReport(guardReportUri ?? '', guardText, gaps) : undefined;
  const outputBase = jobOutputBase(job, summary.jobArn);
  const [trainCsv, valCsv] = outputBase
    ? await Promise.all([
        text(`${outputBase}training_artifacts/step_wise_training_metrics.csv`),
        text(`${outputBase}validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`),
      ])
    : [undefined, undefined];
  return {
    summary,
    ...(guard ? { guard } : {}),
    ...(guardReportUri ? { guardReportUri } : {}),
    ...(job ? { job } : {}),
    ...(key ? { key: { ...key, ...(rotationEnabled !== undefined ? { rotationEnabled } : {}) } } : {}),
    training: trainCsv ? parseMetricsCsv(trainCsv, 'training_loss') : [],
    validation: valCsv ? parseMetricsCsv(valCsv, 'validation_loss') : [],
    gaps,
    generatedAt: Date.now(),
  };
}

function parseGuardReport(uri: string, text: string, gaps: ReportGap[]): GuardReport | undefined {
  try {
    return JSON.parse(text) as GuardReport;
  } catch (err) {
    gaps.push({ what: uri, error: `not the guard's JSON report (${errorText(err)})` });
    return undefined;
  }
}
