/**
 * Request payloads as S3 receives them: `aws-chunked` framing (signed or unsigned, with trailing
 * checksums), Content-MD5, x-amz-content-sha256 and the flexible checksums (x-amz-checksum-*),
 * all verified the way S3 verifies them.
 */
import { type ChunkVerifier, chunkVerifier } from '../../core/sigv4';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { AwsError, type LocalRequest } from '../../core/types';
import { invalidArgument, invalidRequest } from './errors';

const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Base64, as the x-amz-checksum-* headers carry it; composite values end in `-N`. */
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function parseChecksumAlgorithm(value: string | undefined): ChecksumAlgorithm | undefined {
  if (value === undefined || value === '') return undefined;
  const upper = value.toUpperCase();
  const found = CHECKSUM_ALGORITHMS.find((a) => a === upper);
  if (!found) throw invalidArgument('Value for x-amz-checksum-algorithm header is invalid.');
  return found;
}

/** Table-driven reflected CRC-32 for a polynomial zlib does not offer (CRC-32C). */
function crc32Table(poly: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
const CRC32C_TABLE = crc32Table(0x82f63b78);

function crc32c(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC32C_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-64/NVME (reflected 0x9a6c9329ac4bc9b5) kept in two 32-bit halves so it runs without BigInt per byte. */
const CRC64_TABLE = (() => {
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  const poly = 0x9a6c9329ac4bc9b5n;
  for (let n = 0n; n < 256n; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    hi[Number(n)] = Number(c >> 32n);
    lo[Number(n)] = Number(c & 0xffffffffn);
  }
  return { hi, lo };
})();

function crc64nvme(data: Buffer): Buffer {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  for (const byte of data) {
    const idx = (lo ^ byte) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ (CRC64_TABLE.lo[idx] as number)) >>> 0;
    hi = ((hi >>> 8) ^ (CRC64_TABLE.hi[idx] as number)) >>> 0;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
  out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
  return out;
}

function uint32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n >>> 0);
  return out;
}

export function checksumBytes(algorithm: ChecksumAlgorithm, data: Buffer): Buffer {
  switch (algorithm) {
    case 'CRC32':
      return uint32(crc32(data));
    case 'CRC32C':
      return uint32(crc32c(data));
    case 'CRC64NVME':
      return crc64nvme(data);
    case 'SHA1':
      return createHash('sha1').update(data).digest();
    case 'SHA256':
      return createHash('sha256').update(data).digest();
  }
}

export function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): string {
  return checksumBytes(algorithm, data).toString('base64');
}

export function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

export interface RequestPayload {
  data: Buffer;
  /** The flexible checksum the client sent (header or trailer), already verified. */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

function isChunked(req: LocalRequest): boolean {
  const sha = req.headers['x-amz-content-sha256'] ?? '';
  const encoding = req.headers['content-encoding'] ?? '';
  return sha.startsWith('STREAMING-') || encoding.split(',').some((e) => e.trim() === 'aws-chunked');
}

/**
 * Strips `aws-chunked` framing, verifying each chunk's and the trailer's signature when the request
 * was signed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) (S3 API reference, "sigv4-streaming").
 */
function decodeChunks(
  raw: Buffer,
  verifier?: ChunkVerifier,
): { data: Buffer; trailers: Record<string, string> } {
  const parts: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  const line = (): string => {
    const end = raw.indexOf('\r\n', at);
    if (end < 0) throw incompleteBody();
    const text = raw.subarray(at, end).toString('latin1');
    at = end + 2;
    return text;
  };
  for (;;) {
    const header = line();
    const size = Number.parseInt(header.split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size < 0) throw incompleteBody();
    if (at + size > raw.length) throw incompleteBody();
    verifier?.chunk(header, raw.subarray(at, at + size));
    if (size === 0) break;
    if (at + size + 2 > raw.length) throw incompleteBody();
    parts.push(raw.subarray(at, at + size));
    at += size;
    if (raw.toString('latin1', at, at + 2) !== '\r\n') throw incompleteBody();
    at += 2;
  }
  while (at < raw.length) {
    const text = line();
    if (text === '') break;
    const colon = text.indexOf(':');
    if (colon > 0) trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }
  verifier?.end(trailers);
  return { data: Buffer.concat(parts), trailers };
}

const incompleteBody = () =>
  new AwsError(
    'IncompleteBody',
    'You did not provide the number of bytes specified by the Content-Length HTTP header',
    400,
  );

const badDigest = (what: string) =>
  new AwsError('BadDigest', `The ${what} you specified did not match the calculated checksum.`, 400);

/**
 * Decodes and verifies a request body; throws the error S3 would answer with. `checksumIsOfBody` is
 * false where x-amz-checksum-* describes something else (CompleteMultipartUpload: the whole object).
 */
export function readPayload(req: LocalRequest, checksumIsOfBody = true): RequestPayload {
  let data = req.body;
  let trailers: Record<string, string> = {};
  if (isChunked(req)) {
    ({ data, trailers } = decodeChunks(req.body, chunkVerifier(req.auth)));
    const declared = req.headers['x-amz-decoded-content-length'];
    if (declared !== undefined && Number(declared) !== data.length) throw incompleteBody();
  } else if (!req.auth) {
    // Authentication (sigv4.ts) has compared the body with x-amz-content-sha256 already.
    const sha = req.headers['x-amz-content-sha256'];
    if (sha && /^[0-9a-f]{64}$/.test(sha) && createHash('sha256').update(data).digest('hex') !== sha) {
      throw new AwsError(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
      );
    }
  }
  const md5 = req.headers['content-md5'];
  if (md5 !== undefined) {
    const expected = Buffer.from(md5, 'base64');
    if (expected.length !== 16)
      throw new AwsError('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400);
    if (!createHash('md5').update(data).digest().equals(expected)) {
      throw new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
    }
  }
  if (!checksumIsOfBody) return { data };
  const sent = CHECKSUM_ALGORITHMS.flatMap((algorithm) => {
    const value = req.headers[checksumHeader(algorithm)] ?? trailers[checksumHeader(algorithm)];
    return value === undefined ? [] : [{ algorithm, value }];
  });
  if (sent.length > 1)
    throw invalidRequest(
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  const checksum = sent[0];
  if (checksum && checksumOf(checksum.algorithm, data) !== checksum.value)
    throw badDigest(checksum.algorithm);
  return checksum ? { data, checksum } : { data };
}
