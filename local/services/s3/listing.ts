/** The S3 list operations: key ordering, prefix/delimiter/marker paging and the list documents. */
import type { LocalResponse } from '../../core/types';
import { invalidArgument } from './errors';
import { xmlResponse } from './http';
import { encodeEventKey } from './notifications';
import type { Bucket, Upload } from './store';
import type { XmlFields } from './xml';

/** S3 lists keys in UTF-8 binary order, which differs from UTF-16 order past the BMP. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedKeys(keys: Iterable<string>): string[] {
  return [...keys]
    .map((key) => ({ key, bytes: Buffer.from(key, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map((k) => k.key);
}

function maxKeysOf(query: URLSearchParams, name = 'max-keys'): number {
  const raw = query.get(name);
  if (raw === null) return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw invalidArgument('Provided max-keys not an integer or within integer range', name, raw);
  return Math.min(n, 1000);
}

interface PageOptions<T> {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  /** Entries at or before the marker (the previous page's end, start-after, ...). */
  skip: (entry: T) => boolean;
  /** A marker that was a common prefix: every key under it was already reported. */
  marker?: string;
}

interface Page<T> {
  entries: T[];
  prefixes: string[];
  truncated: boolean;
  /** The last thing returned (key or common prefix), for the next marker. */
  last?: { key: string; entry?: T };
}

/** One page over entries already in key order; common prefixes count toward max-keys as on S3. */
function paginate<T extends { key: string }>(entries: Iterable<T>, o: PageOptions<T>): Page<T> {
  const page: Page<T> = { entries: [], prefixes: [], truncated: false };
  for (const entry of entries) {
    if (!entry.key.startsWith(o.prefix) || o.skip(entry)) continue;
    const cut = o.delimiter ? entry.key.indexOf(o.delimiter, o.prefix.length) : -1;
    const common = cut < 0 ? undefined : entry.key.slice(0, cut + o.delimiter.length);
    if (common !== undefined && (common === o.marker || common === page.prefixes.at(-1))) continue;
    if (page.entries.length + page.prefixes.length >= o.maxKeys) {
      page.truncated = true;
      break;
    }
    if (common === undefined) {
      page.entries.push(entry);
      page.last = { key: entry.key, entry };
    } else {
      page.prefixes.push(common);
      page.last = { key: common };
    }
  }
  return page;
}

/** `encoding-type=url` listings encode keys, prefixes and delimiters as event messages do. */
function keyEncoder(query: URLSearchParams): (s: string) => string {
  const type = query.get('encoding-type');
  if (type === null) return (s) => s;
  if (type !== 'url')
    throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', type);
  return encodeEventKey;
}

/** Parameters every list operation reads the same way. */
function listParams(q: URLSearchParams, maxName = 'max-keys') {
  return {
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    maxKeys: maxKeysOf(q, maxName),
    encode: keyEncoder(q),
    encodingType: q.get('encoding-type') ?? undefined,
  };
}

const tokenOf = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

export function listBucketsResponse(
  buckets: Map<string, Bucket>,
  q: URLSearchParams,
  owner: XmlFields,
): LocalResponse {
  const token = q.get('continuation-token');
  const after = token === null ? undefined : Buffer.from(token, 'base64url').toString('utf8');
  const region = q.get('bucket-region');
  const entries = sortedKeys(buckets.keys()).flatMap((name) => {
    const b = buckets.get(name);
    return b ? [{ key: name, b }] : [];
  });
  const page = paginate(entries, {
    prefix: q.get('prefix') ?? '',
    delimiter: '',
    maxKeys: q.has('max-buckets') ? maxKeysOf(q, 'max-buckets') : 10_000,
    skip: (e) =>
      (region !== null && e.b.region !== region) || (after !== undefined && compareKeys(e.key, after) <= 0),
  });
  return xmlResponse('ListAllMyBucketsResult', {
    Owner: owner,
    Buckets: {
      Bucket: page.entries.map(({ b }) => ({
        Name: b.name,
        CreationDate: b.creationDate,
        BucketRegion: b.region,
      })),
    },
    ContinuationToken: page.truncated && page.last ? tokenOf(page.last.key) : undefined,
    Prefix: q.get('prefix') ?? undefined,
  });
}

