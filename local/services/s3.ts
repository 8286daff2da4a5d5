/**
 * The embedded S3: path-style REST-XML, faithful enough for the unmodified AWS SDK v3 and the AWS
 * CLI (aws-chunked uploads with trailing checksums, multipart, ranged and conditional reads), with
 * the behaviours TuneVault leans on: default SSE-S3 on new buckets, SSE-KMS envelope encryption
 * through the embedded KMS, versioning, tagging, policies, and asynchronous Lambda notifications.
 */
import { createHash } from 'node:crypto';
import {
  AwsError,
  type InvokeLambda,
  type KeyStore,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  type ObjectStore,
} from '../core/types';
import { type Authorizer, currentCaller } from '../iam/authorizer';
import type { AccessRequest } from '../iam/types';
import { bucketArnOf, objectArnOf, s3AccessRequests } from './s3/access';
import { FileBlobs, temporaryBlobDir } from './s3/blobs';
import {
  BUCKET_DOCUMENTS,
  type BucketDocumentOps,
  OBJECT_OWNERSHIPS,
  parseTagging,
  refusePublicPolicy,
  taggingXml,
  validateBucketPolicy,
} from './s3/bucket-config';
import {
  type ChecksumAlgorithm,
  Checksummer,
  checksumHeader,
  checksumOf,
  MAX_SINGLE_UPLOAD,
  PayloadReader,
  parseChecksumAlgorithm,
  readPayload,
} from './s3/body';
import {
  accessDenied,
  invalidArgument,
  invalidRequest,
  newRequestId,
  notFoundConfiguration,
  requestIdHeaders,
  s3ErrorResponse,
} from './s3/errors';
import {
  attributesOf,
  checkAclHeaders,
  checkConditions,
  checksumResponseHeaders,
  checksumXml,
  checkWriteConditions,
  emptyResponse,
  objectHeaders,
  parseRange,
  versionHeader,
  xmlResponse,
} from './s3/http';
import {
  listBucketsResponse,
  listMultipartUploadsResponse,
  listObjectsResponse,
  listObjectVersionsResponse,
  listPartsResponse,
} from './s3/listing';
import {
  Notifier,
  type NotifierState,
  type ObjectCreatedListener,
  type ObjectEventName,
} from './s3/notifications';
import { operationOf, pathStyle, targetOf } from './s3/routes';
import { sseFromHeaders, sseResponseHeaders } from './s3/sse';
import {
  type Bucket,
  checkVersionId,
  type ObjectAttributes,
  type ObjectVersion,
  Store,
  type StoreState,
  type Upload,
  type UploadOptions,
} from './s3/store';
import { childText, children, malformedXml, parseXml, type XmlFields } from './s3/xml';

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

/** One request, with its bucket and key already taken from the path. */
interface Call {
  req: LocalRequest;
  bucket: string;
  key: string;
  requestId: string;
}

type Handler = (call: Call) => Promise<LocalResponse>;

interface Snapshot {
  version: 1;
  store: StoreState;
  notifier: NotifierState;
}

