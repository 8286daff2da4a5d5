/** Provenance tags carried by the job, the model and the run report. */
import { objectVersionId, s3Uri, tagSafe } from './naming';
import type { ScanSummary, SourceObject } from './types';

/** Tag carrying the time (ISO 8601) after which the cleanup deletes a Provisioned Throughput. */
export const EXPIRES_AT_TAG = 'tunevault:expires-at';
/** The stack that provisioned a deployment: the cleanup deletes only its own. */
export const STACK_TAG = 'tunevault:stack';

export function provenanceTags(input: {
  source: SourceObject;
  keyArn: string;
  executionArn: string;
  scan?: Pick<ScanSummary, 'sha256' | 'verdict' | 'totalFindings'> | undefined;
  extra?: Record<string, string> | undefined;
}): Record<string, string> {
  const { source, scan } = input;
  const tags: Record<string, string> = {
    'tunevault:source': tagSafe(s3Uri(source.bucket, source.key)),
    'tunevault:source-version': tagSafe(objectVersionId(source)),
    'tunevault:kms-key-arn': tagSafe(input.keyArn),
    'tunevault:execution-arn': tagSafe(input.executionArn),
  };
  if (scan) {
    tags['tunevault:data-sha256'] = scan.sha256;
    tags['tunevault:guard-verdict'] = scan.verdict;
    tags['tunevault:guard-findings'] = String(scan.totalFindings);
  }
  for (const [k, v] of Object.entries(input.extra ?? {})) tags[tagSafe(k, 128)] = tagSafe(v);
  return tags;
}