/** ListObjects (v1, `marker`) and ListObjectsV2 (`continuation-token`/`start-after`) over latest versions. */
export function listObjectsResponse(
  b: Bucket,
  q: URLSearchParams,
  apiVersion: 1 | 2,
  owner: XmlFields,
): LocalResponse {
  const { prefix, delimiter, maxKeys, encode, encodingType } = listParams(q);
  const token = q.get('continuation-token');
  let after = (apiVersion === 1 ? q.get('marker') : q.get('start-after')) ?? '';
  if (apiVersion === 2 && token !== null) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (token === '' || tokenOf(after) !== token) {
      throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
    }
  }
  const latest = sortedKeys(b.objects.keys()).flatMap((key) => {
    const v = b.objects.get(key)?.[0];
    return v && !v.isDeleteMarker ? [v] : [];
  });
  const page = paginate(latest, {
    prefix,
    delimiter,
    maxKeys,
    skip: (v) => after !== '' && compareKeys(v.key, after) <= 0,
    marker: after || undefined,
  });
  const withOwner = apiVersion === 1 || q.get('fetch-owner') === 'true';
  const listed: XmlFields = {
    MaxKeys: maxKeys,
    Delimiter: delimiter ? encode(delimiter) : undefined,
    IsTruncated: page.truncated,
    Contents: page.entries.map((v) => ({
      Key: encode(v.key),
      LastModified: v.lastModified,
      ETag: v.etag,
      ChecksumAlgorithm: v.checksum?.algorithm,
      ChecksumType: v.checksum?.type,
      Size: v.size,
      Owner: withOwner ? owner : undefined,
      StorageClass: v.storageClass ?? 'STANDARD',
    })),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) })),
    EncodingType: encodingType,
  };
  const next = page.truncated ? page.last?.key : undefined;
  if (apiVersion === 1) {
    return xmlResponse('ListBucketResult', {
      Name: b.name,
      Prefix: encode(prefix),
      Marker: encode(after),
      NextMarker: next === undefined ? undefined : encode(next),
      ...listed,
    });
  }
  return xmlResponse('ListBucketResult', {
    Name: b.name,
    Prefix: encode(prefix),
    KeyCount: page.entries.length + page.prefixes.length,
    ContinuationToken: token ?? undefined,
    NextContinuationToken: next === undefined ? undefined : tokenOf(next),
    StartAfter: q.has('start-after') ? encode(q.get('start-after') ?? '') : undefined,
    ...listed,
  });
}

/** Every version and delete marker, keys ascending and versions newest first, as S3 orders them. */
export function listObjectVersionsResponse(b: Bucket, q: URLSearchParams, owner: XmlFields): LocalResponse {
  const { prefix, delimiter, maxKeys, encode, encodingType } = listParams(q);
  const keyMarker = q.get('key-marker') ?? '';
  const versionMarker = q.get('version-id-marker') ?? '';
  const entries = sortedKeys(b.objects.keys()).flatMap((key) =>
    (b.objects.get(key) ?? []).map((v, index) => ({ key, v, index })),
  );
  const markerIndex = (key: string) =>
    (b.objects.get(key) ?? []).findIndex((v) => v.versionId === versionMarker);
  const page = paginate(entries, {
    prefix,
    delimiter,
    maxKeys,
    skip: (e) => {
      if (!keyMarker) return false;
      const order = compareKeys(e.key, keyMarker);
      return order < 0 || (order === 0 && (!versionMarker || e.index <= markerIndex(e.key)));
    },
    marker: keyMarker || undefined,
  });
  const item = ({ v, index }: (typeof entries)[number]): XmlFields => ({
    Key: encode(v.key),
    VersionId: v.versionId,
    IsLatest: index === 0,
    LastModified: v.lastModified,
    ...(v.isDeleteMarker ? {} : { ETag: v.etag, Size: v.size, StorageClass: v.storageClass ?? 'STANDARD' }),
    Owner: owner,
  });
  const last = page.truncated ? page.last : undefined;
  return xmlResponse('ListVersionsResult', {
    Name: b.name,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker),
    VersionIdMarker: versionMarker,
    NextKeyMarker: last ? encode(last.key) : undefined,
    NextVersionIdMarker: last?.entry?.v.versionId,
    MaxKeys: maxKeys,
    Delimiter: delimiter ? encode(delimiter) : undefined,
    IsTruncated: page.truncated,
    Version: page.entries.filter((e) => !e.v.isDeleteMarker).map(item),
    DeleteMarker: page.entries.filter((e) => e.v.isDeleteMarker).map(item),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) })),
    EncodingType: encodingType,
  });
}

