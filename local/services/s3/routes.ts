/**
 * REST-XML routing: which S3 API operation a path-style request is. The first matching row wins, so a
 * sub-resource (`?encryption`, `?uploadId`, ...) is tried before the plain bucket or object operation.
 */
import { AwsError, type LocalRequest } from '../../core/types';

export interface Target {
  bucket: string;
  /** Decoded object key; empty for bucket-level requests. */
  key: string;
}

/** `/bucket/key` with the key percent-decoded (a `+` in a path is a literal plus, as S3 reads it). */
export function targetOf(path: string): Target {
  const rest = path.replace(/^\//, '');
  const slash = rest.indexOf('/');
  const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawKey = slash < 0 ? '' : rest.slice(slash + 1);
  try {
    return { bucket: decodeURIComponent(rawBucket), key: decodeURIComponent(rawKey) };
  } catch {
    throw new AwsError('InvalidURI', "Couldn't parse the specified URI.", 400);
  }
}

/**
 * The path-style path of a request. Virtual-hosted requests to `<bucket>.localhost` (what the SDK
 * sends for `localhost` endpoints without forcePathStyle) are folded into it.
 */
export function pathStyle(req: LocalRequest): string {
  const bucket = /^([a-z0-9][a-z0-9.-]*[a-z0-9])\.localhost(?::\d+)?$/.exec(req.headers.host ?? '')?.[1];
  return bucket ? `/${bucket}${req.path}` : req.path;
}

type Scope = 'service' | 'bucket' | 'object';
type Test = string | ((req: LocalRequest) => boolean) | undefined;
type Route = [method: string, scope: Scope, test: Test, operation: string];

const copySource = (req: LocalRequest) => req.headers['x-amz-copy-source'] !== undefined;
const listV2 = (req: LocalRequest) => req.query.get('list-type') === '2';

/**
 * The bucket sub-resources (`?encryption`, …) and the operations that get, put and delete them,
 * in the order they are tried.
 */
const BUCKET_SUBRESOURCES: Array<[string, string, string?, string?]> = [
  ['location', 'GetBucketLocation'],
  ['encryption', 'GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption'],
  ['policyStatus', 'GetBucketPolicyStatus'],
  ['policy', 'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'],
  ['tagging', 'GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging'],
  ['versioning', 'GetBucketVersioning', 'PutBucketVersioning'],
  ['publicAccessBlock', 'GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock'],
  ['notification', 'GetBucketNotificationConfiguration', 'PutBucketNotificationConfiguration'],
  [
    'ownershipControls',
    'GetBucketOwnershipControls',
    'PutBucketOwnershipControls',
    'DeleteBucketOwnershipControls',
  ],
  ['acl', 'GetBucketAcl', 'PutBucketAcl'],
  ['cors', 'GetBucketCors', 'PutBucketCors', 'DeleteBucketCors'],
  [
    'lifecycle',
    'GetBucketLifecycleConfiguration',
    'PutBucketLifecycleConfiguration',
    'DeleteBucketLifecycle',
  ],
  ['website', 'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite'],
  ['logging', 'GetBucketLogging', 'PutBucketLogging'],
  ['replication', 'GetBucketReplication', 'PutBucketReplication', 'DeleteBucketReplication'],
  ['accelerate', 'GetBucketAccelerateConfiguration', 'PutBucketAccelerateConfiguration'],
  ['requestPayment', 'GetBucketRequestPayment', 'PutBucketRequestPayment'],
  ['object-lock', 'GetObjectLockConfiguration', 'PutObjectLockConfiguration'],
];

/** The sub-resource rows of METHOD (its operation at INDEX of a BUCKET_SUBRESOURCES row). */
const subresourceRoutes = (method: string, index: 1 | 2 | 3): Route[] =>
  BUCKET_SUBRESOURCES.flatMap((row): Route[] => {
    const operation = row[index];
    return operation ? [[method, 'bucket', row[0], operation]] : [];
  });

const ROUTES: Route[] = [
  ['GET', 'service', undefined, 'ListBuckets'],

  ...subresourceRoutes('GET', 1),
  ['GET', 'bucket', 'uploads', 'ListMultipartUploads'],
  ['GET', 'bucket', 'versions', 'ListObjectVersions'],
  ['GET', 'bucket', listV2, 'ListObjectsV2'],
  ['GET', 'bucket', undefined, 'ListObjects'],
  ['HEAD', 'bucket', undefined, 'HeadBucket'],
  ...subresourceRoutes('PUT', 2),
  ['PUT', 'bucket', undefined, 'CreateBucket'],
  ...subresourceRoutes('DELETE', 3),
  ['DELETE', 'bucket', undefined, 'DeleteBucket'],
  ['POST', 'bucket', 'delete', 'DeleteObjects'],
  ['POST', 'bucket', undefined, 'PostObject'],

  ['GET', 'object', 'uploadId', 'ListParts'],
  ['GET', 'object', 'tagging', 'GetObjectTagging'],
  ['GET', 'object', 'acl', 'GetObjectAcl'],
  ['GET', 'object', 'attributes', 'GetObjectAttributes'],
  ['GET', 'object', 'retention', 'GetObjectRetention'],
  ['GET', 'object', 'legal-hold', 'GetObjectLegalHold'],
  ['GET', 'object', 'torrent', 'GetObjectTorrent'],
  ['GET', 'object', undefined, 'GetObject'],
  ['HEAD', 'object', undefined, 'HeadObject'],
  ['PUT', 'object', (req) => req.query.has('uploadId') && copySource(req), 'UploadPartCopy'],
  ['PUT', 'object', 'uploadId', 'UploadPart'],
  ['PUT', 'object', 'tagging', 'PutObjectTagging'],
  ['PUT', 'object', 'acl', 'PutObjectAcl'],
  ['PUT', 'object', 'retention', 'PutObjectRetention'],
  ['PUT', 'object', 'legal-hold', 'PutObjectLegalHold'],
  ['PUT', 'object', copySource, 'CopyObject'],
  ['PUT', 'object', undefined, 'PutObject'],
  ['DELETE', 'object', 'uploadId', 'AbortMultipartUpload'],
  ['DELETE', 'object', 'tagging', 'DeleteObjectTagging'],
  ['DELETE', 'object', undefined, 'DeleteObject'],
  ['POST', 'object', 'uploads', 'CreateMultipartUpload'],
  ['POST', 'object', 'uploadId', 'CompleteMultipartUpload'],
  ['POST', 'object', 'restore', 'RestoreObject'],
  ['POST', 'object', 'select', 'SelectObjectContent'],
];

/** The operation name, or `Unknown` for a method no S3 operation takes there. */
export function operationOf(req: LocalRequest): string {
  const { bucket, key } = targetOf(pathStyle(req));
  const scope: Scope = bucket === '' ? 'service' : key === '' ? 'bucket' : 'object';
  for (const [method, where, test, operation] of ROUTES) {
    if (method !== req.method || where !== scope) continue;
    if (test === undefined || (typeof test === 'string' ? req.query.has(test) : test(req))) return operation;
  }
  return 'Unknown';
}
