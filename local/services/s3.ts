/**
 * The embedded S3: path-style REST-XML, faithful enough for the unmodified AWS SDK v3 and the AWS
 * CLI (aws-chunked uploads with trailing checksums, multipart, ranged and conditional reads), with
 * the behaviours TuneVault leans on: default SSE-S3 on new buckets, SSE-KMS envelope encryption
 * through the embedded KMS, versioning, tagging, policies, and asynchronous Lambda notifications.
 *
 * This file is the service: its operation table and its in-process face (ObjectStore). Routing is
 * in s3/routes.ts, the handlers in s3/objects.ts, s3/buckets.ts and s3/multipart.ts (acting through
 * s3/context.ts), the resource model in s3/store.ts and s3/uploads.ts, the IAM map in s3/access.ts.
 */
import {
  AwsError,
  type InvokeLambda,
  type KeyStore,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  type ObjectStore,
} from '../core/types';
import type { Authorizer } from '../iam/authorizer';
import type { AccessRequest } from '../iam/types';
import { s3AccessRequests } from './s3/access';
import { FileBlobs, temporaryBlobDir } from './s3/blobs';
import {
  createBucket,
  deleteBucket,
  deleteBucketPolicy,
  documentHandlers,
  getBucketLocation,
  getBucketPolicy,
  headBucket,
  listBuckets,
  listObjects,
  listObjectVersions,
  putBucketPolicy,
} from './s3/buckets';
import { type Handler, onObject, plainAttributes, S3Context } from './s3/context';
import { accessDenied, invalidRequest, newRequestId, requestIdHeaders, s3ErrorResponse } from './s3/errors';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './s3/multipart';
import { Notifier, type NotifierState, type ObjectCreatedListener } from './s3/notifications';
import {
  copyObject,
  deleteObject,
  deleteObjects,
  deleteObjectTagging,
  getObjectTagging,
  putObject,
  putObjectTagging,
  readObject,
} from './s3/objects';
import { operationOf, pathStyle, targetOf } from './s3/routes';
import { checkVersionId, Store, type StoreState } from './s3/store';

export type { ObjectCreatedListener, ObjectCreatedNotice } from './s3/notifications';

export interface S3ServiceOptions {
  accountId: string;
  region: string;
  /** Object bodies live as files here; without it, in memory (and in snapshots). */
  dataDir?: string;
  kms?: KeyStore;
  invokeLambda?: InvokeLambda;
  /** Decides the questions an in-process caller (Bedrock as its role) and S3's own probes ask. */
  authorizer?: Authorizer;
}

interface Snapshot {
  version: 1;
  store: StoreState;
  notifier: NotifierState;
}

/** "The object key name is a sequence of Unicode characters with UTF-8 encoding of up to 1,024 bytes" (S3 User Guide, object keys). */
const MAX_KEY_BYTES = 1024;
/** The operations that name a key to create; a longer key is S3's KeyTooLongError. */
const KEY_WRITES = new Set([
  'PutObject',
  'CopyObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
]);

export class S3Service implements LocalService, ObjectStore {
  readonly signingName = 's3';
  private readonly store: Store;
  private readonly notifier: Notifier;
  private readonly s3: S3Context;
  private readonly operations: Record<string, Handler>;

