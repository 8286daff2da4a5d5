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

function uint32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n >>> 0);
  return out;
}

/** A flexible checksum computed as the bytes go by (streamed bodies, joined multipart parts). */
export class Checksummer {
  private crc = 0;
  private c32c = 0xffffffff;
  private hi = 0xffffffff;
  private lo = 0xffffffff;
  private readonly hash;

  constructor(readonly algorithm: ChecksumAlgorithm) {
    this.hash =
      algorithm === 'SHA1' ? createHash('sha1') : algorithm === 'SHA256' ? createHash('sha256') : undefined;
  }

  update(data: Buffer): this {
    // zlib's crc32() answers its initial value (0) for an empty buffer without backing memory
    // (such as decipher.final() returns), whatever CRC it is given: skip empty input.
    if (data.length === 0) return this;
    switch (this.algorithm) {
      case 'CRC32':
        this.crc = crc32(data, this.crc);
        break;
      case 'CRC32C': {
        let c = this.c32c;
        for (const byte of data) c = (CRC32C_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
        this.c32c = c >>> 0;
        break;
      }
      case 'CRC64NVME': {
        let { hi, lo } = this;
        for (const byte of data) {
          const idx = (lo ^ byte) & 0xff;
          lo = (((lo >>> 8) | (hi << 24)) ^ (CRC64_TABLE.lo[idx] as number)) >>> 0;
          hi = ((hi >>> 8) ^ (CRC64_TABLE.hi[idx] as number)) >>> 0;
        }
        this.hi = hi;
        this.lo = lo;
        break;
      }
      default:
        this.hash?.update(data);
    }
    return this;
  }

  digest(): Buffer {
    switch (this.algorithm) {
      case 'CRC32':
        return uint32(this.crc);
      case 'CRC32C':
        return uint32((this.c32c ^ 0xffffffff) >>> 0);
      case 'CRC64NVME': {
        const out = Buffer.alloc(8);
        out.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
        out.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
        return out;
      }
      default:
        return (this.hash as ReturnType<typeof createHash>).digest();
    }
  }
}

export function checksumBytes(algorithm: ChecksumAlgorithm, data: Buffer): Buffer {
  return new Checksummer(algorithm).update(data).digest();
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

const incompleteBody = () =>
  new AwsError(
    'IncompleteBody',
    'You did not provide the number of bytes specified by the Content-Length HTTP header',
    400,
  );

const badDigest = (what: string) =>
  new AwsError('BadDigest', `The ${what} you specified did not match the calculated checksum.`, 400);

/** A chunk header or trailer line longer than this is not aws-chunked framing. */
const MAX_LINE = 64 * 1024;

/**
 * A push parser for `aws-chunked` framing: bytes go in as they arrive, chunk data comes out as it
 * is parsed (never a whole chunk held), each chunk's and the trailer's signature verified when the
 * request was signed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) (S3 API reference,
 * "sigv4-streaming"). The same parser serves buffered bodies (one push) and streamed ones.
 */
class ChunkedDecoder {
  private state: 'header' | 'data' | 'data-end' | 'trailers' | 'done' = 'header';
  private line = '';
  private header = '';
  private remaining = 0;
  private chunkHash: ReturnType<typeof createHash> | undefined;
  readonly trailers: Record<string, string> = {};

  constructor(private readonly verifier: ChunkVerifier | undefined) {}

  /** Feeds bytes; `out` receives the decoded data in order. */
  push(input: Buffer, out: (data: Buffer) => void): void {
    let at = 0;
    while (at < input.length) {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, input.length - at);
        const data = input.subarray(at, at + take);
        this.chunkHash?.update(data);
        out(data);
        at += take;
        this.remaining -= take;
        if (this.remaining === 0) {
          this.verifier?.chunkDigest(this.header, this.chunkHash?.digest('hex') ?? '', false);
          this.state = 'data-end';
        }
        continue;
      }
      if (this.state === 'done') return; // nothing follows the trailers' blank line
      const end = input.indexOf(0x0a, at);
      const piece = input.toString('latin1', at, end < 0 ? input.length : end + 1);
      at = end < 0 ? input.length : end + 1;
      this.line += piece;
      if (this.line.length > MAX_LINE) throw incompleteBody();
      if (end >= 0) {
        if (!this.line.endsWith('\r\n')) throw incompleteBody();
        const text = this.line.slice(0, -2);
        this.line = '';
        this.onLine(text);
      }
    }
  }

