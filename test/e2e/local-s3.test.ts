/** The embedded S3 through the real SDK v3 client: wire format, errors, SSE, multipart, notifications. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  DeletePublicAccessBlockCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketEncryptionCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { LocalEndpoint } from '../../local/core/server';
import { localClientConfig, signedFetch, startTestEndpoint } from '../../local/core/test-endpoint';
import { AwsError, type KeyStore, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/core/types';
import { S3Service } from '../../local/services/s3';

/** A KeyStore that seals data keys in JSON, so tests can see which key and context S3 used. */
class FakeKeyStore implements KeyStore {
  readonly disabled = new Set<string>();
  readonly calls: Array<{ op: string; keyId: string; context?: Record<string, string> }> = [];

  private arnOf(keyIdOrAlias: string): string {
    if (keyIdOrAlias.startsWith('arn:')) return keyIdOrAlias;
    const name = keyIdOrAlias === 'alias/aws/s3' ? 'aws-s3-managed' : keyIdOrAlias;
    return `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:key/${name}`;
  }

  private check(arn: string): void {
    if (this.disabled.has(arn)) throw new AwsError('DisabledException', `${arn} is disabled.`);
  }

  async createGrantVia(): Promise<{ grantId: string }> {
    throw new Error('S3 never creates grants');
  }

  async describe(keyIdOrAlias: string) {
    const keyArn = this.arnOf(keyIdOrAlias);
    return {
      keyArn,
      keyId: keyArn.split('/').pop() ?? '',
      keyState: this.disabled.has(keyArn) ? 'Disabled' : 'Enabled',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      keyManager: 'CUSTOMER' as const,
    };
  }

  async generateDataKey(keyIdOrAlias: string, context?: Record<string, string>) {
    const keyArn = this.arnOf(keyIdOrAlias);
    this.calls.push({ op: 'generateDataKey', keyId: keyIdOrAlias, ...(context ? { context } : {}) });
    this.check(keyArn);
    const plaintext = randomBytes(32);
    const ciphertextBlob = Buffer.from(
      JSON.stringify({ keyArn, key: plaintext.toString('base64'), context }),
    );
    return { keyArn, plaintext, ciphertextBlob };
  }

  async decrypt(ciphertextBlob: Buffer, context?: Record<string, string>) {
    const sealed = JSON.parse(ciphertextBlob.toString('utf8')) as {
      keyArn: string;
      key: string;
      context?: unknown;
    };
    this.calls.push({ op: 'decrypt', keyId: sealed.keyArn, ...(context ? { context } : {}) });
    this.check(sealed.keyArn);
    if (JSON.stringify(sealed.context) !== JSON.stringify(context)) {
      throw new AwsError('InvalidCiphertextException', 'The encryption context does not match.');
    }
    return { keyArn: sealed.keyArn, plaintext: Buffer.from(sealed.key, 'base64') };
  }
}

interface Invocation {
  functionArn: string;
  event: {
    Records: Array<
      Record<string, unknown> & { s3: { object: Record<string, unknown>; configurationId: string } }
    >;
  };
}

let endpoint: LocalEndpoint;
let s3: S3Service;
let client: S3Client;
let kms: FakeKeyStore;
let invocations: Invocation[];
let invokeGate: Promise<void> | undefined;

