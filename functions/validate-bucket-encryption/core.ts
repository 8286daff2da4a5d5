/**
 * Every rule is evaluated and reported, pass or fail, so a refusal lists all that must change,
 * not just the first thing that was wrong.
 */
import type { DefaultEncryption, ObjectHead, PublicAccessBlock } from '../shared/aws/s3';
import { BucketNotCompliantError, InvalidInputError } from '../shared/errors';
import type { RuleResult, SourceObject } from '../shared/types';

export interface BucketPorts {
  getDefaultEncryption(bucket: string): Promise<DefaultEncryption | undefined>;
  getPublicAccessBlock(bucket: string): Promise<PublicAccessBlock | undefined>;
  getBucketPolicy(bucket: string): Promise<string | undefined>;
  headObject(bucket: string, key: string, versionId?: string): Promise<ObjectHead | undefined>;
}

export type RequiredEncryption = 'aws:kms' | 'AES256';

export const RULES = {
  defaultEncryption: 'default-encryption',
  bucketKey: 'bucket-key',
  publicAccessBlock: 'block-public-access',
  tlsOnly: 'tls-only-policy',
  objectEncryption: 'object-encryption',
} as const;

const KMS_ALGORITHMS = new Set(['aws:kms', 'aws:kms:dsse']);

function acceptable(algorithm: string | undefined, required: RequiredEncryption): boolean {
  if (!algorithm) return false;
  return required === 'aws:kms'
    ? KMS_ALGORITHMS.has(algorithm)
    : algorithm === 'AES256' || KMS_ALGORITHMS.has(algorithm);
}

const want = (required: RequiredEncryption) =>
  required === 'aws:kms' ? 'SSE-KMS (aws:kms)' : 'SSE-S3 or SSE-KMS';

export function encryptionRules(
  bucket: string,
  enc: DefaultEncryption | undefined,
  required: RequiredEncryption,
): RuleResult[] {
  const results: RuleResult[] = [];
  if (!enc) {
    results.push({
      bucket,
      rule: RULES.defaultEncryption,
      passed: false,
      detail: `no default encryption; set ${want(required)} with PutBucketEncryption`,
    });
    return results;
  }
  const ok = acceptable(enc.algorithm, required);
  results.push({
    bucket,
    rule: RULES.defaultEncryption,
    passed: ok,
    detail: ok
      ? `default encryption ${enc.algorithm}${enc.kmsKeyId ? ` with ${enc.kmsKeyId}` : ''}`
      : `default encryption is ${enc.algorithm === 'AES256' ? 'SSE-S3 (AES256)' : enc.algorithm}; this stage requires ${want(required)}`,
  });
  if (KMS_ALGORITHMS.has(enc.algorithm)) {
    results.push({
      bucket,
      rule: RULES.bucketKey,
      passed: enc.bucketKeyEnabled,
      detail: enc.bucketKeyEnabled
        ? 'S3 Bucket Key enabled'
        : 'S3 Bucket Key disabled; enable BucketKeyEnabled to cut KMS calls and cost',
    });
  }
  return results;
}

export function publicAccessRule(bucket: string, pab: PublicAccessBlock | undefined): RuleResult {
  const off = pab
    ? Object.entries(pab)
        .filter(([, on]) => !on)
        .map(([flag]) => flag)
    : ['all four flags (no configuration)'];
  return {
    bucket,
    rule: RULES.publicAccessBlock,
    passed: off.length === 0,
    detail:
      off.length === 0
        ? 'all four Block Public Access flags on'
        : `Block Public Access not on: ${off.join(', ')}`,
  };
}

