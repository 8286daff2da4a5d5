/** S3 as the workflow needs it: bucket posture, object reads and encrypted writes. */
import {
  CopyObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { s3Client } from './clients';
import { isAwsError, orUndefined } from './errors';

export interface DefaultEncryption {
  algorithm: string;
  kmsKeyId?: string;
  bucketKeyEnabled: boolean;
}

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export interface ObjectHead {
  size: number;
  etag?: string;
  versionId?: string;
  sse?: string;
  kmsKeyId?: string;
}

export class S3Gateway {
  constructor(private readonly s3: S3Client = s3Client()) {}

  /** undefined when the bucket has no default encryption (only possible on legacy buckets). */
  async getDefaultEncryption(bucket: string): Promise<DefaultEncryption | undefined> {
    const out = await orUndefined(
      this.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })),
      'ServerSideEncryptionConfigurationNotFoundError',
    );
    const rule = out?.ServerSideEncryptionConfiguration?.Rules?.[0];
    const byDefault = rule?.ApplyServerSideEncryptionByDefault;
    if (!byDefault?.SSEAlgorithm) return undefined;
    return {
      algorithm: byDefault.SSEAlgorithm,
      ...(byDefault.KMSMasterKeyID ? { kmsKeyId: byDefault.KMSMasterKeyID } : {}),
      bucketKeyEnabled: rule?.BucketKeyEnabled === true,
    };
  }

  async getPublicAccessBlock(bucket: string): Promise<PublicAccessBlock | undefined> {
    const out = await orUndefined(
      this.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })),
      'NoSuchPublicAccessBlockConfiguration',
    );
    const c = out?.PublicAccessBlockConfiguration;
    if (!c) return undefined;
    return {
      BlockPublicAcls: c.BlockPublicAcls === true,
      IgnorePublicAcls: c.IgnorePublicAcls === true,
      BlockPublicPolicy: c.BlockPublicPolicy === true,
      RestrictPublicBuckets: c.RestrictPublicBuckets === true,
    };
  }

  async getBucketPolicy(bucket: string): Promise<string | undefined> {
    const out = await orUndefined(
      this.s3.send(new GetBucketPolicyCommand({ Bucket: bucket })),
      'NoSuchBucketPolicy',
    );
    return out?.Policy;
  }

  async headObject(bucket: string, key: string, versionId?: string): Promise<ObjectHead | undefined> {
    const out = await orUndefined(
      this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })),
      'NotFound',
      'NoSuchKey',
      'NoSuchVersion',
    );
    if (!out) return undefined;
    return {
      size: out.ContentLength ?? 0,
      ...(out.ETag ? { etag: out.ETag.replace(/"/g, '') } : {}),
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      ...(out.ServerSideEncryption ? { sse: out.ServerSideEncryption } : {}),
      ...(out.SSEKMSKeyId ? { kmsKeyId: out.SSEKMSKeyId } : {}),
    };
  }

  /** A small object's text (sidecars, metrics), or undefined when it does not exist. */
  async getText(bucket: string, key: string): Promise<string | undefined> {
    const out = await orUndefined(
      this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
      'NoSuchKey',
    );
    return out?.Body ? await out.Body.transformToString('utf8') : undefined;
  }

  /** Streams an object version; undefined when it is gone. */
  async openStream(bucket: string, key: string, versionId?: string): Promise<Readable | undefined> {
    const out = await orUndefined(
      this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })),
      'NoSuchKey',
      'NoSuchVersion',
    );
    return out?.Body as Readable | undefined;
  }

  /** Streams a body into S3 under SSE-KMS with the given key (multipart for large bodies). */
  async uploadEncrypted(
    bucket: string,
    key: string,
    body: Readable | string,
    kmsKeyArn: string,
  ): Promise<void> {
    await this.put({
      Bucket: bucket,
      Key: key,
      Body: body,
      ServerSideEncryption: 'aws:kms' as const,
      SSEKMSKeyId: kmsKeyArn,
      BucketKeyEnabled: true,
      ContentType: key.endsWith('.json') ? 'application/json' : 'application/jsonl',
    });
  }

  /** Streams a body into S3 under the bucket's default encryption (multipart for large bodies). */
  async upload(bucket: string, key: string, body: Readable | string, contentType: string): Promise<void> {
    await this.put({ Bucket: bucket, Key: key, Body: body, ContentType: contentType });
  }

  private async put(params: PutObjectCommandInput & { Body: Readable | string }): Promise<void> {
    if (typeof params.Body === 'string') {
      await this.s3.send(new PutObjectCommand(params));
      return;
    }
    await new Upload({ client: this.s3, params, queueSize: 2, partSize: 8 * 1024 * 1024 }).done();
  }

  /**
   * Server-side copy of one object version under SSE-KMS with the given key: the bytes never pass
   * through the caller. Without a versionId, the ETag pins the content. 'gone' when the version no
   * longer exists, 'changed' when the ETag no longer matches.
   */
  async copyVersionEncrypted(
    source: { bucket: string; key: string; versionId?: string | undefined; etag?: string | undefined },
    bucket: string,
    key: string,
    kmsKeyArn: string,
  ): Promise<'copied' | 'gone' | 'changed'> {
    const from = `${source.bucket}/${encodeURIComponent(source.key).replace(/%2F/g, '/')}`;
    try {
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: source.versionId ? `${from}?versionId=${encodeURIComponent(source.versionId)}` : from,
          ...(!source.versionId && source.etag ? { CopySourceIfMatch: `"${source.etag}"` } : {}),
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: kmsKeyArn,
          BucketKeyEnabled: true,
          MetadataDirective: 'REPLACE',
          ContentType: 'application/jsonl',
          TaggingDirective: 'REPLACE',
        }),
      );
      return 'copied';
    } catch (err) {
      if (isAwsError(err, 'NoSuchKey', 'NoSuchVersion')) return 'gone';
      if (isAwsError(err, 'PreconditionFailed')) return 'changed';
      throw err;
    }
  }

  /** Adds or replaces the given tags, keeping the object's other tags. */
  async mergeObjectTags(
    bucket: string,
    key: string,
    tags: Record<string, string>,
    versionId?: string,
  ): Promise<void> {
    const current = await this.s3.send(
      new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
    );
    // S3 allows 10 tags per object: ours come first so a full tag set cannot crowd them out.
    const merged = new Map(Object.entries(tags));
    for (const t of current.TagSet ?? []) if (t.Key && !merged.has(t.Key)) merged.set(t.Key, t.Value ?? '');
    await this.s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: key,
        VersionId: versionId,
        Tagging: { TagSet: [...merged].slice(0, 10).map(([Key, Value]) => ({ Key, Value })) },
      }),
    );
  }

  /**
   * mergeObjectTags for an object that may have been deleted since: false when the key (or the
   * version) no longer exists. S3 says so (404) only to a caller that may s3:ListBucket; to
   * others it answers 403 AccessDenied, which bubbles like any other error.
   */
  async mergeObjectTagsIfPresent(
    bucket: string,
    key: string,
    tags: Record<string, string>,
    versionId?: string,
  ): Promise<boolean> {
    try {
      await this.mergeObjectTags(bucket, key, tags, versionId);
      return true;
    } catch (err) {
      if (isAwsError(err, 'NoSuchKey', 'NoSuchVersion')) return false;
      throw err;
    }
  }
}
