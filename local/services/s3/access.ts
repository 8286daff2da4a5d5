/**
 * Which IAM actions an S3 request needs, on which ARNs, with which condition keys — as the
 * Service Authorization Reference's "API operations defined by Amazon S3" table maps them
 * (e.g. GetBucketEncryption → s3:GetEncryptionConfiguration, HeadBucket → s3:ListBucket,
 * a versionId turns GetObject into s3:GetObjectVersion and tagging into s3:*ObjectVersionTagging).
 * The bucket policy is the resource policy of every request on the bucket and its objects.
 */
import type { LocalRequest } from '../../core/types';
import type { AccessRequest } from '../../iam/types';
import { pathStyle, targetOf } from './routes';

/** Operation → action, for operations whose action does not depend on the request. */
const BUCKET_ACTIONS: Record<string, string> = {
  ListBuckets: 's3:ListAllMyBuckets',
  CreateBucket: 's3:CreateBucket',
  DeleteBucket: 's3:DeleteBucket',
  HeadBucket: 's3:ListBucket',
  GetBucketLocation: 's3:GetBucketLocation',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
  GetBucketPolicy: 's3:GetBucketPolicy',
  PutBucketPolicy: 's3:PutBucketPolicy',
  DeleteBucketPolicy: 's3:DeleteBucketPolicy',
  GetBucketPolicyStatus: 's3:GetBucketPolicyStatus',
  GetBucketTagging: 's3:GetBucketTagging',
  PutBucketTagging: 's3:PutBucketTagging',
  DeleteBucketTagging: 's3:PutBucketTagging',
  GetBucketVersioning: 's3:GetBucketVersioning',
  PutBucketVersioning: 's3:PutBucketVersioning',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  GetBucketNotificationConfiguration: 's3:GetBucketNotification',
  PutBucketNotificationConfiguration: 's3:PutBucketNotification',
  GetBucketOwnershipControls: 's3:GetBucketOwnershipControls',
  PutBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  GetBucketAcl: 's3:GetBucketAcl',
  PutBucketAcl: 's3:PutBucketAcl',
  GetBucketCors: 's3:GetBucketCORS',
  PutBucketCors: 's3:PutBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
  DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
  GetBucketWebsite: 's3:GetBucketWebsite',
  PutBucketWebsite: 's3:PutBucketWebsite',
  DeleteBucketWebsite: 's3:DeleteBucketWebsite',
  GetBucketLogging: 's3:GetBucketLogging',
  PutBucketLogging: 's3:PutBucketLogging',
  GetBucketReplication: 's3:GetReplicationConfiguration',
  PutBucketReplication: 's3:PutReplicationConfiguration',
  DeleteBucketReplication: 's3:PutReplicationConfiguration',
  GetBucketAccelerateConfiguration: 's3:GetAccelerateConfiguration',
  PutBucketAccelerateConfiguration: 's3:PutAccelerateConfiguration',
  GetBucketRequestPayment: 's3:GetBucketRequestPayment',
  PutBucketRequestPayment: 's3:PutBucketRequestPayment',
  GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
  PutObjectLockConfiguration: 's3:PutBucketObjectLockConfiguration',
};

/** Object operations: [action, action when a versionId is given]. */
const OBJECT_ACTIONS: Record<string, [string, string]> = {
  GetObject: ['s3:GetObject', 's3:GetObjectVersion'],
  HeadObject: ['s3:GetObject', 's3:GetObjectVersion'],
  SelectObjectContent: ['s3:GetObject', 's3:GetObjectVersion'],
  GetObjectTorrent: ['s3:GetObjectTorrent', 's3:GetObjectVersionTorrent'],
  GetObjectAttributes: ['s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'],
  GetObjectTagging: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'],
  PutObjectTagging: ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'],
  DeleteObjectTagging: ['s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'],
  GetObjectAcl: ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
  PutObjectAcl: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'],
  GetObjectRetention: ['s3:GetObjectRetention', 's3:GetObjectRetention'],
  PutObjectRetention: ['s3:PutObjectRetention', 's3:PutObjectRetention'],
  GetObjectLegalHold: ['s3:GetObjectLegalHold', 's3:GetObjectLegalHold'],
  PutObjectLegalHold: ['s3:PutObjectLegalHold', 's3:PutObjectLegalHold'],
  DeleteObject: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
  PutObject: ['s3:PutObject', 's3:PutObject'],
  PostObject: ['s3:PutObject', 's3:PutObject'],
  CreateMultipartUpload: ['s3:PutObject', 's3:PutObject'],
  UploadPart: ['s3:PutObject', 's3:PutObject'],
  CompleteMultipartUpload: ['s3:PutObject', 's3:PutObject'],
  AbortMultipartUpload: ['s3:AbortMultipartUpload', 's3:AbortMultipartUpload'],
  ListParts: ['s3:ListMultipartUploadParts', 's3:ListMultipartUploadParts'],
  RestoreObject: ['s3:RestoreObject', 's3:RestoreObject'],
};

export const bucketArnOf = (bucket: string, partition = 'aws') => `arn:${partition}:s3:::${bucket}`;
export const objectArnOf = (bucket: string, key: string, partition = 'aws') =>
  `arn:${partition}:s3:::${bucket}/${key}`;

