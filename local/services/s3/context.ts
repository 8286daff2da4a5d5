/**
 * What every S3 operation handler acts through: the request as a `Call` (bucket and key already
 * taken from the path), and the service's `S3Context` — the store, the notifier, the canonical
 * owner, and the IAM questions S3 asks itself (for in-process callers and NoSuchKey's 403).
 */
import { createHash } from 'node:crypto';
import { AwsError, type LocalRequest, type LocalResponse } from '../../core/types';
import { type Authorizer, currentCaller } from '../../iam/authorizer';
import type { AccessRequest } from '../../iam/types';
import { bucketArnOf, objectArnOf } from './access';
import { accessDenied, newRequestId } from './errors';
import type { Notifier, ObjectEventName } from './notifications';
import type { Bucket, ObjectAttributes, ObjectVersion, Store } from './store';

/** One request, with its bucket and key already taken from the path. */
export interface Call {
  req: LocalRequest;
  bucket: string;
  key: string;
  requestId: string;
}

export type Handler = (call: Call) => Promise<LocalResponse>;

function principalOf(req: LocalRequest): string {
  const accessKey = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
  return `AWS:${accessKey ?? 'anonymous'}`;
}

/** S3 canonical user ids are 64 hex digits; derive a stable one from the account. */
const canonicalId = (accountId: string) => createHash('sha256').update(`s3:${accountId}`).digest('hex');

/** The attributes of an object written with nothing but a content type (host hooks, fixtures). */
export const plainAttributes = (contentType = 'binary/octet-stream'): ObjectAttributes => ({
  contentType,
  headers: {},
  metadata: {},
  tags: [],
});

/** ACTION on the object, asked with the bucket's policy as the resource policy. */
export function onObject(
  b: Bucket,
  key: string,
  action: string,
  context?: AccessRequest['context'],
): AccessRequest {
  return {
    action,
    resource: objectArnOf(b.name, key),
    ...(context ? { context } : {}),
    ...(b.policy ? { resourcePolicy: b.policy } : {}),
  };
}

export class S3Context {
  readonly owner: { ID: string; DisplayName: string };

  constructor(
    readonly store: Store,
    readonly notifier: Notifier,
    readonly accountId: string,
    private readonly authorizer: Authorizer | undefined,
  ) {
    this.owner = { ID: canonicalId(accountId), DisplayName: 'tunevault-local' };
  }

  /** Asks the authorizer for the current caller (none outside a request: the embedded AWS itself). */
  async require(reqs: AccessRequest[]): Promise<void> {
    const caller = currentCaller();
    if (caller && this.authorizer) await this.authorizer.require(caller, 's3', reqs);
  }

  /**
   * S3 answers 404 NoSuchKey only to a caller that may list the bucket; to others, 403 AccessDenied
   * (S3 API reference, GetObject and HeadObject, "Permissions": "If you don't have the s3:ListBucket
   * permission, Amazon S3 returns an HTTP status code 403 Access Denied error").
   */
  async hideMissing<T>(bucket: string, read: () => Promise<T> | T): Promise<T> {
    try {
      return await read();
    } catch (err) {
      const missing = err instanceof AwsError && (err.code === 'NoSuchKey' || err.code === 'NoSuchVersion');
      const caller = currentCaller();
      const authorizer = this.authorizer;
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

  /** The notification of an object event (`call` is undefined for the embedded AWS's own writes). */
  publish(call: Call | undefined, b: Bucket, eventName: ObjectEventName, v: ObjectVersion): void {
    const live = !v.isDeleteMarker && eventName !== 'ObjectRemoved:Delete';
    this.notifier.publish({
      eventName,
      bucket: b,
      key: v.key,
      ...(live ? { size: v.size, etag: v.etag } : {}),
      versionId: v.versionId,
      requestId: call?.requestId ?? newRequestId(),
      sourceIp: call?.req.headers['x-forwarded-for']?.split(',')[0]?.trim() ?? '127.0.0.1',
      principalId: call ? principalOf(call.req) : `AWS:${this.accountId}`,
    });
  }
}
