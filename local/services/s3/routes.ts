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

const copySource = (req: LocalRequest) => req.headers['x-amz-copy-source'] !== undefined;
const listV2 = (req: LocalRequest) => req.query.get('list-type') === '2';

const ROUTES: Array<[string, Scope, Test, string]> = [
  ['GET', 'service', undefined, 'ListBuckets'],

  ['GET', 'bucket', 'location', 'GetBucketLocation'],
  ['GET', 'bucket', 'encryption', 'GetBucketEncryption'],
  ['GET', 'bucket', 'policyStatus', 'GetBucketPolicyStatus'],
  ['GET', 'bucket', 'policy', 'GetBucketPolicy'],
  ['GET', 'bucket', 'tagging', 'GetBucketTagging'],
  ['GET', 'bucket', 'versioning', 'GetBucketVersioning'],
  ['GET', 'bucket', 'publicAccessBlock', 'GetPublicAccessBlock'],
  ['GET', 'bucket', 'notification', 'GetBucketNotificationConfiguration'],
  ['GET', 'bucket', 'ownershipControls', 'GetBucketOwnershipControls'],
  ['GET', 'bucket', 'acl', 'GetBucketAcl'],
  ['GET', 'bucket', 'cors', 'GetBucketCors'],
  ['GET', 'bucket', 'lifecycle', 'GetBucketLifecycleConfiguration'],
  ['GET', 'bucket', 'website', 'GetBucketWebsite'],
  ['GET', 'bucket', 'logging', 'GetBucketLogging'],
  ['GET', 'bucket', 'replication', 'GetBucketReplication'],
  ['GET', 'bucket', 'accelerate', 'GetBucketAccelerateConfiguration'],
  ['GET', 'bucket', 'requestPayment', 'GetBucketRequestPayment'],
  ['GET', 'bucket', 'object-lock', 'GetObjectLockConfiguration'],
  ['GET', 'bucket', 'uploads', 'ListMultipartUploads'],
  ['GET', 'bucket', 'versions', 'ListObjectVersions'],
  ['GET', 'bucket', listV2, 'ListObjectsV2'],
  ['GET', 'bucket', undefined, 'ListObjects'],
  ['HEAD', 'bucket', undefined, 'HeadBucket'],
  ['PUT', 'bucket', 'encryption', 'PutBucketEncryption'],
  ['PUT', 'bucket', 'policy', 'PutBucketPolicy'],
  ['PUT', 'bucket', 'tagging', 'PutBucketTagging'],
  ['PUT', 'bucket', 'versioning', 'PutBucketVersioning'],
  ['PUT', 'bucket', 'publicAccessBlock', 'PutPublicAccessBlock'],
  ['PUT', 'bucket', 'notification', 'PutBucketNotificationConfiguration'],
  ['PUT', 'bucket', 'ownershipControls', 'PutBucketOwnershipControls'],
  ['PUT', 'bucket', 'acl', 'PutBucketAcl'],
  ['PUT', 'bucket', 'cors', 'PutBucketCors'],
  ['PUT', 'bucket', 'lifecycle', 'PutBucketLifecycleConfiguration'],
  ['PUT', 'bucket', 'website', 'PutBucketWebsite'],
  ['PUT', 'bucket', 'logging', 'PutBucketLogging'],
  ['PUT', 'bucket', 'replication', 'PutBucketReplication'],
  ['PUT', 'bucket', 'accelerate', 'PutBucketAccelerateConfiguration'],
  ['PUT', 'bucket', 'requestPayment', 'PutBucketRequestPayment'],
  ['PUT', 'bucket', 'object-lock', 'PutObjectLockConfiguration'],
  ['PUT', 'bucket', undefined, 'CreateBucket'],
  ['DELETE', 'bucket', 'encryption', 'DeleteBucketEncryption'],
  ['DELETE', 'bucket', 'policy', 'DeleteBucketPolicy'],
  ['DELETE', 'bucket', 'tagging', 'DeleteBucketTagging'],
  ['DELETE', 'bucket', 'publicAccessBlock', 'DeletePublicAccessBlock'],
  ['DELETE', 'bucket', 'ownershipControls', 'DeleteBucketOwnershipControls'],
  ['DELETE', 'bucket', 'cors', 'DeleteBucketCors'],
  ['DELETE', 'bucket', 'lifecycle', 'DeleteBucketLifecycle'],
  ['DELETE', 'bucket', 'website', 'DeleteBucketWebsite'],
  ['DELETE', 'bucket', 'replication', 'DeleteBucketReplication'],
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
