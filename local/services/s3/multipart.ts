/**
 * The multipart operations: create, UploadPart (streamed) and UploadPartCopy, complete, abort, and
 * the two listings. The parts themselves are kept by the store (uploads.ts).
 */
import type { LocalResponse } from '../../core/types';
import {
  type ChecksumAlgorithm,
  checksumHeader,
  checksumOf,
  MAX_SINGLE_UPLOAD,
  PayloadReader,
  parseChecksumAlgorithm,
  readPayload,
} from './body';
import type { Call, S3Context } from './context';
import { invalidArgument, invalidRequest } from './errors';
import {
  attributesOf,
  checkAclHeaders,
  checksumXml,
  checkWriteConditions,
  emptyResponse,
  versionHeader,
  xmlResponse,
} from './http';
import { listMultipartUploadsResponse, listPartsResponse } from './listing';
import { copySource } from './objects';
import { sseFromHeaders, sseResponseHeaders } from './sse';
import type { Bucket, Upload, UploadOptions } from './store';
import { childText, children, malformedXml, parseXml } from './xml';

function uploadHeaders(upload: Upload): Record<string, string> {
  const headers = sseResponseHeaders(upload.sse);
  if (upload.checksumAlgorithm && upload.checksumType) {
    headers['x-amz-checksum-algorithm'] = upload.checksumAlgorithm;
    headers['x-amz-checksum-type'] = upload.checksumType;
  }
  return headers;
}

/** The bucket and the upload `?uploadId` names for the call's key. */
function uploadOf(s3: S3Context, { req, bucket, key }: Call): { b: Bucket; upload: Upload } {
  const b = s3.store.bucket(bucket);
  return { b, upload: s3.store.uploads.get(b, req.query.get('uploadId'), key) };
}

export async function createMultipartUpload(
  s3: S3Context,
  { req, bucket, key }: Call,
): Promise<LocalResponse> {
  const b = s3.store.bucket(bucket);
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
  const upload = await s3.store.uploads.create(b, key, attributesOf(req.headers), options);
  return xmlResponse(
    'InitiateMultipartUploadResult',
    { Bucket: bucket, Key: key, UploadId: upload.uploadId },
    uploadHeaders(upload),
  );
}

/** UploadPart, and UploadPartCopy when the part's bytes come from `x-amz-copy-source`. */
export async function uploadPart(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { req } = call;
  const b = s3.store.bucket(call.bucket);
  const raw = req.query.get('partNumber') ?? '';
  const partNumber = Number(raw);
  if (!/^\d+$/.test(raw) || partNumber < 1 || partNumber > 10_000) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', raw);
  }
  const upload = s3.store.uploads.get(b, req.query.get('uploadId'), call.key);
  if (req.headers['x-amz-copy-source'] === undefined) {
    const payload = new PayloadReader(req, { maxBytes: MAX_SINGLE_UPLOAD });
    let sent: { algorithm: string; value: string } | undefined;
    const part = await s3.store.uploads.putPartFrom(upload, partNumber, payload.stream(), () => {
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
  const source = copySource(s3, req);
  let data = await s3.store.read(source.v);
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
  const part = await s3.store.uploads.putPart(
    upload,
    partNumber,
    data,
    algorithm && checksumOf(algorithm, data),
  );
  return xmlResponse(
    'CopyPartResult',
    { ETag: part.etag, LastModified: part.lastModified },
    { ...source.headers, ...sseResponseHeaders(upload.sse) },
  );
}

export async function completeMultipartUpload(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { req, bucket, key } = call;
  const { b, upload } = uploadOf(s3, call);
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
  const v = await s3.store.uploads.complete(b, upload, listed);
  s3.publish(call, b, 'ObjectCreated:CompleteMultipartUpload', v);
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

export async function abortMultipartUpload(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { b, upload } = uploadOf(s3, call);
  await s3.store.uploads.abort(b, upload);
  return emptyResponse(204);
}

export async function listParts(s3: S3Context, call: Call): Promise<LocalResponse> {
  const { b, upload } = uploadOf(s3, call);
  return listPartsResponse(b, upload, call.req.query, s3.owner);
}

export async function listMultipartUploads(s3: S3Context, { req, bucket }: Call): Promise<LocalResponse> {
  return listMultipartUploadsResponse(s3.store.bucket(bucket), req.query, s3.owner);
}