  constructor(private readonly options: S3ServiceOptions) {
    // Bodies always go to files as they arrive: under the state dir, or in a temporary directory
    // that close() (or process exit) removes.
    const blobs = options.dataDir ? new FileBlobs(options.dataDir) : new FileBlobs(temporaryBlobDir(), true);
    this.store = new Store(blobs, options.kms);
    this.notifier = new Notifier(options.accountId, options.invokeLambda);
    const s3 = new S3Context(this.store, this.notifier, options.accountId, options.authorizer);
    this.s3 = s3;
    this.operations = {
      ListBuckets: (c) => listBuckets(s3, c),
      CreateBucket: (c) => createBucket(s3, c),
      HeadBucket: (c) => headBucket(s3, c),
      DeleteBucket: (c) => deleteBucket(s3, c),
      GetBucketLocation: (c) => getBucketLocation(s3, c),
      ListObjects: (c) => listObjects(s3, c, 1),
      ListObjectsV2: (c) => listObjects(s3, c, 2),
      ListObjectVersions: (c) => listObjectVersions(s3, c),
      GetBucketPolicy: (c) => getBucketPolicy(s3, c),
      PutBucketPolicy: (c) => putBucketPolicy(s3, c),
      DeleteBucketPolicy: (c) => deleteBucketPolicy(s3, c),
      DeleteObjects: (c) => deleteObjects(s3, c),
      PutObject: (c) => putObject(s3, c),
      GetObject: (c) => readObject(s3, c),
      HeadObject: (c) => readObject(s3, c),
      DeleteObject: (c) => deleteObject(s3, c),
      CopyObject: (c) => copyObject(s3, c),
      GetObjectTagging: (c) => getObjectTagging(s3, c),
      PutObjectTagging: (c) => putObjectTagging(s3, c),
      DeleteObjectTagging: (c) => deleteObjectTagging(s3, c),
      CreateMultipartUpload: (c) => createMultipartUpload(s3, c),
      UploadPart: (c) => uploadPart(s3, c),
      UploadPartCopy: (c) => uploadPart(s3, c),
      CompleteMultipartUpload: (c) => completeMultipartUpload(s3, c),
      AbortMultipartUpload: (c) => abortMultipartUpload(s3, c),
      ListParts: (c) => listParts(s3, c),
      ListMultipartUploads: (c) => listMultipartUploads(s3, c),
      // GetBucketEncryption, PutBucketTagging, … : one document each (bucket-config.ts).
      ...documentHandlers(s3),
    };
  }

  // ---- LocalService ----

  operationOf(req: LocalRequest): string {
    return operationOf(req);
  }

  /** Object bodies (PutObject, UploadPart) stream to disk as they arrive; everything else is read whole. */
  streamsBody(req: LocalRequest): boolean {
    const operation = operationOf(req);
    return operation === 'PutObject' || operation === 'UploadPart';
  }

  /** Removes the temporary directory of object bodies (none to remove under a state dir). */
  close(): Promise<void> {
    return this.store.blobs.close();
  }

  accessRequests(req: LocalRequest): AccessRequest[] {
    return s3AccessRequests(req, operationOf(req), {
      bucketPolicy: (bucket) => this.store.buckets.get(bucket)?.policy,
      objectTags: (bucket, key, versionId) => {
        const versions = this.store.buckets.get(bucket)?.objects.get(key);
        const v = versionId ? versions?.find((x) => x.versionId === versionId) : versions?.[0];
        return v && !v.isDeleteMarker ? v.tags : undefined;
      },
    });
  }

  async handle(req: LocalRequest): Promise<LocalResponse> {
    const operation = operationOf(req);
    if (operation === 'Unknown') {
      throw new AwsError(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        405,
        {
          Method: req.method,
          ResourceType: targetOf(pathStyle(req)).key ? 'OBJECT' : 'BUCKET',
        },
      );
    }
    const handler = this.operations[operation];
    if (!handler)
      throw new AwsError('NotImplemented', `${operation} is not implemented by the embedded S3`, 501);
    const expectedOwner = req.headers['x-amz-expected-bucket-owner'];
    if (expectedOwner !== undefined && expectedOwner !== this.options.accountId) throw accessDenied();
    const target = targetOf(pathStyle(req));
    if (KEY_WRITES.has(operation) && Buffer.byteLength(target.key) > MAX_KEY_BYTES)
      throw new AwsError('KeyTooLongError', 'Your key is too long', 400, {
        Size: String(Buffer.byteLength(target.key)),
        MaxSizeAllowed: String(MAX_KEY_BYTES),
      });
    const requestId = newRequestId();
    const response = await handler({ req, ...target, requestId });
    return { ...response, headers: { ...requestIdHeaders(requestId), ...response.headers } };
  }

