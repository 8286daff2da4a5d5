/**
 * The object operations: PutObject (streamed to disk as it arrives), GetObject / HeadObject (ranged
 * and conditional), DeleteObject and DeleteObjects, CopyObject, and the object's tag set.
 */
import { AwsError, type LocalRequest, type LocalResponse } from '../../core/types';
import { parseTagging, taggingXml } from './bucket-config';
import { Checksummer, MAX_SINGLE_UPLOAD, PayloadReader, parseChecksumAlgorithm, readPayload } from './body';
import { type Call, onObject, type S3Context } from './context';
import { invalidArgument, invalidRequest } from './errors';
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
} from './http';
import { operationOf, targetOf } from './routes';
import { sseFromHeaders, sseResponseHeaders } from './sse';
import { type Bucket, checkVersionId, type ObjectAttributes, type ObjectVersion } from './store';
import { childText, children, malformedXml, parseXml, type XmlFields } from './xml';

export async function putObject(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { req, bucket, key } = call;
  const b = s3.store.bucket(bucket);
  checkAclHeaders(b, req.headers);
  // Checked before the body is read: an upload too large, or one the conditions refuse.
  const payload = new PayloadReader(req, { maxBytes: MAX_SINGLE_UPLOAD });
  checkWriteConditions(b.objects.get(key)?.[0], req.headers);
  const v = await s3.store.writeFrom(b, key, payload.stream(), attributesOf(req.headers), {
    sse: sseFromHeaders(req.headers),
    verify: () => {
      const { checksum } = payload.finish();
      return checksum ? { checksum: { ...checksum, type: 'FULL_OBJECT' } } : {};
    },
  });
  s3.publish(call, b, 'ObjectCreated:Put', v);
  return emptyResponse(200, {
    etag: v.etag,
    ...versionHeader(b, v.versionId),
    ...sseResponseHeaders(v.sse),
    ...checksumResponseHeaders(v),
  });
}

/** GetObject and HeadObject. */
export async function readObject(s3: S3Context, { req, bucket, key }: Call): Promise<LocalResponse> {
  const b = s3.store.bucket(bucket);
  if (req.query.has('partNumber'))
    throw new AwsError(
      'NotImplemented',
      `${operationOf(req)} with partNumber is not implemented by the embedded S3`,
      501,
    );
  const v = await s3.hideMissing(bucket, () => s3.store.version(b, key, req.query.get('versionId')));
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
  return { status, headers, body: await s3.store.body(v, range) };
}

export async function deleteObject(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { req, bucket, key } = call;
  const b = s3.store.bucket(bucket);
  const result = await deleteOne(s3, call, b, key, req.query.get('versionId'));
  const headers: Record<string, string> = {};
  if (result?.versionId) headers['x-amz-version-id'] = result.versionId;
  if (result?.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  return emptyResponse(204, headers);
}

async function deleteOne(
  s3: S3Context,
  call: Call,
  b: Bucket,
  key: string,
  versionId: string | null,
): Promise<{ versionId?: string; deleteMarker: boolean } | undefined> {
  if (versionId !== null) checkVersionId(versionId);
  const result = await s3.store.remove(b, key, versionId);
  if (result?.marker) {
    s3.publish(call, b, 'ObjectRemoved:DeleteMarkerCreated', result.marker);
    return { versionId: b.versioning ? result.marker.versionId : undefined, deleteMarker: true };
  }
  if (result?.removed) {
    s3.publish(call, b, 'ObjectRemoved:Delete', result.removed);
    const versionHeaderValue = versionId ?? (b.versioning ? result.removed.versionId : undefined);
    return { versionId: versionHeaderValue, deleteMarker: result.removed.isDeleteMarker };
  }
  return versionId === null ? undefined : { versionId, deleteMarker: false };
}

export async function deleteObjects(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { req, bucket } = call;
  const b = s3.store.bucket(bucket);
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
      await s3.require([
        versionId === null
          ? onObject(b, key, 's3:DeleteObject')
          : onObject(b, key, 's3:DeleteObjectVersion', { 's3:versionid': versionId }),
      ]);
      const result = await deleteOne(s3, call, b, key, versionId);
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

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, URL-encoded. */
function parseCopySource(header: string): { bucket: string; key: string; versionId?: string } {
  const [path = '', query = ''] = header.split('?', 2);
  const { bucket, key } = targetOf(`/${path.replace(/^\//, '')}`);
  if (!bucket || !key) throw invalidArgument('Invalid copy source object key', 'x-amz-copy-source', header);
  const versionId = new URLSearchParams(query).get('versionId');
  return versionId === null ? { bucket, key } : { bucket, key, versionId };
}

/** Resolves `x-amz-copy-source` to a readable version, checking the copy-source conditions. */
export function copySource(
  s3: S3Context,
  req: LocalRequest,
): { b: Bucket; v: ObjectVersion; headers: Record<string, string> } {
  const source = parseCopySource(req.headers['x-amz-copy-source'] ?? '');
  const b = s3.store.bucket(source.bucket);
  const v = s3.store.version(b, source.key, source.versionId);
  checkConditions(v, req.headers, 'x-amz-copy-source-');
  const headers: Record<string, string> = b.versioning ? { 'x-amz-copy-source-version-id': v.versionId } : {};
  return { b, v, headers };
}

export async function copyObject(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { req, bucket, key } = call;
  const target = s3.store.bucket(bucket);
  checkAclHeaders(target, req.headers);
  const source = copySource(s3, req);
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
  const from = await s3.store.body(source.v);
  async function* copyBytes() {
    for await (const chunk of from) {
      checksummer?.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  const v = await s3.store.writeFrom(target, key, copyBytes(), attributes, {
    ...(sse ? { sse } : {}),
    verify: () =>
      algorithm && checksummer
        ? { checksum: { algorithm, value: checksummer.digest().toString('base64'), type: 'FULL_OBJECT' } }
        : {},
  });
  s3.publish(call, target, 'ObjectCreated:Copy', v);
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

// ---- the object's tag set ----

/** The version a tagging request names (`?versionId`, else the latest). */
function taggedVersion(s3: S3Context, { req, bucket, key }: Call): { b: Bucket; v: ObjectVersion } {
  const b = s3.store.bucket(bucket);
  return { b, v: s3.store.version(b, key, req.query.get('versionId')) };
}

export async function getObjectTagging(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { b, v } = taggedVersion(s3, call);
  return xmlResponse('Tagging', taggingXml(v.tags), versionHeader(b, v.versionId));
}

export async function putObjectTagging(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { b, v } = taggedVersion(s3, call);
  v.tags = parseTagging(parseXml(readPayload(call.req).data, 'Tagging'), 10);
  return emptyResponse(200, versionHeader(b, v.versionId));
}

export async function deleteObjectTagging(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { b, v } = taggedVersion(s3, call);
  v.tags = [];
  return emptyResponse(204, versionHeader(b, v.versionId));
}
