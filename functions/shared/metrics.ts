/**
 * TuneVault's CloudWatch metrics, as Powertools EMF lines in the function's log.
 *
 * Every dimension value comes from a closed, low-cardinality set (run outcome, finding type,
 * severity, verdict): never an ARN, a bucket or object key, a job name or anything read from the
 * training data. A value outside its set is recorded as `other`, so a bug can cost a label but
 * never leak a value into a metric's identity.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import { type FindingType, SEVERITIES, type Verdict } from './guard/types';
import { logger } from './logger';
import { RUN_OUTCOMES, type RunOutcome } from './types';

export { Metrics };

export const METRICS_NAMESPACE = 'TuneVault';

export const METRIC = {
  runs: 'Runs',
  jobDuration: 'JobDuration',
  guardScans: 'GuardScans',
  guardFindings: 'GuardFindings',
  guardFindingsBySeverity: 'GuardFindingsBySeverity',
} as const;

// Records, not arrays: adding a finding type to the guard without listing it here fails the build.
const FINDING_TYPES: Record<FindingType, true> = {
  AWS_ACCESS_KEY_ID: true,
  AWS_SECRET_ACCESS_KEY: true,
  PRIVATE_KEY: true,
  GITHUB_TOKEN: true,
  SLACK_TOKEN: true,
  SLACK_WEBHOOK: true,
  STRIPE_KEY: true,
  GOOGLE_API_KEY: true,
  JWT: true,
  GENERIC_SECRET: true,
  EMAIL: true,
  PHONE: true,
  CARD_NUMBER: true,
  US_SSN: true,
  IBAN: true,
  IPV4: true,
  IPV6: true,
};
const VERDICTS: Record<Verdict, true> = { pass: true, redact: true, block: true, invalid: true };

/** The allowed values of each dimension TuneVault uses; anything else becomes `other`. */
export const DIMENSION_VALUES = {
  outcome: [...RUN_OUTCOMES],
  findingType: Object.keys(FINDING_TYPES),
  severity: [...SEVERITIES],
  verdict: Object.keys(VERDICTS),
} as const;
export type DimensionName = keyof typeof DIMENSION_VALUES;

export function dimensionValue(name: DimensionName, value: string): string {
  return (DIMENSION_VALUES[name] as readonly string[]).includes(value) ? value : 'other';
}

/** One Metrics instance per function, created at module load: namespace TuneVault, service = the function. */
export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName, logger });
}

/**
 * Publishes what the invocation stored, after it returns or throws. Unlike Powertools' logMetrics,
 * an invocation that stored nothing (its counts went out as single metrics, or it failed before
 * counting) prints no "No application metrics to publish" warning.
 */
export function publishMetrics(metrics: Metrics): MiddlewareObj {
  const publish = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}

export interface JobTimes {
  creationTime?: Date | undefined;
  endTime?: Date | undefined;
}

/** Seconds from the job's creation to its end, as Bedrock recorded them; undefined while it runs. */
export function jobDurationSeconds(job: JobTimes | undefined): number | undefined {
  const start = job?.creationTime?.getTime();
  const end = job?.endTime?.getTime();
  if (start === undefined || end === undefined || Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return Math.max(0, (end - start) / 1000);
}

/** `Runs` (Count) by `outcome`, and the job's `JobDuration` (Seconds) when it had one that ended. */
export function recordRunEnd(metrics: Metrics, outcome: RunOutcome, job?: JobTimes): void {
  metrics.addDimension('outcome', dimensionValue('outcome', outcome));
  metrics.addMetric(METRIC.runs, MetricUnit.Count, 1);
  const seconds = jobDurationSeconds(job);
  if (seconds !== undefined) metrics.addMetric(METRIC.jobDuration, MetricUnit.Seconds, seconds);
}

export interface GuardCounts {
  verdict: string;
  counts: {
    byType: Partial<Record<string, number | undefined>>;
    bySeverity: Partial<Record<string, number | undefined>>;
  };
}

/**
 * `GuardScans` by `verdict`, `GuardFindings` by `findingType` and `GuardFindingsBySeverity` by
 * `severity`. Each count is its own EMF line (a single metric), since one line has one value per name.
 */
export function recordGuardScan(metrics: Metrics, report: GuardCounts): void {
  metrics
    .singleMetric()
    .addDimension('verdict', dimensionValue('verdict', report.verdict))
    .addMetric(METRIC.guardScans, MetricUnit.Count, 1);
  for (const [type, count] of Object.entries(report.counts.byType)) {
    if (!count) continue;
    metrics
      .singleMetric()
      .addDimension('findingType', dimensionValue('findingType', type))
      .addMetric(METRIC.guardFindings, MetricUnit.Count, count);
  }
  for (const [severity, count] of Object.entries(report.counts.bySeverity)) {
    if (!count) continue;
    metrics
      .singleMetric()
      .addDimension('severity', dimensionValue('severity', severity))
      .addMetric(METRIC.guardFindingsBySeverity, MetricUnit.Count, count);
  }
}

/**
 * The job's times for its duration, best effort: a metric must never fail the step that records it.
 * `onError` hears why the lookup failed (it is logged by name only).
 */
export async function jobTimesOf<J extends JobTimes>(
  getJob: (jobArn: string) => Promise<J | undefined>,
  jobArn: string | undefined,
  onError: (err: Error) => void,
): Promise<J | undefined> {
  if (!jobArn) return undefined;
  try {
    return await getJob(jobArn);
  } catch (err) {
    onError(err as Error);
    return undefined;
  }
}