export function listPartsResponse(
  b: Bucket,
  upload: Upload,
  q: URLSearchParams,
  owner: XmlFields,
): LocalResponse {
  const marker = Number(q.get('part-number-marker') ?? 0) || 0;
  const maxParts = maxKeysOf(q, 'max-parts');
  const after = [...upload.parts.values()]
    .filter((p) => p.partNumber > marker)
    .sort((x, y) => x.partNumber - y.partNumber);
  const parts = after.slice(0, maxParts);
  const algorithm = upload.checksumAlgorithm;
  return xmlResponse('ListPartsResult', {
    Bucket: b.name,
    Key: upload.key,
    UploadId: upload.uploadId,
    Initiator: owner,
    Owner: owner,
    StorageClass: upload.attributes.storageClass ?? 'STANDARD',
    PartNumberMarker: marker,
    NextPartNumberMarker: parts.at(-1)?.partNumber ?? marker,
    MaxParts: maxParts,
    IsTruncated: after.length > parts.length,
    ChecksumAlgorithm: algorithm,
    ChecksumType: upload.checksumType,
    Part: parts.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: p.lastModified,
      ETag: p.etag,
      Size: p.size,
      ...(p.checksum && algorithm ? { [`Checksum${algorithm}`]: p.checksum } : {}),
    })),
  });
}

export function listMultipartUploadsResponse(b: Bucket, q: URLSearchParams, owner: XmlFields): LocalResponse {
  const { prefix, delimiter, maxKeys, encode, encodingType } = listParams(q, 'max-uploads');
  const keyMarker = q.get('key-marker') ?? '';
  const uploadIdMarker = q.get('upload-id-marker') ?? '';
  const markerUpload = b.uploads.get(uploadIdMarker);
  const uploads = [...b.uploads.values()].sort(
    (x, y) => compareKeys(x.key, y.key) || x.initiated.localeCompare(y.initiated),
  );
  const page = paginate(uploads, {
    prefix,
    delimiter,
    maxKeys,
    skip: (u) => {
      if (!keyMarker) return false;
      const order = compareKeys(u.key, keyMarker);
      if (order !== 0) return order < 0;
      return !markerUpload || u.initiated <= markerUpload.initiated;
    },
    marker: keyMarker || undefined,
  });
  const last = page.truncated ? page.last : undefined;
  return xmlResponse('ListMultipartUploadsResult', {
    Bucket: b.name,
    KeyMarker: encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: last ? encode(last.key) : undefined,
    NextUploadIdMarker: last?.entry?.uploadId,
    Prefix: encode(prefix),
    Delimiter: delimiter ? encode(delimiter) : undefined,
    MaxUploads: maxKeys,
    IsTruncated: page.truncated,
    Upload: page.entries.map((u) => ({
      Key: encode(u.key),
      UploadId: u.uploadId,
      Initiator: owner,
      Owner: owner,
      StorageClass: u.attributes.storageClass ?? 'STANDARD',
      Initiated: u.initiated,
      ChecksumAlgorithm: u.checksumAlgorithm,
      ChecksumType: u.checksumType,
    })),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) })),
    EncodingType: encodingType,
  });
}