const FUNCTION_ARN = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:on-upload`;

beforeAll(async () => {
  kms = new FakeKeyStore();
  s3 = new S3Service({
    accountId: LOCAL_ACCOUNT_ID,
    region: LOCAL_REGION,
    kms,
    invokeLambda: async (functionArn, event) => {
      await invokeGate;
      invocations.push({ functionArn, event: event as Invocation['event'] });
      return {};
    },
  });
  endpoint = await startTestEndpoint([s3]);
  client = new S3Client(localClientConfig(endpoint.url));
});

beforeEach(() => {
  invocations = [];
  invokeGate = undefined;
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
  await s3.close();
});

let bucketCount = 0;
async function newBucket(): Promise<string> {
  bucketCount += 1;
  const name = `test-bucket-${bucketCount}-${randomBytes(3).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

async function text(bucket: string, key: string, extra: { VersionId?: string; Range?: string } = {}) {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  return out.Body?.transformToString() ?? '';
}

const decodeEventKey = (key: string) => decodeURIComponent(key.replace(/\+/g, ' '));

describe('buckets', () => {
  it('creates, lists, locates, refuses to delete when not empty, then deletes', async () => {
    const bucket = await newBucket();
    const head = await client.send(new HeadBucketCommand({ Bucket: bucket }));
    expect(head.BucketRegion).toBe('us-east-1');
    const list = await client.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain(bucket);
    expect(list.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    const location = await client.send(new GetBucketLocationCommand({ Bucket: bucket }));
    expect(location.LocationConstraint).toBeUndefined();

    expect(await failure(client.send(new CreateBucketCommand({ Bucket: bucket })))).toMatchObject({
      name: 'BucketAlreadyOwnedByYou',
      status: 409,
    });
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'a' }));
    expect(await failure(client.send(new DeleteBucketCommand({ Bucket: bucket })))).toMatchObject({
      name: 'BucketNotEmpty',
      status: 409,
    });
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a.txt' }));
    const deleted = await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await failure(client.send(new HeadBucketCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NotFound',
      status: 404,
    });
    expect(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })))).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
  });

  it('rejects invalid bucket names', async () => {
    expect(await failure(client.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).toMatchObject({
      name: 'InvalidBucketName',
      status: 400,
    });
  });

  it('reports a region given as LocationConstraint', async () => {
    await client.send(
      new CreateBucketCommand({
        Bucket: 'eu-bucket-x',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    const location = await client.send(new GetBucketLocationCommand({ Bucket: 'eu-bucket-x' }));
    expect(location.LocationConstraint).toBe('eu-west-1');
  });

  it('answers NotImplemented (501) naming the operation it does not emulate', async () => {
    const bucket = await newBucket();
    const res = await signedFetch(`${endpoint.url}/${bucket}?cors`);
    expect(res.status).toBe(501);
    const body = await res.text();
    expect(body).toContain('<Code>NotImplemented</Code>');
    expect(body).toContain('GetBucketCors');
  });
});

describe('operation names', () => {
  const request = (method: string, path: string, query = '', headers: Record<string, string> = {}) => ({
    method,
    path,
    query: new URLSearchParams(query),
    headers,
    body: Buffer.alloc(0),
    service: 's3',
    region: LOCAL_REGION,
  });

  it.each([
    ['GET', '/', '', {}, 'ListBuckets'],
    ['PUT', '/b', '', {}, 'CreateBucket'],
    ['GET', '/b', 'encryption=', {}, 'GetBucketEncryption'],
    ['DELETE', '/b', 'publicAccessBlock=', {}, 'DeletePublicAccessBlock'],
    ['GET', '/b', 'list-type=2&prefix=a', {}, 'ListObjectsV2'],
    ['POST', '/b', 'delete=', {}, 'DeleteObjects'],
    ['PUT', '/b/k', 'x-id=PutObject', {}, 'PutObject'],
    ['PUT', '/b/k', '', { 'x-amz-copy-source': 'b/j' }, 'CopyObject'],
    ['POST', '/b/k', 'uploads=', {}, 'CreateMultipartUpload'],
    ['PUT', '/b/k', 'partNumber=1&uploadId=u', {}, 'UploadPart'],
    ['PUT', '/b/k', 'partNumber=1&uploadId=u', { 'x-amz-copy-source': 'b/j' }, 'UploadPartCopy'],
    ['POST', '/b/k', 'uploadId=u', {}, 'CompleteMultipartUpload'],
    ['GET', '/b/k', 'tagging=', {}, 'GetObjectTagging'],
    ['HEAD', '/b/k', '', {}, 'HeadObject'],
  ])('%s %s?%s is %s', (method, path, query, headers, operation) => {
    expect(s3.operationOf(request(method, path, query, headers))).toBe(operation);
  });

  it('folds virtual-hosted <bucket>.localhost requests into path style', () => {
    const req = { ...request('GET', '/dir/file.txt'), headers: { host: 'my-bucket.localhost:4566' } };
    expect(s3.operationOf(req)).toBe('GetObject');
  });

  it('lets injected faults answer in S3 error form', async () => {
    const bucket = await newBucket();
    endpoint.faults.add({
      service: 's3',
      operation: 'GetBucketEncryption',
      count: 1,
      error: 'AccessDenied',
      status: 403,
    });
    expect(await failure(client.send(new GetBucketEncryptionCommand({ Bucket: bucket })))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
    await client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  });
});

describe('objects', () => {
  const SPECIAL_KEYS = [
    'training/my first seté.jsonl',
    'plus+sign/a+b c.txt',
    'ünïcødé/日本語 ファイル.json',
    'odd/chars ?#&=%;,:@$!~()[]{}.txt',
    'deep//double/slash',
  ];

  it('round-trips special keys through put, get, head and list', async () => {
    const bucket = await newBucket();
    for (const key of SPECIAL_KEYS) {
      const put = await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}`, ContentType: 'text/plain' }),
      );
      expect(put.ETag).toBe(`"${createHash('md5').update(`body of ${key}`).digest('hex')}"`);
    }
    for (const key of SPECIAL_KEYS) {
      expect(await text(bucket, key)).toBe(`body of ${key}`);
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.ContentLength).toBe(Buffer.byteLength(`body of ${key}`));
      expect(head.ContentType).toBe('text/plain');
      expect(head.LastModified).toBeInstanceOf(Date);
    }
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual([...SPECIAL_KEYS].sort());
    expect(listed.KeyCount).toBe(SPECIAL_KEYS.length);
  });

  it('keeps metadata and answers ranges', async () => {
    const bucket = await newBucket();
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'r.txt',
        Body: 'abcdefghij',
        Metadata: { origin: 'unit-test' },
        CacheControl: 'no-cache',
      }),
    );
    const ranged = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'r.txt', Range: 'bytes=2-5' }),
    );
    expect(ranged.$metadata.httpStatusCode).toBe(206);
    expect(ranged.ContentRange).toBe('bytes 2-5/10');
    expect(await ranged.Body?.transformToString()).toBe('cdef');
    expect(await text(bucket, 'r.txt', { Range: 'bytes=-3' })).toBe('hij');
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'r.txt' }));
    expect(head.Metadata).toEqual({ origin: 'unit-test' });
    expect(head.CacheControl).toBe('no-cache');
    expect(
      await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'r.txt', Range: 'bytes=20-' }))),
    ).toMatchObject({
      name: 'InvalidRange',
      status: 416,
    });
  });

  it('answers NoSuchKey on GET and a bodiless 404 on HEAD', async () => {
    const bucket = await newBucket();
    expect(
      await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' }))),
    ).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(
      await failure(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' }))),
    ).toMatchObject({
      name: 'NotFound',
      status: 404,
    });
  });

  it('uploads streamed bodies as aws-chunked with a trailing checksum', async () => {
    const bucket = await newBucket();
    const body = randomBytes(300_000);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'stream.bin',
        Body: Readable.from([body.subarray(0, 100_000), body.subarray(100_000)]),
        ContentLength: body.length,
      }),
    );
    const out = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'stream.bin', ChecksumMode: 'ENABLED' }),
    );
    expect(out.ChecksumCRC32).toBeDefined();
    expect(Buffer.from(await out.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)(
    'verifies and returns %s checksums',
    async (algorithm) => {
      const bucket = await newBucket();
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'c.txt',
          Body: 'checksummed body',
          ChecksumAlgorithm: algorithm,
        }),
      );
      const out = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'c.txt', ChecksumMode: 'ENABLED' }),
      );
      expect(out[`Checksum${algorithm}`]).toBeDefined();
      expect(await out.Body?.transformToString()).toBe('checksummed body');
    },
  );

  it('rejects a body whose trailing checksum does not match', async () => {
    const bucket = await newBucket();
    const framed = '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n';
    const res = await signedFetch(`${endpoint.url}/${bucket}/bad.txt`, {
      method: 'PUT',
      headers: {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '5',
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      body: framed,
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>BadDigest</Code>');
  });

  it('copies with URL-encoded sources and refuses a pointless self-copy', async () => {
    const bucket = await newBucket();
    const source = 'src dir/naïve+file.txt';
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: source, Body: 'copy me', Metadata: { m: '1' } }),
    );
    const copied = await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst/copy.txt',
        CopySource: `${bucket}/${encodeURIComponent(source)}`,
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(`"${createHash('md5').update('copy me').digest('hex')}"`);
    expect(await text(bucket, 'dst/copy.txt')).toBe('copy me');
    expect(
      (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst/copy.txt' }))).Metadata,
    ).toEqual({
      m: '1',
    });
    expect(
      await failure(
        client.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: source,
            CopySource: `${bucket}/${encodeURIComponent(source)}`,
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidRequest', status: 400 });
  });

  it('deletes in batches', async () => {
    const bucket = await newBucket();
    for (const key of ['d/1', 'd/2', 'd/3'])
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const out = await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: 'd/1' }, { Key: 'd/2' }, { Key: 'nope' }] },
      }),
    );
    expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['d/1', 'd/2', 'nope']);
    const left = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(left.Contents?.map((c) => c.Key)).toEqual(['d/3']);
  });

  it('honours conditional reads and writes', async () => {
    const bucket = await newBucket();
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'v1' }));
    expect(
      await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfNoneMatch: put.ETag }))),
    ).toMatchObject({
      status: 304,
    });
    expect(
      await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: '"nope"' }))),
    ).toMatchObject({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(
      await failure(
        client.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'v2', IfNoneMatch: '*' })),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
  });
});

describe('listing', () => {
  it('pages ListObjectsV2 and ListObjects with prefixes and delimiters', async () => {
    const bucket = await newBucket();
    const keys = ['a/1', 'a/2', 'b/1', 'c', 'd', 'e/f/g'];
    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));

    const top = await client.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/', 'e/']);
    expect(top.Contents?.map((c) => c.Key)).toEqual(['c', 'd']);

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: 2, ContinuationToken: token }),
      );
      seen.push(
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
        ...(page.Contents ?? []).map((c) => c.Key ?? ''),
      );
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(token !== undefined);
    } while (token);
    expect(seen.sort()).toEqual(['a/', 'b/', 'c', 'd', 'e/']);

    const underA = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/' }));
    expect(underA.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2']);

    const v1 = await client.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 3 }));
    expect(v1.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2', 'b/1']);
    expect(v1.IsTruncated).toBe(true);
    const v1next = await client.send(new ListObjectsCommand({ Bucket: bucket, Marker: v1.NextMarker }));
    expect(v1next.Contents?.map((c) => c.Key)).toEqual(['c', 'd', 'e/f/g']);
  });
});

describe('encryption and bucket configuration', () => {
  it('gives new buckets SSE-S3 and labels objects with it', async () => {
    const bucket = await newBucket();
    const enc = await client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules).toEqual([
      { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
    ]);
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' }));
    expect(put.ServerSideEncryption).toBe('AES256');
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'x' }));
    expect(head.ServerSideEncryption).toBe('AES256');
  });

  it('answers ServerSideEncryptionConfigurationNotFoundError for a legacy bucket, and resets on delete', async () => {
    const bucket = await newBucket();
    s3.removeDefaultEncryption(bucket);
    expect(await failure(client.send(new GetBucketEncryptionCommand({ Bucket: bucket })))).toMatchObject({
      name: 'ServerSideEncryptionConfigurationNotFoundError',
      status: 404,
    });
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'p' }));
    expect(put.ServerSideEncryption).toBeUndefined();

    await client.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'cmk-1' },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    );
    const enc = await client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]).toEqual({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'cmk-1' },
      BucketKeyEnabled: true,
    });
    await client.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
    const reset = await client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    expect(
      reset.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    ).toBe('AES256');
  });

  it('validates, stores and deletes bucket policies', async () => {
    const bucket = await newBucket();
    expect(await failure(client.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchBucketPolicy',
      status: 404,
    });
    expect(
      await failure(client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: 'not json' }))),
    ).toMatchObject({
      name: 'MalformedPolicy',
      status: 400,
    });
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    expect((await client.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy).toBe(policy);

    const otherBucket = JSON.stringify({
      Statement: [
        { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::someone-else/*' },
      ],
    });
    expect(
      await failure(client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: otherBucket }))),
    ).toMatchObject({
      name: 'MalformedPolicy',
    });
    const open = JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` },
      ],
    });
    expect(
      await failure(client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: open }))),
    ).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
    await client.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    expect(await failure(client.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchBucketPolicy',
    });
  });

  it('blocks public access on new buckets until the configuration is deleted', async () => {
    const bucket = await newBucket();
    const initial = await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    expect(initial.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    await client.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    expect(await failure(client.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchPublicAccessBlockConfiguration',
      status: 404,
    });
    await client.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: false },
      }),
    );
    expect(
      (await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration,
    ).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
  });

  it('tags buckets and objects', async () => {
    const bucket = await newBucket();
    expect(await failure(client.send(new GetBucketTaggingCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchTagSet',
      status: 404,
    });
    await client.send(
      new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'project', Value: 'tv' }] } }),
    );
    expect((await client.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet).toEqual([
      { Key: 'project', Value: 'tv' },
    ]);
    await client.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
    expect(await failure(client.send(new GetBucketTaggingCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchTagSet',
    });

    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 't', Body: 't', Tagging: 'stage=raw&note=two%20words' }),
    );
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 't' }))).TagSet).toEqual([
      { Key: 'stage', Value: 'raw' },
      { Key: 'note', Value: 'two words' },
    ]);
    expect((await client.send(new GetObjectCommand({ Bucket: bucket, Key: 't' }))).TagCount).toBe(2);
    await client.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: 't',
        Tagging: { TagSet: [{ Key: 'stage', Value: 'validated' }] },
      }),
    );
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 't' }))).TagSet).toEqual([
      { Key: 'stage', Value: 'validated' },
    ]);
    await client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 't' }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 't' }))).TagSet).toEqual([]);
    const tooMany = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(
      await failure(
        client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 't', Tagging: { TagSet: tooMany } })),
      ),
    ).toMatchObject({ status: 400 });
  });
});