function principalOf(req: LocalRequest): string {
  const accessKey = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
  return `AWS:${accessKey ?? 'anonymous'}`;
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, URL-encoded. */
function parseCopySource(header: string): { bucket: string; key: string; versionId?: string } {
  const [path = '', query = ''] = header.split('?', 2);
  const { bucket, key } = targetOf(`/${path.replace(/^\//, '')}`);
  if (!bucket || !key) throw invalidArgument('Invalid copy source object key', 'x-amz-copy-source', header);
  const versionId = new URLSearchParams(query).get('versionId');
  return versionId === null ? { bucket, key } : { bucket, key, versionId };
}

/** S3 canonical user ids are 64 hex digits; derive a stable one from the account. */
const canonicalId = (accountId: string) => createHash('sha256').update(`s3:${accountId}`).digest('hex');

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
  private readonly owner: { ID: string; DisplayName: string };
  private readonly handlers: Record<string, Handler>;

  constructor(private readonly options: S3ServiceOptions) {
    // Bodies always go to files as they arrive: under the state dir, or in a temporary directory
    // that close() (or process exit) removes.
    const blobs = options.dataDir ? new FileBlobs(options.dataDir) : new FileBlobs(temporaryBlobDir(), true);
    this.store = new Store(blobs, options.kms);
    this.notifier = new Notifier(options.accountId, options.invokeLambda);
    this.owner = { ID: canonicalId(options.accountId), DisplayName: 'tunevault-local' };
    this.handlers = {
      ListBuckets: async ({ req }) => listBucketsResponse(this.store.buckets, req.query, this.owner),
      CreateBucket: (c) => this.createBucket(c),
      HeadBucket: async (c) => emptyResponse(200, this.regionHeader(this.store.bucket(c.bucket))),
      DeleteBucket: (c) => this.deleteBucket(c),
      GetBucketLocation: (c) => this.getBucketLocation(c),
      ListObjects: async ({ req, bucket }) =>
        listObjectsResponse(this.store.bucket(bucket), req.query, 1, this.owner),
      ListObjectsV2: async ({ req, bucket }) =>
        listObjectsResponse(this.store.bucket(bucket), req.query, 2, this.owner),
      ListObjectVersions: async ({ req, bucket }) =>
        listObjectVersionsResponse(this.store.bucket(bucket), req.query, this.owner),
      GetBucketPolicy: (c) => this.getBucketPolicy(c),
      PutBucketPolicy: (c) => this.putBucketPolicy(c),
      DeleteBucketPolicy: async (c) => {
        delete this.store.bucket(c.bucket).policy;
        return emptyResponse(204);
      },
      DeleteObjects: (c) => this.deleteObjects(c),
      PutObject: (c) => this.putObjectOp(c),
      GetObject: (c) => this.readObject(c),
      HeadObject: (c) => this.readObject(c),
      DeleteObject: (c) => this.deleteObjectOp(c),
      CopyObject: (c) => this.copyObject(c),
      GetObjectTagging: (c) => this.getObjectTagging(c),
      PutObjectTagging: (c) => this.putObjectTagging(c),
      DeleteObjectTagging: (c) => this.deleteObjectTagging(c),
      CreateMultipartUpload: (c) => this.createMultipartUpload(c),
      UploadPart: (c) => this.uploadPart(c),
      UploadPartCopy: (c) => this.uploadPart(c),
      CompleteMultipartUpload: (c) => this.completeMultipartUpload(c),
      AbortMultipartUpload: (c) => this.abortMultipartUpload(c),
      ListParts: async ({ req, bucket, key }) => {
        const b = this.store.bucket(bucket);
        return listPartsResponse(
          b,
          this.store.upload(b, req.query.get('uploadId'), key),
          req.query,
          this.owner,
        );
      },
      ListMultipartUploads: async ({ req, bucket }) =>
        listMultipartUploadsResponse(this.store.bucket(bucket), req.query, this.owner),
    };
    for (const doc of BUCKET_DOCUMENTS) Object.assign(this.handlers, this.documentHandlers(doc));
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

  /** Asks the authorizer for the current caller (none outside a request: the embedded AWS itself). */
  private async require(reqs: AccessRequest[]): Promise<void> {
    const caller = currentCaller();
    if (caller && this.options.authorizer) await this.options.authorizer.require(caller, 's3', reqs);
  }

  /**
   * S3 answers 404 NoSuchKey only to a caller that may list the bucket; to others, 403 AccessDenied
   * (S3 API reference, GetObject and HeadObject, "Permissions": "If you don't have the s3:ListBucket
   * permission, Amazon S3 returns an HTTP status code 403 Access Denied error").
   */
  private async hideMissing<T>(bucket: string, read: () => Promise<T> | T): Promise<T> {
    try {
      return await read();
    } catch (err) {
      const missing = err instanceof AwsError && (err.code === 'NoSuchKey' || err.code === 'NoSuchVersion');
      const caller = currentCaller();
      const authorizer = this.options.authorizer;
      if (!missing || !caller || !authorizer) throw err;
      const policy = this.store.buckets.get(bucket)?.policy;
      const listing: AccessRequest = {
        action: 's3:ListBucket',
        resource: bucketArnOf(bucket),
        // No s3:prefix: S3 asks whether the caller may list the bucket, not a particular prefix.
        ...(policy ? { resourcePolicy: policy } : {}),
      };
      if (await authorizer.allows(caller, listing, { probe: true })) throw err;
      throw accessDenied();
    }
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
    const handler = this.handlers[operation];
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
    await this.require([
      {
        action: 's3:PutObject',
        resource: objectArnOf(bucket, key),
        ...(b.policy ? { resourcePolicy: b.policy } : {}),
      },
    ]);
    const attributes: ObjectAttributes = {
      contentType: opts.contentType ?? 'binary/octet-stream',
      headers: {},
      metadata: {},
      tags: [],
    };
    const v = await this.store.write(b, key, body, attributes);
    this.publish(undefined, b, 'ObjectCreated:Put', v);
    return v.versionId === 'null' ? { etag: v.etag } : { etag: v.etag, versionId: v.versionId };
  }

  async getObject(bucket: string, key: string, versionId?: string): Promise<Buffer> {
    const b = this.store.bucket(bucket);
    await this.require([
      {
        action: versionId ? 's3:GetObjectVersion' : 's3:GetObject',
        resource: objectArnOf(bucket, key),
        ...(b.policy ? { resourcePolicy: b.policy } : {}),
      },
    ]);
    return this.store.read(await this.hideMissing(bucket, () => this.store.version(b, key, versionId)));
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
    const attributes: ObjectAttributes = {
      contentType: opts.contentType ?? 'binary/octet-stream',
      headers: {},
      metadata: {},
      tags: [],
    };
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

  // ---- shared pieces ----

  private publish(call: Call | undefined, b: Bucket, eventName: ObjectEventName, v: ObjectVersion): void {
    const live = !v.isDeleteMarker && eventName !== 'ObjectRemoved:Delete';
    this.notifier.publish({
      eventName,
      bucket: b,
      key: v.key,
      ...(live ? { size: v.size, etag: v.etag } : {}),
      versionId: v.versionId,
      requestId: call?.requestId ?? newRequestId(),
      sourceIp: call?.req.headers['x-forwarded-for']?.split(',')[0]?.trim() ?? '127.0.0.1',
      principalId: call ? principalOf(call.req) : `AWS:${this.options.accountId}`,
    });
  }

  private regionHeader(b: Bucket): Record<string, string> {
    return { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' };
  }

  /** Get, Put and Delete for a bucket sub-resource kept as one document. */
  private documentHandlers(doc: BucketDocumentOps): Record<string, Handler> {
    const [get, put, remove] = doc.operations;
    const handlers: Record<string, Handler> = {
      [get]: async ({ bucket }) => {
        const fields = doc.read(this.store.bucket(bucket));
        if (fields) return xmlResponse(doc.root, fields);
        if (doc.missing) throw notFoundConfiguration(doc.missing.code, doc.missing.message, bucket);
        return xmlResponse(doc.root, {});
      },
      [put]: async ({ req, bucket }) => {
        const b = this.store.bucket(bucket);
        doc.write(b, parseXml(readPayload(req).data, doc.root));
        return emptyResponse(doc.putStatus ?? 200);
      },
    };
    if (remove) {
      handlers[remove] = async ({ bucket }) => {
        doc.remove(this.store.bucket(bucket));
        return emptyResponse(204);
      };
    }
    return handlers;
  }

  // ---- buckets ----

  private async createBucket({ req, bucket }: Call): Promise<LocalResponse> {
    const payload = readPayload(req).data;
    const config = payload.length > 0 ? parseXml(payload, 'CreateBucketConfiguration') : undefined;
    const region = (config && childText(config, 'LocationConstraint')) || req.region;
    const ownership = req.headers['x-amz-object-ownership'];
    if (ownership !== undefined && !(OBJECT_OWNERSHIPS as readonly string[]).includes(ownership)) {
      throw invalidArgument('Invalid x-amz-object-ownership header', 'x-amz-object-ownership', ownership);
    }
    const acl = req.headers['x-amz-acl'];
    if (
      (ownership ?? 'BucketOwnerEnforced') === 'BucketOwnerEnforced' &&
      acl !== undefined &&
      acl !== 'private'
    ) {
      throw new AwsError(
        'InvalidBucketAclWithObjectOwnership',
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        400,
      );
    }
    const b = this.store.createBucket(bucket, region);
    if (ownership) b.ownership = ownership;
    return emptyResponse(200, { location: `/${bucket}` });
  }

  private async deleteBucket({ bucket }: Call): Promise<LocalResponse> {
    await this.store.deleteBucket(bucket);
    this.notifier.forgetBucket(bucket);
    return emptyResponse(204);
  }

  private async getBucketLocation({ bucket }: Call): Promise<LocalResponse> {
    const { region } = this.store.bucket(bucket);
    // us-east-1 is spelled as an empty constraint, for historical reasons.
    return xmlResponse('LocationConstraint', region === 'us-east-1' ? '' : region);
  }

  private async getBucketPolicy({ bucket }: Call): Promise<LocalResponse> {
    const { policy } = this.store.bucket(bucket);
    if (policy === undefined)
      throw notFoundConfiguration('NoSuchBucketPolicy', 'The bucket policy does not exist', bucket);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: policy };
  }

  private async putBucketPolicy({ req, bucket }: Call): Promise<LocalResponse> {
    const b = this.store.bucket(bucket);
    const policy = readPayload(req).data.toString('utf8');
    const { isPublic } = validateBucketPolicy(policy, bucket);
    if (isPublic && b.publicAccessBlock?.BlockPublicPolicy) refusePublicPolicy();
    b.policy = policy;
    return emptyResponse(204);
  }

  // ---- objects ----

  private async putObjectOp(call: Call): Promise<LocalResponse> {
    const { req, bucket, key } = call;
    const b = this.store.bucket(bucket);
    checkAclHeaders(b, req.headers);
    // Checked before the body is read: an upload too large, or one the conditions refuse.
    const payload = new PayloadReader(req, { maxBytes: MAX_SINGLE_UPLOAD });
    checkWriteConditions(b.objects.get(key)?.[0], req.headers);
    const v = await this.store.writeFrom(b, key, payload.stream(), attributesOf(req.headers), {
      sse: sseFromHeaders(req.headers),
      verify: () => {
        const { checksum } = payload.finish();
        return checksum ? { checksum: { ...checksum, type: 'FULL_OBJECT' } } : {};
      },
    });
    this.publish(call, b, 'ObjectCreated:Put', v);
    return emptyResponse(200, {
      etag: v.etag,
      ...versionHeader(b, v.versionId),
      ...sseResponseHeaders(v.sse),
      ...checksumResponseHeaders(v),
    });
  }

  private async readObject({ req, bucket, key }: Call): Promise<LocalResponse> {
    const b = this.store.bucket(bucket);
    if (req.query.has('partNumber'))
      throw new AwsError(
        'NotImplemented',
        `${operationOf(req)} with partNumber is not implemented by the embedded S3`,
        501,
      );
    const v = await this.hideMissing(bucket, () => this.store.version(b, key, req.query.get('versionId')));
    const headers = objectHeaders(b, v, req);
    if (checkConditions(v, req.headers) === 'not-modified') {
      return { status: 304, headers: { etag: v.etag, 'last-modified': headers['last-modified'] ?? '' } };
    }
    const range = parseRange(req.headers.range, v.size);
    const length = range ? range.end - range.start + 1 : v.size;
    headers['content-length'] = String(length);
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${v.size}`;
    const status = range ? 206 : 200;
    if (req.method === 'HEAD') return { status, headers };
    return { status, headers, body: await this.store.body(v, range) };
  }

  private async deleteObjectOp(call: Call): Promise<LocalResponse> {
    const { req, bucket, key } = call;
    const b = this.store.bucket(bucket);
    const result = await this.deleteOne(call, b, key, req.query.get('versionId'));
    const headers: Record<string, string> = {};
    if (result?.versionId) headers['x-amz-version-id'] = result.versionId;
    if (result?.deleteMarker) headers['x-amz-delete-marker'] = 'true';
    return emptyResponse(204, headers);
  }

  private async deleteOne(
    call: Call,
    b: Bucket,
    key: string,
    versionId: string | null,
  ): Promise<{ versionId?: string; deleteMarker: boolean } | undefined> {
    if (versionId !== null) checkVersionId(versionId);
    const result = await this.store.remove(b, key, versionId);
    if (result?.marker) {
      this.publish(call, b, 'ObjectRemoved:DeleteMarkerCreated', result.marker);
      return { versionId: b.versioning ? result.marker.versionId : undefined, deleteMarker: true };
    }
    if (result?.removed) {
      this.publish(call, b, 'ObjectRemoved:Delete', result.removed);
      const versionHeaderValue = versionId ?? (b.versioning ? result.removed.versionId : undefined);
      return { versionId: versionHeaderValue, deleteMarker: result.removed.isDeleteMarker };
    }
    return versionId === null ? undefined : { versionId, deleteMarker: false };
  }

  private async deleteObjects(call: Call): Promise<LocalResponse> {
    const { req, bucket } = call;
    const b = this.store.bucket(bucket);
    const payload = readPayload(req);
    // S3 refuses a Multi-Object Delete whose body no checksum protects (API_DeleteObjects: "The
    // Content-MD5 request header is required"; the SDKs' flexible checksums, x-amz-checksum-* as a
    // header or trailer, stand in for it).
    if (req.headers['content-md5'] === undefined && !payload.checksum)
      throw invalidRequest('Missing required header for this request: Content-MD5.');
    const doc = parseXml(payload.data, 'Delete');
    const quiet = childText(doc, 'Quiet')?.trim() === 'true';
    const objects = children(doc, 'Object').map((o) => {
      const key = childText(o, 'Key');
      if (key === undefined) throw malformedXml();
      return { key, versionId: childText(o, 'VersionId') ?? null };
    });
    if (objects.length === 0 || objects.length > 1000) throw malformedXml();
    const deleted: XmlFields[] = [];
    const errors: XmlFields[] = [];
    for (const { key, versionId } of objects) {
      try {
        const policy = b.policy;
        await this.require([
          {
            action: versionId === null ? 's3:DeleteObject' : 's3:DeleteObjectVersion',
            resource: objectArnOf(bucket, key),
            ...(versionId === null ? {} : { context: { 's3:versionid': versionId } }),
            ...(policy ? { resourcePolicy: policy } : {}),
          },
        ]);
        const result = await this.deleteOne(call, b, key, versionId);
        if (quiet) continue;
        const entry: XmlFields = { Key: key, VersionId: versionId ?? undefined };
        if (result?.deleteMarker) {
          entry['DeleteMarker'] = true;
          entry['DeleteMarkerVersionId'] = result.versionId;
        }
        deleted.push(entry);
      } catch (err) {
        if (!(err instanceof AwsError)) throw err;
        errors.push({ Key: key, VersionId: versionId ?? undefined, Code: err.code, Message: err.message });
      }
    }
    return xmlResponse('DeleteResult', { Deleted: deleted, Error: errors });
  }

  /** Resolves `x-amz-copy-source` to a readable version, checking the copy-source conditions. */
  private copySource(req: LocalRequest): { b: Bucket; v: ObjectVersion; headers: Record<string, string> } {
    const source = parseCopySource(req.headers['x-amz-copy-source'] ?? '');
    const b = this.store.bucket(source.bucket);
    const v = this.store.version(b, source.key, source.versionId);
    checkConditions(v, req.headers, 'x-amz-copy-source-');
    const headers: Record<string, string> = b.versioning
      ? { 'x-amz-copy-source-version-id': v.versionId }
      : {};
    return { b, v, headers };
  }

  private async copyObject(call: Call): Promise<LocalResponse> {
    const { req, bucket, key } = call;
    const target = this.store.bucket(bucket);
    checkAclHeaders(target, req.headers);
    const source = this.copySource(req);
    const replaceMetadata = req.headers['x-amz-metadata-directive'] === 'REPLACE';
    const replaceTags = req.headers['x-amz-tagging-directive'] === 'REPLACE';
    const sse = sseFromHeaders(req.headers);
    const toItself = source.b === target && source.v.key === key && source.v === target.objects.get(key)?.[0];
    if (
      toItself &&
      !replaceMetadata &&
      !sse &&
      !req.headers['x-amz-storage-class'] &&
      !req.headers['x-amz-website-redirect-location']
    ) {
      throw invalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    checkWriteConditions(target.objects.get(key)?.[0], req.headers);
    const requested = attributesOf(req.headers);
    const copied = replaceMetadata ? requested : source.v;
    const attributes: ObjectAttributes = {
      contentType: copied.contentType,
      headers: { ...copied.headers },
      metadata: { ...copied.metadata },
      tags: (replaceTags ? requested : source.v).tags.map((t) => ({ ...t })),
    };
    const storageClass = req.headers['x-amz-storage-class'] ? requested.storageClass : source.v.storageClass;
    if (storageClass) attributes.storageClass = storageClass;
    const algorithm =
      parseChecksumAlgorithm(req.headers['x-amz-checksum-algorithm']) ?? source.v.checksum?.algorithm;
    // The copy streams from the source's decrypted bytes into the target, its checksum on the way.
    const checksummer = algorithm ? new Checksummer(algorithm) : undefined;
    const from = await this.store.body(source.v);
    async function* copyBytes() {
      for await (const chunk of from) {
        checksummer?.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    }
    const v = await this.store.writeFrom(target, key, copyBytes(), attributes, {
      ...(sse ? { sse } : {}),
      verify: () =>
        algorithm && checksummer
          ? { checksum: { algorithm, value: checksummer.digest().toString('base64'), type: 'FULL_OBJECT' } }
          : {},
    });
    this.publish(call, target, 'ObjectCreated:Copy', v);
    return xmlResponse(
      'CopyObjectResult',
      {
        ETag: v.etag,
        LastModified: v.lastModified,
        ...checksumXml(v.checksum),
      },
      { ...source.headers, ...versionHeader(target, v.versionId), ...sseResponseHeaders(v.sse) },
    );
  }

  private async getObjectTagging({ req, bucket, key }: Call): Promise<LocalResponse> {
    const b = this.store.bucket(bucket);
    const v = this.store.version(b, key, req.query.get('versionId'));
    return xmlResponse('Tagging', taggingXml(v.tags), versionHeader(b, v.versionId));
  }

  private async putObjectTagging({ req, bucket, key }: Call): Promise<LocalResponse> {
    const b = this.store.bucket(bucket);
    const v = this.store.version(b, key, req.query.get('versionId'));
    v.tags = parseTagging(parseXml(readPayload(req).data, 'Tagging'), 10);
    return emptyResponse(200, versionHeader(b, v.versionId));
  }

  private async deleteObjectTagging({ req, bucket, key }: Call): Promise<LocalResponse> {
    const b = this.store.bucket(bucket);
    const v = this.store.version(b, key, req.query.get('versionId'));
    v.tags = [];
    return emptyResponse(204, versionHeader(b, v.versionId));
  }

  // ---- multipart ----

  private uploadHeaders(upload: Upload): Record<string, string> {
    const headers = sseResponseHeaders(upload.sse);
    if (upload.checksumAlgorithm && upload.checksumType) {
      headers['x-amz-checksum-algorithm'] = upload.checksumAlgorithm;
      headers['x-amz-checksum-type'] = upload.checksumType;
    }
    return headers;
  }

  private async createMultipartUpload({ req, bucket, key }: Call): Promise<LocalResponse> {
    const b = this.store.bucket(bucket);
    checkAclHeaders(b, req.headers);
    const type = req.headers['x-amz-checksum-type'];
    if (type !== undefined && type !== 'FULL_OBJECT' && type !== 'COMPOSITE') {
      throw invalidRequest('Value for x-amz-checksum-type header is invalid.');
    }
    const options: UploadOptions = {};
    const sse = sseFromHeaders(req.headers);
    if (sse) options.sse = sse;
    const algorithm = parseChecksumAlgorithm(req.headers['x-amz-checksum-algorithm']);
    if (algorithm) options.checksumAlgorithm = algorithm;
    if (type) options.checksumType = type;
    const upload = await this.store.createUpload(b, key, attributesOf(req.headers), options);
    return xmlResponse(
      'InitiateMultipartUploadResult',
      { Bucket: bucket, Key: key, UploadId: upload.uploadId },
      this.uploadHeaders(upload),
    );
  }

  /** UploadPart, and UploadPartCopy when the part's bytes come from `x-amz-copy-source`. */
  private async uploadPart({ req, bucket, key }: Call): Promise<LocalResponse> {
    const b = this.store.bucket(bucket);
    const raw = req.query.get('partNumber') ?? '';
    const partNumber = Number(raw);
    if (!/^\d+$/.test(raw) || partNumber < 1 || partNumber > 10_000) {
      throw invalidArgument(
        'Part number must be an integer between 1 and 10000, inclusive',
        'partNumber',
        raw,
      );
    }
    const upload = this.store.upload(b, req.query.get('uploadId'), key);
    if (req.headers['x-amz-copy-source'] === undefined) {
      const payload = new PayloadReader(req, { maxBytes: MAX_SINGLE_UPLOAD });
      let sent: { algorithm: string; value: string } | undefined;
      const part = await this.store.putPartFrom(upload, partNumber, payload.stream(), () => {
        const { checksum } = payload.finish();
        if (checksum && upload.checksumAlgorithm && checksum.algorithm !== upload.checksumAlgorithm) {
          throw invalidRequest(
            `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${checksum.algorithm.toLowerCase()}`,
          );
        }
        sent = checksum;
        return checksum ? { checksum: checksum.value } : {};
      });
      const headers: Record<string, string> = { etag: part.etag, ...sseResponseHeaders(upload.sse) };
      if (sent) headers[checksumHeader(sent.algorithm as ChecksumAlgorithm)] = sent.value;
      return emptyResponse(200, headers);
    }
    const source = this.copySource(req);
    let data = await this.store.read(source.v);
    const rangeHeader = req.headers['x-amz-copy-source-range'];
    if (rangeHeader !== undefined) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader);
      if (!m || Number(m[2]) >= source.v.size || Number(m[1]) > Number(m[2])) {
        throw invalidArgument(
          'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
          'x-amz-copy-source-range',
          rangeHeader,
        );
      }
      data = data.subarray(Number(m[1]), Number(m[2]) + 1);
    }
    const algorithm = upload.checksumAlgorithm;
    const part = await this.store.putPart(upload, partNumber, data, algorithm && checksumOf(algorithm, data));
    return xmlResponse(
      'CopyPartResult',
      { ETag: part.etag, LastModified: part.lastModified },
      { ...source.headers, ...sseResponseHeaders(upload.sse) },
    );
  }

  private async completeMultipartUpload(call: Call): Promise<LocalResponse> {
    const { req, bucket, key } = call;
    const b = this.store.bucket(bucket);
    const upload = this.store.upload(b, req.query.get('uploadId'), key);
    const doc = parseXml(readPayload(req, false).data, 'CompleteMultipartUpload');
    const checksumField = upload.checksumAlgorithm && `Checksum${upload.checksumAlgorithm}`;
    const listed = children(doc, 'Part').map((p) => {
      const partNumber = Number(childText(p, 'PartNumber'));
      const etag = childText(p, 'ETag');
      if (!Number.isInteger(partNumber) || etag === undefined) throw malformedXml();
      const checksum = checksumField ? childText(p, checksumField) : undefined;
      return checksum ? { partNumber, etag, checksum } : { partNumber, etag };
    });
    checkWriteConditions(b.objects.get(key)?.[0], req.headers);
    const v = await this.store.complete(b, upload, listed);
    this.publish(call, b, 'ObjectCreated:CompleteMultipartUpload', v);
    const host = req.headers.host ?? 'localhost';
    const location = `http://${host}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    return xmlResponse(
      'CompleteMultipartUploadResult',
      {
        Location: location,
        Bucket: bucket,
        Key: key,
        ETag: v.etag,
        ...checksumXml(v.checksum),
      },
      { ...versionHeader(b, v.versionId), ...sseResponseHeaders(v.sse) },
    );
  }

  private async abortMultipartUpload({ req, bucket, key }: Call): Promise<LocalResponse> {
    const b = this.store.bucket(bucket);
    await this.store.abort(b, this.store.upload(b, req.query.get('uploadId'), key));
    return emptyResponse(204);
  }
}
