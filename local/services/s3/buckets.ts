/**
 * The bucket operations: create, head, delete, location, the bucket policy, the listings, and the
 * sub-resources kept as one document each (encryption, tagging, versioning, …: bucket-config.ts).
 */
import { AwsError, type LocalResponse } from '../../core/types';
import {
  BUCKET_DOCUMENTS,
  OBJECT_OWNERSHIPS,
  refusePublicPolicy,
  validateBucketPolicy,
} from './bucket-config';
import { readPayload } from './body';
import type { Call, Handler, S3Context } from './context';
import { invalidArgument, notFoundConfiguration } from './errors';
import { emptyResponse, xmlResponse } from './http';
import { listBucketsResponse, listObjectsResponse, listObjectVersionsResponse } from './listing';
import { childText, parseXml } from './xml';

export async function createBucket(s3: S3Context, { req, bucket }: Call): Promise<LocalResponse> {
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
  const b = s3.store.createBucket(bucket, region);
  if (ownership) b.ownership = ownership;
  return emptyResponse(200, { location: `/${bucket}` });
}

export async function headBucket(s3: S3Context, { bucket }: Call): Promise<LocalResponse> {
  const b = s3.store.bucket(bucket);
  return emptyResponse(200, { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' });
}

export async function deleteBucket(s3: S3Context, { bucket }: Call): Promise<LocalResponse> {
  await s3.store.deleteBucket(bucket);
  s3.notifier.forgetBucket(bucket);
  return emptyResponse(204);
}

export async function getBucketLocation(s3: S3Context, { bucket }: Call): Promise<LocalResponse> {
  const { region } = s3.store.bucket(bucket);
  // us-east-1 is spelled as an empty constraint, for historical reasons.
  return xmlResponse('LocationConstraint', region === 'us-east-1' ? '' : region);
}

// ---- the bucket policy ----

export async function getBucketPolicy(s3: S3Context, { bucket }: Call): Promise<LocalResponse> {
  const { policy } = s3.store.bucket(bucket);
  if (policy === undefined)
    throw notFoundConfiguration('NoSuchBucketPolicy', 'The bucket policy does not exist', bucket);
  return { status: 200, headers: { 'content-type': 'application/json' }, body: policy };
}

export async function putBucketPolicy(s3: S3Context, { req, bucket }: Call): Promise<LocalResponse> {
  const b = s3.store.bucket(bucket);
  const policy = readPayload(req).data.toString('utf8');
  const { isPublic } = validateBucketPolicy(policy, bucket);
  if (isPublic && b.publicAccessBlock?.BlockPublicPolicy) refusePublicPolicy();
  b.policy = policy;
  return emptyResponse(204);
}

export async function deleteBucketPolicy(s3: S3Context, { bucket }: Call): Promise<LocalResponse> {
  delete s3.store.bucket(bucket).policy;
  return emptyResponse(204);
}

// ---- listings ----

export async function listBuckets(s3: S3Context, { req }: Call): Promise<LocalResponse> {
  return listBucketsResponse(s3.store.buckets, req.query, s3.owner);
}

export async function listObjects(s3: S3Context, { req, bucket }: Call, apiVersion: 1 | 2) {
  return listObjectsResponse(s3.store.bucket(bucket), req.query, apiVersion, s3.owner);
}

export async function listObjectVersions(s3: S3Context, { req, bucket }: Call): Promise<LocalResponse> {
  return listObjectVersionsResponse(s3.store.bucket(bucket), req.query, s3.owner);
}

// ---- sub-resources kept as one document ----

/** Get, Put and Delete of every bucket sub-resource kept as one document (BUCKET_DOCUMENTS). */
export function documentHandlers(s3: S3Context): Record<string, Handler> {
  const handlers: Record<string, Handler> = {};
  for (const doc of BUCKET_DOCUMENTS) {
    const [get, put, remove] = doc.operations;
    handlers[get] = async ({ bucket }) => {
      const fields = doc.read(s3.store.bucket(bucket));
      if (fields) return xmlResponse(doc.root, fields);
      if (doc.missing) throw notFoundConfiguration(doc.missing.code, doc.missing.message, bucket);
      return xmlResponse(doc.root, {});
    };
    handlers[put] = async ({ req, bucket }) => {
      const b = s3.store.bucket(bucket);
      doc.write(b, parseXml(readPayload(req).data, doc.root));
      return emptyResponse(doc.putStatus ?? 200);
    };
    if (remove) {
      handlers[remove] = async ({ bucket }) => {
        doc.remove(s3.store.bucket(bucket));
        return emptyResponse(204);
      };
    }
  }
  return handlers;
}