describe('versioning', () => {
  it('keeps versions, lays delete markers and lists them', async () => {
    const bucket = await newBucket();
    expect((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBeUndefined();
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    expect((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');

    const v1 = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'one' }));
    const v2 = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'two' }));
    expect(v1.VersionId).toBeDefined();
    expect(v2.VersionId).not.toBe(v1.VersionId);
    expect(await text(bucket, 'doc')).toBe('two');
    expect(await text(bucket, 'doc', { VersionId: v1.VersionId })).toBe('one');

    const del = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc' }));
    expect(del.DeleteMarker).toBe(true);
    expect(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' })))).toMatchObject({
      name: 'NoSuchKey',
    });
    const versions = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual([v2.VersionId, v1.VersionId]);
    expect(versions.DeleteMarkers).toEqual([
      expect.objectContaining({ Key: 'doc', IsLatest: true, VersionId: del.VersionId }),
    ]);

    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: del.VersionId }));
    expect(await text(bucket, 'doc')).toBe('two');
    expect(
      await failure(
        client.send(
          new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
        ),
      ),
    ).toMatchObject({ name: 'NoSuchVersion', status: 404 });
  });
});

describe('multipart uploads', () => {
  it('uploads >10 MiB through lib-storage with a multipart ETag', async () => {
    const bucket = await newBucket();
    const body = randomBytes(12 * 1024 * 1024 + 123);
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: 'big/file.bin', Body: body },
      partSize: 5 * 1024 * 1024,
    });
    const done = await upload.done();
    const md5s = [0, 1, 2].map((i) =>
      createHash('md5')
        .update(body.subarray(i * 5 * 1024 * 1024, (i + 1) * 5 * 1024 * 1024))
        .digest(),
    );
    const expected = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-3"`;
    expect(done.ETag).toBe(expected);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/file.bin' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toBe(expected);
    const got = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'big/file.bin', ChecksumMode: 'ENABLED' }),
    );
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('lists, rejects bad parts and aborts', async () => {
    const bucket = await newBucket();
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const part1 = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(5 * 1024 * 1024, 1),
      }),
    );
    await client.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, Body: 'tail' }),
    );
    const parts = await client.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 5 * 1024 * 1024],
      [2, 4],
    ]);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads?.map((u) => u.UploadId)).toEqual([UploadId]);

    const badPart = await failure(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: part1.ETag },
              { PartNumber: 2, ETag: '"0000"' },
            ],
          },
        }),
      ),
    );
    expect(badPart).toMatchObject({ name: 'InvalidPart', status: 400 });

    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId }));
    expect(
      await failure(client.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId }))),
    ).toMatchObject({
      name: 'NoSuchUpload',
      status: 404,
    });
  });

  it('checks the part checksums listed on completion', async () => {
    const bucket = await newBucket();
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ck', ChecksumAlgorithm: 'CRC32' }),
    );
    const part = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'ck',
        UploadId,
        PartNumber: 1,
        Body: 'only',
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    expect(part.ChecksumCRC32).toBeDefined();
    const complete = (ChecksumCRC32: string | undefined) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'ck',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32 }] },
        }),
      );
    expect(await failure(complete('AAAAAA=='))).toMatchObject({ name: 'InvalidPart', status: 400 });
    const done = await complete(part.ChecksumCRC32);
    expect(done.ChecksumCRC32).toMatch(/-1$/);
    expect(done.ChecksumType).toBe('COMPOSITE');
  });

  it('refuses parts under 5 MiB before the last', async () => {
    const bucket = await newBucket();
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'small' }),
    );
    const p1 = await client.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'small', UploadId, PartNumber: 1, Body: 'a' }),
    );
    const p2 = await client.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'small', UploadId, PartNumber: 2, Body: 'b' }),
    );
    expect(
      await failure(
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: 'small',
            UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: p1.ETag },
                { PartNumber: 2, ETag: p2.ETag },
              ],
            },
          }),
        ),
      ),
    ).toMatchObject({ name: 'EntityTooSmall', status: 400 });
  });
});

