import {
  type BucketPorts,
  hasTlsOnlyDeny,
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

describe('validateBucketEncryption: each rule', () => {
  it('reports every rule passed with what it found, and the object it read', async () => {
    const result = await validateBucketEncryption(
      { ...source, versionId: 'v1' },
      'output',
      'aws:kms',
      ports(),
    );
    expect(result).toEqual({
      compliant: true,
      rules: [
        {
          bucket: 'training',
          rule: 'default-encryption',
          passed: true,
          detail: 'default encryption aws:kms with arn:aws:kms:us-east-1:1:key/k',
        },
        { bucket: 'training', rule: 'bucket-key', passed: true, detail: 'S3 Bucket Key enabled' },
        {
          bucket: 'training',
          rule: 'block-public-access',
          passed: true,
          detail: 'all four Block Public Access flags on',
        },
        {
          bucket: 'training',
          rule: 'tls-only-policy',
          passed: true,
          detail: 'bucket policy denies requests without TLS',
        },
        {
          bucket: 'output',
          rule: 'default-encryption',
          passed: true,
          detail: 'default encryption aws:kms with arn:aws:kms:us-east-1:1:key/k',
        },
        { bucket: 'output', rule: 'bucket-key', passed: true, detail: 'S3 Bucket Key enabled' },
        {
          bucket: 'output',
          rule: 'block-public-access',
          passed: true,
          detail: 'all four Block Public Access flags on',
        },
        {
          bucket: 'output',
          rule: 'tls-only-policy',
          passed: true,
          detail: 'bucket policy denies requests without TLS',
        },
        { bucket: 'training', rule: 'object-encryption', passed: true, detail: 'object stored with aws:kms' },
      ],
      object: { size: 10, sse: 'aws:kms', kmsKeyId: 'k' },
    });
  });

  it('checks a bucket used for both training and output once', async () => {
    const asked: string[] = [];
    const p = ports({
      getDefaultEncryption: async (b) => {
        asked.push(b);
        return { algorithm: 'aws:kms', bucketKeyEnabled: true };
      },
    });
    const result = await validateBucketEncryption(source, 'training', 'aws:kms', p);
    expect(asked).toEqual(['training']);
    expect(result.rules.find((r) => r.rule === 'default-encryption')?.detail).toBe(
      'default encryption aws:kms',
    );
  });

  it('refuses SSE-KMS without a bucket key, saying why it matters', async () => {
    const p = ports({
      getDefaultEncryption: async () => ({ algorithm: 'aws:kms', bucketKeyEnabled: false }),
    });
    const err = (await validateBucketEncryption(source, 'output', 'aws:kms', p).catch(
      (e: unknown) => e,
    )) as BucketNotCompliantError;
    expect(err.violations).toEqual([
      {
        bucket: 'training',
        rule: 'bucket-key',
        passed: false,
        detail: 'S3 Bucket Key disabled; enable BucketKeyEnabled to cut KMS calls and cost',
      },
      {
        bucket: 'output',
        rule: 'bucket-key',
        passed: false,
        detail: 'S3 Bucket Key disabled; enable BucketKeyEnabled to cut KMS calls and cost',
      },
    ]);
  });

  it('accepts dual-layer SSE-KMS (aws:kms:dsse) as SSE-KMS, and refuses an unknown algorithm by name', async () => {
    const dsse = ports({
      getDefaultEncryption: async () => ({ algorithm: 'aws:kms:dsse', bucketKeyEnabled: true }),
      headObject: async () => ({ size: 1, sse: 'aws:kms:dsse' }),
    });
    await expect(validateBucketEncryption(source, 'output', 'aws:kms', dsse)).resolves.toMatchObject({
      compliant: true,
    });
    const odd = ports({ getDefaultEncryption: async () => ({ algorithm: 'XYZ', bucketKeyEnabled: false }) });
    const err = (await validateBucketEncryption(source, 'output', 'AES256', odd).catch(
      (e: unknown) => e,
    )) as BucketNotCompliantError;
    expect(err.violations[0]).toEqual({
      bucket: 'training',
      rule: 'default-encryption',
      passed: false,
      detail: 'default encryption is XYZ; this stage requires SSE-S3 or SSE-KMS',
    });
  });

  it('names the missing configuration when a bucket has no default encryption or no Block Public Access', async () => {
    const p = ports({
      getDefaultEncryption: async () => undefined,
      getPublicAccessBlock: async () => undefined,
    });
    const err = (await validateBucketEncryption(source, 'training', 'AES256', p).catch(
      (e: unknown) => e,
    )) as BucketNotCompliantError;
    expect(err.violations).toEqual([
      {
        bucket: 'training',
        rule: 'default-encryption',
        passed: false,
        detail: 'no default encryption; set SSE-S3 or SSE-KMS with PutBucketEncryption',
      },
      {
        bucket: 'training',
        rule: 'block-public-access',
        passed: false,
        detail: 'Block Public Access not on: all four flags (no configuration)',
      },
    ]);
  });

  it('refuses an object stored without encryption, telling the owner to upload it again', async () => {
    const p = ports({ headObject: async () => ({ size: 3 }) });
    const err = (await validateBucketEncryption(source, 'output', 'aws:kms', p).catch(
      (e: unknown) => e,
    )) as BucketNotCompliantError;
    expect(err.violations).toEqual([
      {
        bucket: 'training',
        rule: 'object-encryption',
        passed: false,
        detail:
          'object stored with no encryption; this stage requires SSE-KMS (aws:kms) — upload it again after fixing the bucket default',
      },
    ]);
  });

  it('names the bucket policy problem: none at all, or one without the TLS deny', async () => {
    const none = ports({ getBucketPolicy: async () => undefined });
    const e1 = (await validateBucketEncryption(source, 'training', 'aws:kms', none).catch(
      (e: unknown) => e,
    )) as BucketNotCompliantError;
    expect(e1.violations[0]?.detail).toBe(
      'no bucket policy, so no Deny on s3:* for aws:SecureTransport=false',
    );
    const other = ports({ getBucketPolicy: async () => JSON.stringify({ Statement: [] }) });
    const e2 = (await validateBucketEncryption(source, 'training', 'aws:kms', other).catch(
      (e: unknown) => e,
    )) as BucketNotCompliantError;
    expect(e2.violations[0]?.detail).toBe('bucket policy has no Deny on s3:* for aws:SecureTransport=false');
  });

  it('refuses a version whose key now ends in a delete marker, keeping the version untouched', async () => {
    const asked: (string | undefined)[] = [];
    const p = ports({
      headObject: async (_b, _k, versionId) => {
        asked.push(versionId);
        return versionId ? { size: 10, sse: 'aws:kms' } : undefined;
      },
    });
    const attempt = validateBucketEncryption({ ...source, versionId: 'v1' }, 'output', 'aws:kms', p);
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(
      's3://training/training/a.jsonl was deleted before the run could read it (the key now ends in a delete marker; version v1 is kept, untouched). Nothing was trained; upload it again to start a new run.',
    );
    expect(asked).toEqual(['v1', undefined]);
  });

  it('heads an unversioned object once, and a gone version once', async () => {
    const asked: (string | undefined)[] = [];
    const head = (answer: { size: number } | undefined) =>
      ports({
        headObject: async (_b, _k, versionId) => {
          asked.push(versionId);
          return answer;
        },
      });
    await validateBucketEncryption(source, 'output', 'aws:kms', head({ size: 10 })).catch(() => undefined);
    expect(asked).toStrictEqual([undefined]);
    asked.length = 0;
    await validateBucketEncryption(
      { ...source, versionId: 'v9' },
      'output',
      'aws:kms',
      head(undefined),
    ).catch(() => undefined);
    expect(asked).toStrictEqual(['v9']);
  });

  it('lists every Block Public Access flag that is off, comma-separated', async () => {
    const p = ports({
      getPublicAccessBlock: async () => ({
        ...ALL_BLOCKED,
        IgnorePublicAcls: false,
        BlockPublicPolicy: false,
      }),
    });
    const err = (await validateBucketEncryption(source, 'output', 'aws:kms', p).catch(
      (e: unknown) => e,
    )) as BucketNotCompliantError;
    expect(err.violations.map((v) => v.detail)).toContain(
      'Block Public Access not on: IgnorePublicAcls, BlockPublicPolicy',
    );
  });

  it('names the version of an object version that is gone', async () => {
    const attempt = validateBucketEncryption(
      { ...source, versionId: 'v9' },
      'output',
      'aws:kms',
      ports({ headObject: async () => undefined }),
    );
    await expect(attempt).rejects.toThrow(
      's3://training/training/a.jsonl (version v9) no longer exists; it was deleted before the run could read it. Upload it again to start a new run.',
    );
  });
});

describe('hasTlsOnlyDeny', () => {
  const deny = (over: Record<string, unknown>) =>
    JSON.stringify({
      Statement: {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        ...over,
      },
    });

  it.each([
    ['the usual statement (Statement as one object)', deny({}), true],
    ['Principal {"AWS": "*"}', deny({ Principal: { AWS: '*' } }), true],
    ['Principal {"AWS": ["*"]}', deny({ Principal: { AWS: ['*'] } }), true],
    ['Action "*"', deny({ Action: '*' }), true],
    ['Action ["s3:GetObject"]', deny({ Action: ['s3:GetObject'] }), true],
    ['Action ["s3:GetObject", "s3:PutObject"]', deny({ Action: ['s3:GetObject', 's3:PutObject'] }), true],
    ['a policy with no Statement', JSON.stringify({ Version: '2012-10-17' }), false],
    ['SecureTransport as a list', deny({ Condition: { Bool: { 'aws:SecureTransport': ['false'] } } }), true],
    [
      'SecureTransport as the boolean false',
      deny({ Condition: { Bool: { 'aws:SecureTransport': false } } }),
      true,
    ],
    ['an Allow', deny({ Effect: 'Allow' }), false],
    ['one principal only', deny({ Principal: { AWS: 'arn:aws:iam::1:role/r' } }), false],
    ['only s3:PutObject', deny({ Action: 's3:PutObject' }), false],
    ['no condition', deny({ Condition: undefined }), false],
    ['SecureTransport true', deny({ Condition: { Bool: { 'aws:SecureTransport': 'true' } } }), false],
    ['another Bool key', deny({ Condition: { Bool: { 'aws:ViaAWSService': 'false' } } }), false],
    ['not JSON', '{', false],
    ['no policy', undefined, false],
  ])('%s → %s', (_label, policy, expected) => {
    expect(hasTlsOnlyDeny(policy)).toBe(expected);
  });
});