  private onLine(text: string): void {
    if (this.state === 'data-end') {
      if (text !== '') throw incompleteBody();
      this.state = 'header';
      return;
    }
    if (this.state === 'header') {
      const size = Number.parseInt(text.split(';')[0] ?? '', 16);
      if (!/^[0-9a-fA-F]+$/.test((text.split(';')[0] ?? '').trim()) || !Number.isFinite(size) || size < 0)
        throw incompleteBody();
      this.header = text;
      if (size === 0) {
        this.verifier?.chunkDigest(text, EMPTY_SHA256_HEX, true);
        this.state = 'trailers';
        return;
      }
      this.remaining = size;
      this.chunkHash = this.verifier ? createHash('sha256') : undefined;
      this.state = 'data';
      return;
    }
    // Trailers: `name:value` lines up to a blank line (or the end of the body).
    if (text === '') {
      this.finishTrailers();
      return;
    }
    const colon = text.indexOf(':');
    if (colon > 0) this.trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }

  private finishTrailers(): void {
    this.state = 'done';
    this.verifier?.end(this.trailers);
  }

  /** The body ended: it must have ended with the final chunk (and its trailers). */
  end(): void {
    if (this.state === 'trailers' && this.line === '') this.finishTrailers();
    if (this.state !== 'done') throw incompleteBody();
  }
}

const EMPTY_SHA256_HEX = createHash('sha256').update('').digest('hex');

/** The largest object a single PUT (and the largest part an UploadPart) may carry: 5 GiB. */
export const MAX_SINGLE_UPLOAD = 5 * 1024 ** 3;

export const entityTooLarge = (proposed: number) =>
  new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, {
    ProposedSize: String(proposed),
    MaxSizeAllowed: String(MAX_SINGLE_UPLOAD),
  });

export interface VerifiedPayload {
  size: number;
  md5: Buffer;
  /** The flexible checksum the client sent (header or trailer), verified. */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

/**
 * A request body as S3 reads it: aws-chunked framing removed and its signatures checked, and the
 * Content-MD5, x-amz-content-sha256 and x-amz-checksum-* claims checked against what was read.
 * Bytes go through feed() as they arrive (the hashes run as they pass); finish() then answers
 * AWS's error for any claim that did not hold. `checksumIsOfBody` is false where
 * x-amz-checksum-* describes something else (CompleteMultipartUpload: the whole object).
 */
export class PayloadReader {
  private readonly decoder: ChunkedDecoder | undefined;
  private readonly md5 = createHash('md5');
  private readonly sha256: ReturnType<typeof createHash> | undefined;
  private readonly claimedSha256: string | undefined;
  private readonly checksums: Checksummer[];
  private size = 0;