describe('notifications', () => {
  async function notifyingBucket(versioned = false): Promise<string> {
    const bucket = await newBucket();
    if (versioned) {
      await client.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    }
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              Id: 'training-data',
              LambdaFunctionArn: FUNCTION_ARN,
              Events: ['s3:ObjectCreated:*'],
              Filter: {
                Key: {
                  FilterRules: [
                    { Name: 'prefix', Value: 'training/' },
                    { Name: 'suffix', Value: '.jsonl' },
                  ],
                },
              },
            },
          ],
        },
      }),
    );
    return bucket;
  }

  it('stores the configuration as sent', async () => {
    const bucket = await notifyingBucket();
    const config = await client.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    expect(config.LambdaFunctionConfigurations).toEqual([
      {
        Id: 'training-data',
        LambdaFunctionArn: FUNCTION_ARN,
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'Prefix', Value: 'training/' },
              { Name: 'Suffix', Value: '.jsonl' },
            ],
          },
        },
      },
    ]);
  });

  it('rejects overlapping configurations', async () => {
    const bucket = await newBucket();
    const rule = { LambdaFunctionArn: FUNCTION_ARN, Events: ['s3:ObjectCreated:*' as const] };
    expect(
      await failure(
        client.send(
          new PutBucketNotificationConfigurationCommand({
            Bucket: bucket,
            NotificationConfiguration: {
              LambdaFunctionConfigurations: [
                { ...rule, Id: 'one' },
                { ...rule, Id: 'two', Events: ['s3:ObjectCreated:Put'] },
              ],
            },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidArgument', status: 400 });
  });

  it('delivers ObjectCreated events asynchronously with the key URL-encoded', async () => {
    const bucket = await notifyingBucket();
    let release: () => void = () => {};
    invokeGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const key = 'training/my first seté.jsonl';
    const put = await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"prompt":"a"}\n' }),
    );
    // The PUT has been answered while the function is still held.
    expect(invocations).toHaveLength(0);
    release();
    await s3.notificationsSettled();

    expect(invocations).toHaveLength(1);
    const [invocation] = invocations;
    expect(invocation?.functionArn).toBe(FUNCTION_ARN);
    const record = invocation?.event.Records[0];
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:test' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'training-data',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key: 'training/my+first+set%C3%A9.jsonl', size: 15, eTag: put.ETag?.replace(/"/g, '') },
      },
    });
    expect(record?.s3.object['versionId']).toBeUndefined();
    expect(record?.s3.object['sequencer']).toMatch(/^[0-9A-F]+$/);
    expect(new Date(String(record?.['eventTime'])).toISOString()).toBe(record?.['eventTime']);
    expect(decodeEventKey(String(record?.s3.object['key']))).toBe(key);
  });

  it('encodes a literal plus as %2B and filters on prefix and suffix', async () => {
    const bucket = await notifyingBucket();
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'training/a+b.jsonl', Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/a.jsonl', Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'training/a.txt', Body: 'x' }));
    await s3.notificationsSettled();
    expect(invocations.map((i) => i.event.Records[0]?.s3.object['key'])).toEqual(['training/a%2Bb.jsonl']);
    expect(decodeEventKey('training/a%2Bb.jsonl')).toBe('training/a+b.jsonl');
  });

  it('matches filter values written URL-encoded against the raw key', async () => {
    const bucket = await newBucket();
    await client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              LambdaFunctionArn: FUNCTION_ARN,
              Events: ['s3:ObjectCreated:Put'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'my+data/' }] } },
            },
          ],
        },
      }),
    );
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'my data/x.jsonl', Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'my+data/x.jsonl', Body: 'x' }));
    await s3.notificationsSettled();
    expect(invocations.map((i) => i.event.Records[0]?.s3.object['key'])).toEqual(['my+data/x.jsonl']);
    expect(invocations[0]?.event.Records[0]?.s3.configurationId).toMatch(/.+/);
  });

  it('names copies and multipart completions, carries version ids and increasing sequencers', async () => {
    const bucket = await notifyingBucket(true);
    const put = await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'training/v.jsonl', Body: 'x' }),
    );
    await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'training/copy.jsonl',
        CopySource: `${bucket}/training/v.jsonl`,
      }),
    );
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'training/mp.jsonl' }),
    );
    const part = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'training/mp.jsonl',
        UploadId,
        PartNumber: 1,
        Body: 'only part',
      }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'training/mp.jsonl',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.notificationsSettled();
    const records = invocations.map((i) => i.event.Records[0]);
    expect(records.map((r) => r?.['eventName'])).toEqual([
      'ObjectCreated:Put',
      'ObjectCreated:Copy',
      'ObjectCreated:CompleteMultipartUpload',
    ]);
    expect(records[0]?.s3.object['versionId']).toBe(put.VersionId);
    const sequencers = records.map((r) => BigInt(`0x${String(r?.s3.object['sequencer'])}`));
    expect(sequencers[0]! < sequencers[1]! && sequencers[1]! < sequencers[2]!).toBe(true);
  });

  it('redelivers the last ObjectCreated event on demand', async () => {
    const bucket = await notifyingBucket();
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'training/r.jsonl', Body: 'x' }));
    await s3.notificationsSettled();
    expect(await s3.redeliver(bucket, 'training/r.jsonl', 2)).toBe(2);
    expect(invocations).toHaveLength(3);
    expect(invocations[1]?.event).toEqual(invocations[0]?.event);
    await expect(s3.redeliver(bucket, 'training/never.jsonl', 1)).rejects.toMatchObject({
      code: 'NoSuchKey',
    });
  });

  it('notifies for in-process writes and tells listeners', async () => {
    const bucket = await notifyingBucket();
    const seen: string[] = [];
    const stop = s3.onObjectCreated((n) => seen.push(`${n.eventName} ${n.key}`));
    const { etag } = await s3.putObject(bucket, 'training/from-host.jsonl', Buffer.from('{}'));
    stop();
    await s3.notificationsSettled();
    expect(seen).toEqual(['ObjectCreated:Put training/from-host.jsonl']);
    expect(invocations).toHaveLength(1);
    expect(etag).toBe(`"${createHash('md5').update('{}').digest('hex')}"`);
    expect((await s3.getObject(bucket, 'training/from-host.jsonl')).toString()).toBe('{}');
    expect(await s3.headObject(bucket, 'training/missing.jsonl')).toBeUndefined();
    await expect(s3.getObject(bucket, 'training/missing.jsonl')).rejects.toMatchObject({ code: 'NoSuchKey' });
  });
});