interface PolicyStatement {
  Effect?: unknown;
  Principal?: unknown;
  Action?: unknown;
  Condition?: unknown;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** A Deny for everyone on s3 actions when `aws:SecureTransport` is false. */
export function hasTlsOnlyDeny(policyJson: string | undefined): boolean {
  if (!policyJson) return false;
  let policy: { Statement?: unknown };
  try {
    policy = JSON.parse(policyJson) as { Statement?: unknown };
  } catch {
    return false;
  }
  return asList(policy.Statement).some((raw) => {
    const s = raw as PolicyStatement;
    if (s.Effect !== 'Deny') return false;
    const everyone =
      s.Principal === '*' || asList((s.Principal as { AWS?: unknown } | undefined)?.AWS).includes('*');
    const actions = asList(s.Action).map(String);
    const coversObjects = actions.some((a) => a === 's3:*' || a === '*' || a === 's3:GetObject');
    const bool = (s.Condition as { Bool?: Record<string, unknown> } | undefined)?.Bool;
    const insecure = bool ? asList(bool['aws:SecureTransport']).map(String).includes('false') : false;
    return everyone && coversObjects && insecure;
  });
}

export function tlsRule(bucket: string, policyJson: string | undefined): RuleResult {
  const passed = hasTlsOnlyDeny(policyJson);
  return {
    bucket,
    rule: RULES.tlsOnly,
    passed,
    detail: passed
      ? 'bucket policy denies requests without TLS'
      : `${policyJson ? 'bucket policy has' : 'no bucket policy, so'} no Deny on s3:* for aws:SecureTransport=false`,
  };
}

export async function checkBucket(
  bucket: string,
  required: RequiredEncryption,
  ports: BucketPorts,
): Promise<RuleResult[]> {
  const [enc, pab, policy] = await Promise.all([
    ports.getDefaultEncryption(bucket),
    ports.getPublicAccessBlock(bucket),
    ports.getBucketPolicy(bucket),
  ]);
  return [...encryptionRules(bucket, enc, required), publicAccessRule(bucket, pab), tlsRule(bucket, policy)];
}

export interface ValidateResult {
  compliant: true;
  rules: RuleResult[];
  object: { size: number; sse?: string; kmsKeyId?: string };
}

export async function validateBucketEncryption(
  source: SourceObject,
  outputBucket: string,
  required: RequiredEncryption,
  ports: BucketPorts,
): Promise<ValidateResult> {
  const head = await ports.headObject(source.bucket, source.key, source.versionId);
  // In a versioned bucket a deleted object's version stays readable behind a delete marker: the
  // owner's delete still means "do not train on this", so the key itself must still answer.
  const current = head && source.versionId ? await ports.headObject(source.bucket, source.key) : head;
  if (!head) {
    throw new InvalidInputError(
      `s3://${source.bucket}/${source.key}${source.versionId ? ` (version ${source.versionId})` : ''} no longer exists; it was deleted before the run could read it. Upload it again to start a new run.`,
    );
  }
  if (!current) {
    throw new InvalidInputError(
      `s3://${source.bucket}/${source.key} was deleted before the run could read it (the key now ends in a delete marker; version ${source.versionId} is kept, untouched). Nothing was trained; upload it again to start a new run.`,
    );
  }
  const buckets = [...new Set([source.bucket, outputBucket])];
  const rules = (await Promise.all(buckets.map((b) => checkBucket(b, required, ports)))).flat();
  const objectOk = acceptable(head.sse, required);
  rules.push({
    bucket: source.bucket,
    rule: RULES.objectEncryption,
    passed: objectOk,
    detail: objectOk
      ? `object stored with ${head.sse}`
      : `object stored with ${head.sse ?? 'no encryption'}; this stage requires ${want(required)} — upload it again after fixing the bucket default`,
  });
  // The refusal carries every rule, passed ones too: the run's record shows the whole check.
  if (rules.some((r) => !r.passed)) throw new BucketNotCompliantError(rules);
  return {
    compliant: true,
    rules,
    object: {
      size: head.size,
      ...(head.sse ? { sse: head.sse } : {}),
      ...(head.kmsKeyId ? { kmsKeyId: head.kmsKeyId } : {}),
    },
  };
}
