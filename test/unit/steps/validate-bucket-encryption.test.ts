import {
  type BucketPorts,
  RULES,
  validateBucketEncryption,
} from '../../../functions/validate-bucket-encryption/core';
import { BucketNotCompliantError, InvalidInputError } from '../../../functions/shared/errors';

const TLS_POLICY = JSON.stringify({
  Statement: [
    {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ],
});
const ALL_BLOCKED = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

function ports(overrides: Partial<BucketPorts> = {}): BucketPorts {
  return {
    getDefaultEncryption: async () => ({
      algorithm: 'aws:kms',
      kmsKeyId: 'arn:aws:kms:us-east-1:1:key/k',
      bucketKeyEnabled: true,
    }),
    getPublicAccessBlock: async () => ALL_BLOCKED,
    getBucketPolicy: async () => TLS_POLICY,
    headObject: async () => ({ size: 10, sse: 'aws:kms', kmsKeyId: 'k' }),
    ...overrides,
  };
}
const source = { bucket: 'training', key: 'training/a.jsonl' };

describe('validateBucketEncryption', () => {
  it('passes a hardened pair of buckets and reports every rule', async () => {
    const result = await validateBucketEncryption(source, 'output', 'aws:kms', ports());
    expect(result.rules.every((r) => r.passed)).toBe(true);
    expect(result.rules.map((r) => r.rule)).toEqual(expect.arrayContaining(Object.values(RULES)));
  });

  it('refuses an SSE-S3-only bucket when SSE-KMS is required, naming the rule', async () => {
    const p = ports({
      getDefaultEncryption: async (b) =>
        b === 'training'
          ? { algorithm: 'AES256', bucketKeyEnabled: false }
          : { algorithm: 'aws:kms', bucketKeyEnabled: true },
    });
    const attempt = validateBucketEncryption(source, 'output', 'aws:kms', p);
    await expect(attempt).rejects.toBeInstanceOf(BucketNotCompliantError);
    const err = (await attempt.catch((e: unknown) => e)) as BucketNotCompliantError;
    expect(err.violations.map((v) => `${v.bucket}:${v.rule}`)).toContain('training:default-encryption');
    expect(err.message).toMatch(
      /\[default-encryption\] s3:\/\/training: default encryption is SSE-S3 \(AES256\); this stage requires SSE-KMS/,
    );
  });

  it('accepts SSE-S3 when the stage allows it', async () => {
    const p = ports({
      getDefaultEncryption: async () => ({ algorithm: 'AES256', bucketKeyEnabled: false }),
      headObject: async () => ({ size: 1, sse: 'AES256' }),
    });
    await expect(validateBucketEncryption(source, 'output', 'AES256', p)).resolves.toMatchObject({
      compliant: true,
    });
  });

  it('lists every violated rule at once', async () => {
    const p = ports({
      getDefaultEncryption: async () => undefined,
      getPublicAccessBlock: async () => ({ ...ALL_BLOCKED, RestrictPublicBuckets: false }),
      getBucketPolicy: async () => undefined,
      headObject: async () => ({ size: 1 }),
    });
    const err = (await validateBucketEncryption(source, 'training', 'aws:kms', p).catch(
      (e: unknown) => e,
    )) as BucketNotCompliantError;
    expect(err.violations.map((v) => v.rule).sort()).toEqual(
      ['block-public-access', 'default-encryption', 'object-encryption', 'tls-only-policy'].sort(),
    );
    expect(err.message).toContain('RestrictPublicBuckets');
  });

  it('names the object when it was deleted before the run read it', async () => {
    const attempt = validateBucketEncryption(
      source,
      'output',
      'aws:kms',
      ports({ headObject: async () => undefined }),
    );
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(/s3:\/\/training\/training\/a.jsonl no longer exists/);
  });
});
