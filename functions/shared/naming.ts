/**
 * Deterministic names derived from one object version, so the same upload can never start two
 * executions or two Bedrock jobs, while a new version always gets new ones.
 */
import { createHash } from 'node:crypto';

export interface ObjectVersion {
  bucket: string;
  key: string;
  /** S3 versionId when the bucket is versioned, else the ETag identifies the content. */
  versionId?: string | undefined;
  etag?: string | undefined;
}

/** `+` stands for a space in S3 event keys; everything else is percent-encoded UTF-8. */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function objectVersionId(o: ObjectVersion): string {
  return o.versionId ? `v:${o.versionId}` : `e:${(o.etag ?? '').replace(/"/g, '')}`;
}

export function versionDigest(o: ObjectVersion): string {
  return createHash('sha256')
    .update(`${o.bucket}\u0000${o.key}\u0000${objectVersionId(o)}`)
    .digest('hex');
}

/** Lower-case alphanumerics joined by single hyphens, from the file's base name. */
export function slugOf(key: string, max: number): string {
  const base = key.split('/').pop() ?? key;
  const stem = base.replace(/\.[^.]*$/, '');
  const slug = stem
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return slug || 'data';
}

/** Step Functions execution name: ≤ 80 chars of [A-Za-z0-9-_]. */
export function executionNameFor(o: ObjectVersion): string {
  return `tv-${slugOf(o.key, 40)}-${versionDigest(o).slice(0, 32)}`;
}

/** Bedrock jobName: 1–63 chars, `[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*`. */
/** The ARN of state machine STATEMACHINEARN's execution NAME (the same account, region and partition). */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export function jobNameFor(o: ObjectVersion): string {
  return `tunevault-${slugOf(o.key, 24)}-${versionDigest(o).slice(0, 24)}`;
}

/** Bedrock customModelName: 1–63 chars, `([0-9a-zA-Z][_-]?){1,63}`. */
export function customModelNameFor(o: ObjectVersion): string {
  return `tunevault-${slugOf(o.key, 24)}-model-${versionDigest(o).slice(0, 18)}`;
}

/** Custom model deployment / provisioned model name: the model name's pattern, `([0-9a-zA-Z][_-]?){1,63}`. */
export function deploymentNameFor(o: ObjectVersion): string {
  return `tunevault-${slugOf(o.key, 24)}-deploy-${versionDigest(o).slice(0, 18)}`;
}

/** Bedrock clientRequestToken: `[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?`. */
export function clientRequestTokenFor(o: ObjectVersion): string {
  return `tunevault-${versionDigest(o)}`;
}

export const JOB_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$/;
export const CUSTOM_MODEL_NAME_PATTERN = /^([0-9a-zA-Z][_-]?){1,63}$/;
export const CLIENT_REQUEST_TOKEN_PATTERN = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?$/;

const TAG_VALUE_UNSAFE = /[^a-zA-Z0-9\s._:/=+@-]/g;

/**
 * Bedrock (and most AWS) tag values allow `^[a-zA-Z0-9\s._:/=+@-]*$`, ≤ 256 chars: a raw S3 key
 * with unicode or `%` cannot be a tag as it is. Unsafe characters become `_`; a value that had
 * to change or be cut gets a short digest so distinct keys stay distinct.
 */
export function tagSafe(value: string, max = 256): string {
  const safe = value.replace(TAG_VALUE_UNSAFE, '_');
  if (safe === value && safe.length <= max) return safe;
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 12);
  return `${safe.slice(0, max - digest.length - 1)}+${digest}`;
}

/** Characters S3 refuses in a tag value: anything but letters, spaces, digits and `_.:/=+-@`. */
const S3_TAG_UNSAFE = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]+/gu;

/**
 * A sentence as an S3 object tag value a person can still read (`tunevault:reason`): the
 * characters S3 refuses become spaces or their plain equivalent, never a digest; cut at `max`.
 */
export function tagText(text: string, max = 256): string {
  const plain = text
    .replace(/\(s\)/g, 's')
    .replace(/\s*\(([^()]*)\)/g, ' - $1')
    .replace(/[—–]/g, '-')
    .replace(/×/g, 'x')
    .replace(/[;,]\s*/g, ' - ')
    .replace(/['"`‘’“”()[\]{}]/g, '')
    .replace(S3_TAG_UNSAFE, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length <= max ? plain : `${plain.slice(0, max - 3).trimEnd()}...`;
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  // `s`: a key may hold a line break (S3 keys are any UTF-8), and `.` must take it too.
  const m = /^s3:\/\/([^/]+)\/?(.*)$/s.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1] as string, key: m[2] as string };
}