  errorResponse(error: AwsError): LocalResponse {
    return s3ErrorResponse(error);
  }

  snapshot(): Snapshot {
    return { version: 1, store: this.store.snapshot(), notifier: this.notifier.snapshot() };
  }

  restore(state: unknown): void {
    const snap = state as Partial<Snapshot> | undefined;
    if (snap?.version !== 1 || !snap.store) throw new Error('S3 snapshot: unsupported format');
    this.store.restore(snap.store);
    this.notifier.restore(snap.notifier);
  }

  // ---- ObjectStore and host hooks ----

  async putObject(
    bucket: string,
    key: string,
    body: Buffer,
    opts: { contentType?: string } = {},
  ): Promise<{ etag: string; versionId?: string }> {
    const b = this.store.bucket(bucket);
    await this.s3.require([onObject(b, key, 's3:PutObject')]);
    const v = await this.store.write(b, key, body, plainAttributes(opts.contentType));
    this.s3.publish(undefined, b, 'ObjectCreated:Put', v);
    return v.versionId === 'null' ? { etag: v.etag } : { etag: v.etag, versionId: v.versionId };
  }

  async getObject(bucket: string, key: string, versionId?: string): Promise<Buffer> {
    const b = this.store.bucket(bucket);
    await this.s3.require([onObject(b, key, versionId ? 's3:GetObjectVersion' : 's3:GetObject')]);
    return this.store.read(await this.s3.hideMissing(bucket, () => this.store.version(b, key, versionId)));
  }

  async headObject(
    bucket: string,
    key: string,
  ): Promise<{ size: number; etag: string; versionId?: string } | undefined> {
    const b = this.store.bucket(bucket);
    const latest = b.objects.get(key)?.[0];
    if (!latest || latest.isDeleteMarker) return undefined;
    const head = { size: latest.size, etag: latest.etag };
    return latest.versionId === 'null' ? head : { ...head, versionId: latest.versionId };
  }

  /**
   * Stores a fixture: an object version with the version id the caller names, as PutObject would
   * store it (the bucket's default encryption applies) but without an ObjectCreated notification —
   * it is the object a sample event describes, not an upload. S3 itself always makes version ids;
   * this exists so fixed sample events (events/*.json) can name a real object. Idempotent: a
   * version that exists already is left as it is.
   */
  async seedObject(
    bucket: string,
    key: string,
    body: Buffer,
    opts: { versionId: string; contentType?: string },
  ): Promise<{ etag: string; versionId: string; created: boolean }> {
    const b = this.store.bucket(bucket);
    checkVersionId(opts.versionId);
    if (b.versioning !== 'Enabled') {
      throw invalidRequest(
        `Bucket ${bucket} does not have versioning enabled: it cannot keep version ${opts.versionId}`,
      );
    }
    const existing = b.objects.get(key)?.find((v) => v.versionId === opts.versionId);
    if (existing) return { etag: existing.etag, versionId: existing.versionId, created: false };
    const attributes = plainAttributes(opts.contentType);
    const v = await this.store.write(b, key, body, attributes, { versionId: opts.versionId });
    return { etag: v.etag, versionId: v.versionId, created: true };
  }

  /** Makes a bucket look like one created before 2023, with no default encryption at all. */
  removeDefaultEncryption(bucket: string): void {
    delete this.store.bucket(bucket).encryption;
  }

  redeliver(bucket: string, key: string, times: number): Promise<number> {
    return this.notifier.redeliver(bucket, key, times);
  }

  /** Observes every ObjectCreated; answers a function that stops observing. */
  onObjectCreated(listener: ObjectCreatedListener): () => void {
    return this.notifier.onObjectCreated(listener);
  }

  /** Resolves once the notifications sent so far have been handled by their functions. */
  notificationsSettled(): Promise<void> {
    return this.notifier.settled();
  }
}