/** Every action this map can ask for (a contract test checks each against the IAM action list). */
export function mappedS3Actions(): string[] {
  return [
    ...new Set([
      ...Object.values(BUCKET_ACTIONS),
      ...Object.values(OBJECT_ACTIONS).flat(),
      's3:GetObjectVersion',
    ]),
  ];
}

export interface S3AccessLookups {
  /** The bucket policy (JSON text), when the bucket exists and has one. */
  bucketPolicy(bucket: string): string | undefined;
  /** The current tags of an object version, for `s3:ExistingObjectTag/<key>`. */
  objectTags?(bucket: string, key: string, versionId?: string): { Key: string; Value: string }[] | undefined;
}

function requestContext(req: LocalRequest): Record<string, string> {
  const ctx: Record<string, string> = {
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:authType': req.query.has('X-Amz-Signature') ? 'REST-QUERY-STRING' : 'REST-HEADER',
  };
  const sha = req.headers['x-amz-content-sha256'];
  if (sha) ctx['s3:x-amz-content-sha256'] = sha;
  return ctx;
}

/** `x-amz-copy-source: [/]bucket/key[?versionId=…]`, URL-encoded. */
function copySourceOf(header: string): { bucket: string; key: string; versionId?: string } | undefined {
  const [path = '', query = ''] = header.split('?', 2);
  const { bucket, key } = targetOf(`/${path.replace(/^\//, '')}`);
  if (!bucket || !key) return undefined;
  const versionId = new URLSearchParams(query).get('versionId');
  return versionId === null ? { bucket, key } : { bucket, key, versionId };
}

/**
 * The questions OPERATION asks. DeleteObjects' per-key questions are asked by the operation itself
 * (S3 answers each key in the result document), so only its bucket-level request is here.
 */
export function s3AccessRequests(
  req: LocalRequest,
  operation: string,
  lookups: S3AccessLookups,
): AccessRequest[] {
  const { bucket, key } = targetOf(pathStyle(req));
  const base = requestContext(req);
  const bucketAction = BUCKET_ACTIONS[operation];
  if (operation === 'ListBuckets') return [{ action: 's3:ListAllMyBuckets', resource: '*', context: base }];
  const resourcePolicy = bucket ? lookups.bucketPolicy(bucket) : undefined;
  const withPolicy = (r: AccessRequest): AccessRequest => (resourcePolicy ? { ...r, resourcePolicy } : r);
  if (bucketAction) {
    const context = { ...base };
    if (bucketAction === 's3:ListBucket' || bucketAction === 's3:ListBucketVersions') {
      for (const [param, keyName] of [
        ['prefix', 's3:prefix'],
        ['delimiter', 's3:delimiter'],
        ['max-keys', 's3:max-keys'],
      ] as const) {
        const v = req.query.get(param);
        if (v !== null) context[keyName] = v;
      }
      // s3:prefix is present (empty) on a listing without a prefix, so `StringLike s3:prefix` policies match it.
      if (!('s3:prefix' in context) && operation !== 'HeadBucket') context['s3:prefix'] = '';
    }
    return [withPolicy({ action: bucketAction, resource: bucketArnOf(bucket), context })];
  }
  if (operation === 'DeleteObjects') return [];
  const pair = OBJECT_ACTIONS[operation];
  const copy = operation === 'CopyObject' || operation === 'UploadPartCopy';
  if (!pair && !copy) return [];
  const versionId = req.query.get('versionId') ?? undefined;
  const action = copy
    ? 's3:PutObject'
    : versionId
      ? (pair as [string, string])[1]
      : (pair as [string, string])[0];
  const context: Record<string, string | string[]> = { ...base };
  if (versionId) context['s3:versionid'] = versionId;
  const sse = req.headers['x-amz-server-side-encryption'];
  if (sse && action === 's3:PutObject') context['s3:x-amz-server-side-encryption'] = sse;
  const sseKey = req.headers['x-amz-server-side-encryption-aws-kms-key-id'];
  if (sseKey && action === 's3:PutObject') context['s3:x-amz-server-side-encryption-aws-kms-key-id'] = sseKey;
  const existing = lookups.objectTags?.(bucket, key, versionId);
  for (const t of existing ?? []) context[`s3:ExistingObjectTag/${t.Key}`] = t.Value;
  const out: AccessRequest[] = [withPolicy({ action, resource: objectArnOf(bucket, key), context })];
  // Tags and ACLs sent with a write need their own permission (S3 API reference, PutObject "Permissions").
  if (
    (operation === 'PutObject' || operation === 'CreateMultipartUpload' || copy) &&
    req.headers['x-amz-tagging']
  )
    out.push(
      withPolicy({ action: 's3:PutObjectTagging', resource: objectArnOf(bucket, key), context: base }),
    );
  if (copy) {
    const source = copySourceOf(req.headers['x-amz-copy-source'] ?? '');
    if (source) {
      const sourcePolicy = lookups.bucketPolicy(source.bucket);
      out.push({
        action: source.versionId ? 's3:GetObjectVersion' : 's3:GetObject',
        resource: objectArnOf(source.bucket, source.key),
        context: { ...base, ...(source.versionId ? { 's3:versionid': source.versionId } : {}) },
        ...(sourcePolicy ? { resourcePolicy: sourcePolicy } : {}),
      });
    }
  }
  return out;
}
