/** Object requests and answers at the HTTP level: attribute headers, ranges, conditions, XML bodies. */
import { AwsError, type LocalRequest, type LocalResponse } from '../../core/types';
import type { ByteRange } from './blobs';
import { parseTaggingHeader } from './bucket-config';
import { type Checksum, checksumHeader } from './body';
import { preconditionFailed } from './errors';
import { sseResponseHeaders } from './sse';
import type { Bucket, ObjectAttributes, ObjectVersion } from './store';
import { type XmlFields, xmlDocument } from './xml';

type Headers = LocalRequest['headers'];

const STORED_HEADERS = [
  'content-disposition',
  'cache-control',
  'content-language',
  'expires',
  'content-encoding',
] as const;

const STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
  'OUTPOSTS',
  'SNOW',
  'EXPRESS_ONEZONE',
];

/** Content-Encoding as stored: S3 drops the `aws-chunked` transfer framing from it. */
function storedEncoding(value: string): string | undefined {
  const kept = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked');
  return kept.length > 0 ? kept.join(',') : undefined;
}

export function attributesOf(headers: Headers): ObjectAttributes {
  const stored: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = headers[name];
    const kept = name === 'content-encoding' && value !== undefined ? storedEncoding(value) : value;
    if (kept !== undefined) stored[name] = kept;
  }
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) metadata[name] = value;
  }
  const attributes: ObjectAttributes = {
    contentType: headers['content-type'] ?? 'binary/octet-stream',
    headers: stored,
    metadata,
    tags: headers['x-amz-tagging'] ? parseTaggingHeader(headers['x-amz-tagging']) : [],
  };
  const storageClass = headers['x-amz-storage-class'];
  if (storageClass !== undefined) {
    if (!STORAGE_CLASSES.includes(storageClass)) {
      throw new AwsError('InvalidStorageClass', 'The storage class you specified is not valid', 400, {
        StorageClassRequested: storageClass,
      });
    }
    if (storageClass !== 'STANDARD') attributes.storageClass = storageClass;
  }
  return attributes;
}

/** S3 refuses ACLs that grant anything beyond the owner once ACLs are disabled (BucketOwnerEnforced). */
export function checkAclHeaders(b: Bucket, headers: Headers): void {
  if (b.ownership !== 'BucketOwnerEnforced') return;
  const acl = headers['x-amz-acl'];
  const grants = Object.keys(headers).some((h) => h.startsWith('x-amz-grant-'));
  if (grants || (acl !== undefined && acl !== 'private' && acl !== 'bucket-owner-full-control')) {
    throw new AwsError('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400);
  }
}

export function versionHeader(b: Bucket, versionId: string | undefined): Record<string, string> {
  return b.versioning && versionId ? { 'x-amz-version-id': versionId } : {};
}

export function checksumResponseHeaders(v: Pick<ObjectVersion, 'checksum'>): Record<string, string> {
  if (!v.checksum) return {};
  return { [checksumHeader(v.checksum.algorithm)]: v.checksum.value, 'x-amz-checksum-type': v.checksum.type };
}

/** `Checksum<ALGORITHM>` and `ChecksumType` as result documents carry them. */
export function checksumXml(checksum: Checksum | undefined): XmlFields {
  return checksum ? { [`Checksum${checksum.algorithm}`]: checksum.value, ChecksumType: checksum.type } : {};
}

/** The headers GetObject and HeadObject answer with. */
export function objectHeaders(b: Bucket, v: ObjectVersion, req: LocalRequest): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': v.contentType,
    etag: v.etag,
    'last-modified': new Date(v.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    ...v.headers,
    ...v.metadata,
    ...versionHeader(b, v.versionId),
    ...sseResponseHeaders(v.sse),
  };
  if (v.storageClass) headers['x-amz-storage-class'] = v.storageClass;
  if (req.method === 'GET' && v.tags.length > 0) headers['x-amz-tagging-count'] = String(v.tags.length);
  // A checksum describes the whole object, so ranged reads do not get one.
  if (req.headers['x-amz-checksum-mode'] === 'ENABLED' && !req.headers.range)
    Object.assign(headers, checksumResponseHeaders(v));
  for (const [param, header] of [
    ['response-content-type', 'content-type'],
    ['response-content-language', 'content-language'],
    ['response-expires', 'expires'],
    ['response-cache-control', 'cache-control'],
    ['response-content-disposition', 'content-disposition'],
    ['response-content-encoding', 'content-encoding'],
  ] as const) {
    const override = req.query.get(param);
    if (override !== null) headers[header] = override;
  }
  return headers;
}

