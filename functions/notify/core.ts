/** Each run's end becomes one `tunevault` event on the default bus, for people and automation. */
import type { JobInfo } from '../shared/aws/bedrock';
import { haltedPhase, statusDetailsText } from '../shared/job-status';
import { s3Uri } from '../shared/naming';
import { stepFailureOf } from '../shared/step-failure';
import type { RunOutcome, SourceObject } from '../shared/types';

export const DETAIL_TYPES: Record<RunOutcome, string> = {
  completed: 'TuneVault Run Completed',
  failed: 'TuneVault Run Failed',
  remediated: 'TuneVault Run Remediated',
};

export interface NotifyInput {
  outcome: RunOutcome;
  executionArn: string;
  source: SourceObject;
  job?: { jobArn?: string | undefined; jobName?: string | undefined } | undefined;
  model?: { modelArn?: string | undefined } | undefined;
  jobResult?: { outputModelArn?: string | undefined } | undefined;
  key?: { keyArn?: string | undefined } | undefined;
  scan?: { verdict?: string | undefined; totalFindings?: number | undefined } | undefined;
  error?: { Error: string; Cause?: string | undefined } | undefined;
  remediation?: { actions?: { action: string; target: string }[] | undefined } | undefined;
  /** The job as Bedrock reports it now (GetModelCustomizationJob), when there was one. */
  jobInfo?: Pick<JobInfo, 'status' | 'statusDetails' | 'failureMessage'> | undefined;
  /** The opted-in deployment FinalizeCustomModel made. */
  deployment?:
    | { mode?: string | undefined; arn?: string | undefined; expiresAt?: string | undefined }
    | undefined;
}

/** A run stopped by the guard has no scan summary; its error says what the verdict was. */
const VERDICT_OF_ERROR: Record<string, string> = {
  SensitiveDataError: 'block',
  InvalidTrainingDataError: 'invalid',
};

export function notificationDetail(input: NotifyInput) {
  return {
    outcome: input.outcome,
    executionArn: input.executionArn,
    source: {
      bucket: input.source.bucket,
      key: input.source.key,
      versionId: input.source.versionId ?? null,
      s3Uri: s3Uri(input.source.bucket, input.source.key),
    },
    jobArn: input.job?.jobArn ?? null,
    modelArn: input.model?.modelArn ?? input.jobResult?.outputModelArn ?? null,
    kmsKeyArn: input.key?.keyArn ?? null,
    verdict: input.scan?.verdict ?? VERDICT_OF_ERROR[input.error?.Error ?? ''] ?? null,
    findings: input.scan?.totalFindings ?? null,
    error: input.error?.Error ?? null,
    failureMessage: input.error ? stepFailureOf(input.error.Error, input.error.Cause).message || null : null,
    // Bedrock's own account of the job: its status, phases and failure message.
    job: input.jobInfo
      ? {
          status: input.jobInfo.status,
          statusDetails: statusDetailsText(input.jobInfo.statusDetails) ?? null,
          failedIn: haltedPhase(input.jobInfo.statusDetails) ?? null,
          failureMessage: input.jobInfo.failureMessage ?? null,
        }
      : null,
    deployment: input.deployment?.arn
      ? {
          mode: input.deployment.mode ?? null,
          arn: input.deployment.arn,
          expiresAt: input.deployment.expiresAt ?? null,
        }
      : null,
    remediation: input.remediation?.actions ?? [],
  };
}

export async function notify(
  input: NotifyInput,
  publish: (detailType: string, detail: Record<string, unknown>, resources: string[]) => Promise<string>,
) {
  const detail = notificationDetail(input);
  const resources = [detail.executionArn, detail.jobArn, detail.modelArn].filter(
    (r): r is string => typeof r === 'string',
  );
  const eventId = await publish(DETAIL_TYPES[input.outcome], detail, resources);
  return { eventId, detailType: DETAIL_TYPES[input.outcome] };
}
