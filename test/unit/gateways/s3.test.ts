/** S3Gateway: what the gateway sends and how it reads AWS's answers (aws-sdk-client-mock); which errors mean "absent" or "already done", and that every other error keeps its AWS name. One file per gateway, so a mutant in one loads only its own SDK client. */
import {
  CopyObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Readable } from 'node:stream';
import { S3Gateway } from '../../../functions/shared/aws/s3';

const awsError = (name: string, message = `${name} message`) =>
  Object.assign(new Error(message), { name, $metadata: {} });
const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

/** What GetObject's Body offers the gateway: a stream that can also be read whole as text. */
const body = (text: string) =>
  Object.assign(Readable.from([Buffer.from(text)]), {
    transformToString: async (encoding?: string) =>
      Buffer.from(text).toString((encoding ?? 'utf8') as BufferEncoding),
  }) as never;

describe('S3Gateway', () => {
  const gw = () => new S3Gateway(new S3Client({}));

  it('reads the default encryption of the first rule: algorithm, key, bucket key', async () => {
    s3.on(GetBucketEncryptionCommand)
      .resolvesOnce({
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:k' },
              BucketKeyEnabled: true,
            },
          ],
        },
      })
      .resolvesOnce({
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      })
      .resolvesOnce({ ServerSideEncryptionConfiguration: { Rules: [] } });
    const g = gw();
    await expect(g.getDefaultEncryption('b')).resolves.toEqual({
      algorithm: 'aws:kms',
      kmsKeyId: 'arn:k',
      bucketKeyEnabled: true,
    });
    await expect(g.getDefaultEncryption('b')).resolves.toEqual({
      algorithm: 'AES256',
      bucketKeyEnabled: false,
    });
    await expect(g.getDefaultEncryption('b')).resolves.toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(GetBucketEncryptionCommand, { Bucket: 'b' });
  });

  it('reads the four Block Public Access flags (absent = off), or undefined when not configured', async () => {
    s3.on(GetPublicAccessBlockCommand)
      .resolvesOnce({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      })
      .rejectsOnce(awsError('NoSuchPublicAccessBlockConfiguration'))
      .resolvesOnce({});
    const g = gw();
    await expect(g.getPublicAccessBlock('b')).resolves.toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
    await expect(g.getPublicAccessBlock('b')).resolves.toBeUndefined();
    await expect(g.getPublicAccessBlock('b')).resolves.toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(GetPublicAccessBlockCommand, { Bucket: 'b' });
  });

  it('reads each Block Public Access flag as it is, false as false', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: false,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: false,
      },
    });
    await expect(gw().getPublicAccessBlock('b')).resolves.toEqual({
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    });
  });

  it('writes a text body in one PutObject, typed as asked', async () => {
    s3.on(PutObjectCommand).resolves({});
    await gw().upload('o', 'reports/r.json', '{"ok":true}', 'application/json');
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'o',
      Key: 'reports/r.json',
      Body: '{"ok":true}',
      ContentType: 'application/json',
    });
  });

  it('reads the bucket policy, or undefined when there is none', async () => {
    s3.on(GetBucketPolicyCommand).resolvesOnce({ Policy: '{}' }).rejectsOnce(awsError('NoSuchBucketPolicy'));
    const g = gw();
    await expect(g.getBucketPolicy('b')).resolves.toBe('{}');
    await expect(g.getBucketPolicy('b')).resolves.toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(GetBucketPolicyCommand, { Bucket: 'b' });
  });

  it('heads an object version, unquoting the ETag; each not-found answer reads as undefined', async () => {
    s3.on(HeadObjectCommand)
      .resolvesOnce({
        ContentLength: 5,
        ETag: '"e1"',
        VersionId: 'v1',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:k',
      })
      .resolvesOnce({})
      .rejectsOnce(awsError('NotFound'))
      .rejectsOnce(awsError('NoSuchKey'))
      .rejectsOnce(awsError('NoSuchVersion'))
      .rejectsOnce(awsError('Forbidden'));
    const g = gw();
    await expect(g.headObject('b', 'k', 'v1')).resolves.toEqual({
      size: 5,
      etag: 'e1',
      versionId: 'v1',
      sse: 'aws:kms',
      kmsKeyId: 'arn:k',
    });
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'b', Key: 'k', VersionId: 'v1' });
    await expect(g.headObject('b', 'k')).resolves.toEqual({ size: 0 });
    for (let i = 0; i < 3; i++) await expect(g.headObject('b', 'k')).resolves.toBeUndefined();
    await expect(g.headObject('b', 'k')).rejects.toMatchObject({ name: 'Forbidden' });
  });

  it('reads a small text object, or undefined when the key does not exist', async () => {
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: body('{"a":1}') })
      .rejectsOnce(awsError('NoSuchKey'))
      .resolvesOnce({});
    const g = gw();
    await expect(g.getText('b', 'k.job.json')).resolves.toBe('{"a":1}');
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'b', Key: 'k.job.json' });
    await expect(g.getText('b', 'k')).resolves.toBeUndefined();
    await expect(g.getText('b', 'k')).resolves.toBeUndefined();
  });

  it('streams an object version, or undefined when that version or key is gone', async () => {
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: body('line\n') })
      .rejectsOnce(awsError('NoSuchVersion'))
      .rejectsOnce(awsError('NoSuchKey'))
      .rejectsOnce(awsError('AccessDenied'));
    const g = gw();
    const stream = await g.openStream('b', 'k', 'v1');
    expect(stream).toBeDefined();
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'b', Key: 'k', VersionId: 'v1' });
    await expect(g.openStream('b', 'k', 'v1')).resolves.toBeUndefined();
    await expect(g.openStream('b', 'k')).resolves.toBeUndefined();
    await expect(g.openStream('b', 'k')).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('writes text under SSE-KMS with the key given and a bucket key, typed by extension', async () => {
    s3.on(PutObjectCommand).resolves({});
    const g = gw();
    await g.uploadEncrypted('o', 'runs/r/guard-report.json', '{}', 'arn:k');
    await g.uploadEncrypted('o', 'runs/r/validation.jsonl', 'x\n', 'arn:k');
    const calls = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      {
        Bucket: 'o',
        Key: 'runs/r/guard-report.json',
        Body: '{}',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:k',
        BucketKeyEnabled: true,
        ContentType: 'application/json',
      },
      expect.objectContaining({ Key: 'runs/r/validation.jsonl', ContentType: 'application/jsonl' }),
    ]);
  });

  it('streams a body to S3 with the same encryption (lib-storage Upload)', async () => {
    s3.on(PutObjectCommand).resolves({});
    await gw().uploadEncrypted('o', 'runs/r/redacted.jsonl', Readable.from([Buffer.from('a\n')]), 'arn:k');
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'o',
      Key: 'runs/r/redacted.jsonl',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:k',
      BucketKeyEnabled: true,
      ContentType: 'application/jsonl',
    });
    // lib-storage read the stream and sent its bytes, not the stream itself.
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body).not.toBeInstanceOf(Readable);
  });

  it('copies one version server-side under the CMK, with the key URL-encoded but its slashes kept', async () => {
    s3.on(CopyObjectCommand).resolves({});
    await expect(
      gw().copyVersionEncrypted(
        // The version pins the content: the ETag is not sent as a condition as well.
        { bucket: 't', key: 'training/a b+é.jsonl', versionId: 'v 1', etag: 'abc' },
        'o',
        'runs/r/training.jsonl',
        'arn:k',
      ),
    ).resolves.toBe('copied');
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'o',
      Key: 'runs/r/training.jsonl',
      CopySource: 't/training/a%20b%2B%C3%A9.jsonl?versionId=v%201',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:k',
      BucketKeyEnabled: true,
      MetadataDirective: 'REPLACE',
      ContentType: 'application/jsonl',
      TaggingDirective: 'REPLACE',
    });
  });

  it('pins an unversioned copy to the ETag judged, and reads the answers gone / changed', async () => {
    s3.on(CopyObjectCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('PreconditionFailed'))
      .rejectsOnce(awsError('NoSuchKey'))
      .rejectsOnce(awsError('NoSuchVersion'))
      .rejectsOnce(awsError('AccessDenied'));
    const g = gw();
    const source = { bucket: 't', key: 'k', etag: 'e1' };
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).resolves.toBe('copied');
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toMatchObject({
      CopySource: 't/k',
      CopySourceIfMatch: '"e1"',
    });
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).resolves.toBe('changed');
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).resolves.toBe('gone');
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).resolves.toBe('gone');
    await expect(g.copyVersionEncrypted(source, 'o', 'c', 'arn:k')).rejects.toMatchObject({
      name: 'AccessDenied',
    });
  });

  it('merges tags into the version: ours first and replacing, others kept, at most ten', async () => {
    s3.on(GetObjectTaggingCommand).resolves({
      TagSet: [
        { Key: 'tunevault:status', Value: 'old' },
        ...Array.from({ length: 10 }, (_, i) => ({ Key: `owner-${i}`, Value: `${i}` })),
      ],
    });
    s3.on(PutObjectTaggingCommand).resolves({});
    await gw().mergeObjectTags('t', 'k', { 'tunevault:status': 'trained', 'tunevault:model': 'm' }, 'v1');
    expect(s3).toHaveReceivedCommandWith(GetObjectTaggingCommand, { Bucket: 't', Key: 'k', VersionId: 'v1' });
    const put = s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: 't', Key: 'k', VersionId: 'v1' });
    expect(put?.Tagging?.TagSet).toEqual([
      { Key: 'tunevault:status', Value: 'trained' },
      { Key: 'tunevault:model', Value: 'm' },
      ...Array.from({ length: 8 }, (_, i) => ({ Key: `owner-${i}`, Value: `${i}` })),
    ]);
  });

  it('keeps an existing tag that has no value, as an empty value', async () => {
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [{ Key: 'flag' } as never] });
    s3.on(PutObjectTaggingCommand).resolves({});
    await gw().mergeObjectTags('t', 'k', { a: '1' });
    expect(s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input.Tagging?.TagSet).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'flag', Value: '' },
    ]);
  });

  it('merges into an object without tags', async () => {
    s3.on(GetObjectTaggingCommand).resolves({});
    s3.on(PutObjectTaggingCommand).resolves({});
    await gw().mergeObjectTags('t', 'k', { a: '1' });
    expect(s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input.Tagging?.TagSet).toEqual([
      { Key: 'a', Value: '1' },
    ]);
  });

  it('tags an object that may be gone: false only when S3 says it does not exist', async () => {
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [{ Key: 'owner', Value: 'ml' }] });
    s3.on(PutObjectTaggingCommand).resolves({});
    await expect(
      gw().mergeObjectTagsIfPresent('b', 'k', { 'tunevault:status': 'failed' }, 'v1'),
    ).resolves.toBe(true);
    expect(s3).toHaveReceivedCommandWith(PutObjectTaggingCommand, {
      VersionId: 'v1',
      Tagging: {
        TagSet: [
          { Key: 'tunevault:status', Value: 'failed' },
          { Key: 'owner', Value: 'ml' },
        ],
      },
    });

    for (const gone of ['NoSuchKey', 'NoSuchVersion']) {
      s3.on(GetObjectTaggingCommand).rejects(awsError(gone));
      await expect(gw().mergeObjectTagsIfPresent('b', 'k', {})).resolves.toBe(false);
    }
    // Without s3:ListBucket S3 answers a missing object with AccessDenied: that is not "gone".
    s3.on(GetObjectTaggingCommand).rejects(awsError('AccessDenied'));
    await expect(gw().mergeObjectTagsIfPresent('b', 'k', {})).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('S3Gateway: no default encryption', () => {
  it('reads "no default encryption" as undefined', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(awsError('ServerSideEncryptionConfigurationNotFoundError'));
    await expect(new S3Gateway(new S3Client({})).getDefaultEncryption('b')).resolves.toBeUndefined();
  });
});