/** One `bytes=` range, as S3 honours it; anything else reads the whole object. */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || size === 0 || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = () =>
    new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, {
      RangeRequested: header ?? '',
      ActualObjectSize: String(size),
    });
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) throw unsatisfiable();
  if (end < start) return undefined;
  return { start, end };
}

const etagMatches = (list: string, etag: string) =>
  list.split(',').some((e) => {
    const t = e.trim().replace(/^W\//, '');
    return t === '*' || t.replace(/"/g, '') === etag.replace(/"/g, '');
  });

/** HTTP dates have whole seconds; S3 compares at that precision. An unparsable date is ignored (NaN). */
const seconds = (date: string) => Math.floor(Date.parse(date) / 1000);

/**
 * GET/HEAD conditions (and their x-amz-copy-source-* twins on copies). Answers 304 for a GET the
 * client already has; throws PreconditionFailed (412) for the failing If-Match family.
 */
export function checkConditions(
  v: ObjectVersion,
  headers: Headers,
  prefix: '' | 'x-amz-copy-source-' = '',
): 'not-modified' | undefined {
  const ifMatch = headers[`${prefix}if-match`];
  const ifNoneMatch = headers[`${prefix}if-none-match`];
  const ifModifiedSince = headers[`${prefix}if-modified-since`];
  const ifUnmodifiedSince = headers[`${prefix}if-unmodified-since`];
  const modified = seconds(v.lastModified);
  if (ifMatch !== undefined && !etagMatches(ifMatch, v.etag)) throw preconditionFailed('If-Match');
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined && modified > seconds(ifUnmodifiedSince)) {
    throw preconditionFailed('If-Unmodified-Since');
  }
  const notModified =
    ifNoneMatch !== undefined
      ? etagMatches(ifNoneMatch, v.etag)
      : ifModifiedSince !== undefined && modified <= seconds(ifModifiedSince);
  if (!notModified) return undefined;
  if (prefix)
    throw preconditionFailed(
      ifNoneMatch !== undefined ? 'x-amz-copy-source-If-None-Match' : 'x-amz-copy-source-If-Modified-Since',
    );
  return 'not-modified';
}

/** Conditional writes: `If-None-Match: *` (create only) and `If-Match: <etag>` (replace that version). */
export function checkWriteConditions(current: ObjectVersion | undefined, headers: Headers): void {
  const live = current && !current.isDeleteMarker ? current : undefined;
  const ifNoneMatch = headers['if-none-match'];
  const ifMatch = headers['if-match'];
  if (ifNoneMatch !== undefined && live) throw preconditionFailed('If-None-Match');
  if (ifMatch !== undefined) {
    if (!live) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404);
    if (!etagMatches(ifMatch, live.etag)) throw preconditionFailed('If-Match');
  }
}

export function xmlResponse(
  root: string,
  body: XmlFields | string,
  headers: Record<string, string> = {},
): LocalResponse {
  return {
    status: 200,
    headers: { ...headers, 'content-type': 'application/xml' },
    body: xmlDocument(root, body),
  };
}

export function emptyResponse(status = 200, headers: Record<string, string> = {}): LocalResponse {
  return { status, headers: status === 204 ? headers : { ...headers, 'content-length': '0' } };
}