describe('SSE-KMS', () => {
  it('envelope-encrypts with the named key and the object ARN as encryption context', async () => {
    const bucket = await newBucket();
    const keyArn = `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:key/cmk-a`;
    const put = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'secret.jsonl',
        Body: 'TOP-SECRET-PAYLOAD',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'cmk-a',
      }),
    );
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(put.SSEKMSKeyId).toBe(keyArn);
    expect(kms.calls.at(-1)).toEqual({
      op: 'generateDataKey',
      keyId: 'cmk-a',
      context: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/secret.jsonl` },
    });
    expect(JSON.stringify(s3.snapshot())).not.toContain(Buffer.from('TOP-SECRET-PAYLOAD').toString('base64'));

    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret.jsonl' }));
    expect(await got.Body?.transformToString()).toBe('TOP-SECRET-PAYLOAD');
    expect(got.SSEKMSKeyId).toBe(keyArn);
    expect(kms.calls.at(-1)?.op).toBe('decrypt');
  });

  it('uses the bucket default and alias/aws/s3 when no key is named', async () => {
    const bucket = await newBucket();
    await client.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
        },
      }),
    );
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(kms.calls.at(-1)?.keyId).toBe('alias/aws/s3');
    expect(await text(bucket, 'k')).toBe('v');
  });

  it('fails reads and writes with KMS.DisabledException once the key is disabled', async () => {
    const bucket = await newBucket();
    const keyArn = `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:key/cmk-b`;
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'k',
        Body: 'v',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyArn,
      }),
    );
    kms.disabled.add(keyArn);
    try {
      expect(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))).toMatchObject({
        name: 'KMS.DisabledException',
        status: 400,
      });
      expect(
        await failure(
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: 'k2',
              Body: 'v',
              ServerSideEncryption: 'aws:kms',
              SSEKMSKeyId: keyArn,
            }),
          ),
        ),
      ).toMatchObject({ name: 'KMS.DisabledException', status: 400 });
      // HEAD reads only metadata, so it still works.
      expect(
        (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).ServerSideEncryption,
      ).toBe('aws:kms');
    } finally {
      kms.disabled.delete(keyArn);
    }
    expect(await text(bucket, 'k')).toBe('v');
  });

  it('encrypts multipart uploads with one data key generated at initiation', async () => {
    const bucket = await newBucket();
    const body = randomBytes(11 * 1024 * 1024);
    await new Upload({
      client,
      params: {
        Bucket: bucket,
        Key: 'mp-kms',
        Body: body,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'cmk-c',
      },
      partSize: 5 * 1024 * 1024,
    }).done();
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-kms' }));
    expect(got.ServerSideEncryption).toBe('aws:kms');
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });
});

describe('persistence', () => {
  it('snapshots to JSON with bodies as files under dataDir and restores', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 's3-data-'));
    try {
      const first = new S3Service({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION, dataDir });
      const local = await startTestEndpoint([first]);
      const c = new S3Client(localClientConfig(local.url));
      const body = randomBytes(2 * 1024 * 1024);
      await c.send(new CreateBucketCommand({ Bucket: 'persisted' }));
      await c.send(new PutObjectCommand({ Bucket: 'persisted', Key: 'blob.bin', Body: body }));
      const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as unknown;
      c.destroy();
      await local.close();
      expect(JSON.stringify(snapshot).length).toBeLessThan(10_000);
      expect((await readdir(dataDir)).length).toBe(1);

      const second = new S3Service({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION, dataDir });
      second.restore(snapshot);
      expect((await second.getObject('persisted', 'blob.bin')).equals(body)).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('without a dataDir, bodies are files in a temporary directory that close() removes', async () => {
    const s3 = new S3Service({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
    const local = await startTestEndpoint([s3]);
    const c = new S3Client(localClientConfig(local.url));
    await c.send(new CreateBucketCommand({ Bucket: 'mem' }));
    await c.send(new PutObjectCommand({ Bucket: 'mem', Key: 'k', Body: 'on disk, not in memory' }));
    c.destroy();
    await local.close();
    const dir = (s3 as unknown as { store: { blobs: { dir: string } } }).store.blobs.dir;
    expect(path.basename(dir)).toMatch(/^tunevault-s3-/);
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect((await readFile(path.join(dir, files[0] as string))).toString()).toBe('on disk, not in memory');
    expect((await s3.getObject('mem', 'k')).toString()).toBe('on disk, not in memory');
    await s3.close();
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