  constructor(
    private readonly req: LocalRequest,
    private readonly options: { checksumIsOfBody?: boolean; maxBytes?: number } = {},
  ) {
    const chunked = isChunked(req);
    this.decoder = chunked ? new ChunkedDecoder(chunkVerifier(req.auth)) : undefined;
    const sha = req.headers['x-amz-content-sha256'];
    // A buffered body was compared with x-amz-content-sha256 by authentication (sigv4.ts) already.
    if (!chunked && sha && /^[0-9a-f]{64}$/.test(sha) && (!req.auth || req.bodyStream)) {
      this.claimedSha256 = sha;
      this.sha256 = createHash('sha256');
    }
    // Every algorithm the request names, in a header or as a trailer, is computed as bytes pass.
    const named = new Set<ChecksumAlgorithm>();
    const trailer = (req.headers['x-amz-trailer'] ?? '').toLowerCase();
    for (const algorithm of CHECKSUM_ALGORITHMS)
      if (req.headers[checksumHeader(algorithm)] !== undefined || trailer.includes(checksumHeader(algorithm)))
        named.add(algorithm);
    this.checksums = options.checksumIsOfBody === false ? [] : [...named].map((a) => new Checksummer(a));
    const declared = Number(
      chunked ? req.headers['x-amz-decoded-content-length'] : req.headers['content-length'],
    );
    if (options.maxBytes !== undefined && Number.isFinite(declared) && declared > options.maxBytes)
      throw entityTooLarge(declared);
  }

  /** Feeds raw body bytes; returns the decoded data they carried (possibly none). */
  feed(raw: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const take = (data: Buffer) => {
      if (data.length === 0) return;
      this.size += data.length;
      if (this.options.maxBytes !== undefined && this.size > this.options.maxBytes)
        throw entityTooLarge(this.size);
      this.md5.update(data);
      this.sha256?.update(data);
      for (const c of this.checksums) c.update(data);
      out.push(data);
    };
    if (this.decoder) this.decoder.push(raw, take);
    else take(raw);
    return out;
  }

  /** After the last byte: AWS's error for a claim that did not hold, else what was verified. */
  finish(): VerifiedPayload {
    const { req } = this;
    let trailers: Record<string, string> = {};
    if (this.decoder) {
      this.decoder.end();
      trailers = this.decoder.trailers;
      const declared = req.headers['x-amz-decoded-content-length'];
      if (declared !== undefined && Number(declared) !== this.size) throw incompleteBody();
    }
    if (this.sha256 && this.claimedSha256) {
      const computed = this.sha256.digest('hex');
      if (computed !== this.claimedSha256)
        throw new AwsError(
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          400,
          { ClientComputedContentSHA256: this.claimedSha256, S3ComputedContentSHA256: computed },
        );
    }
    const md5 = this.md5.digest();
    const claimedMd5 = req.headers['content-md5'];
    if (claimedMd5 !== undefined) {
      const expected = Buffer.from(claimedMd5, 'base64');
      if (expected.length !== 16)
        throw new AwsError('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400);
      if (!md5.equals(expected))
        throw new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
    }
    const verified: VerifiedPayload = { size: this.size, md5 };
    if (this.options.checksumIsOfBody === false) return verified;
    const sent = CHECKSUM_ALGORITHMS.flatMap((algorithm) => {
      const value = req.headers[checksumHeader(algorithm)] ?? trailers[checksumHeader(algorithm)];
      return value === undefined ? [] : [{ algorithm, value }];
    });
    if (sent.length > 1)
      throw invalidRequest(
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    const checksum = sent[0];
    if (checksum) {
      const computed = this.checksums.find((c) => c.algorithm === checksum.algorithm);
      if (!computed || computed.digest().toString('base64') !== checksum.value)
        throw badDigest(checksum.algorithm);
      verified.checksum = checksum;
    }
    return verified;
  }

  /** The decoded body of a streamed request, read as it arrives (finish() after it ends). */
  async *stream(): AsyncGenerator<Buffer> {
    const source = this.req.bodyStream ?? [this.req.body];
    for await (const raw of source) yield* this.feed(raw as Buffer);
  }
}

/** Decodes and verifies a body read whole; throws the error S3 would answer with. */
export function readPayload(req: LocalRequest, checksumIsOfBody = true): RequestPayload {
  const reader = new PayloadReader(req, { checksumIsOfBody });
  const data = Buffer.concat(reader.feed(req.body));
  const verified = reader.finish();
  return verified.checksum ? { data, checksum: verified.checksum } : { data };
}
