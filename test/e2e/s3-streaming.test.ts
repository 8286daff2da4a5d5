/**
 * Object bodies stream: they go to disk (encrypted, for SSE-KMS) as they arrive, and the claims a
 * request makes about them — aws-chunked chunk signatures, x-amz-content-sha256, Content-MD5,
 * x-amz-checksum-* — are checked as the bytes pass and answered with AWS's error once the body is
 * read, leaving nothing stored. A single PUT above 5 GiB is EntityTooLarge before its body is read.
 * The memory this saves is measured by `npm run bench -- --only memory`, not here.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { type Harness, startHarness } from './support/embedded';
import { signedChunkedPut, signedHead, signedRequest } from './support/signed';

let h: Harness;
let blobDir: string;
let bucket: string;

beforeAll(async () => {
  h = await startHarness();
  bucket = h.stack.trainingBucket; // SSE-KMS by default; keys outside training/*.jsonl start no run
  blobDir = (h.aws.s3 as unknown as { store: { blobs: { dir: string } } }).store.blobs.dir;
});
afterAll(async () => {
  await h?.stop();
});

/** Deterministic bytes with a marker that must never appear on disk in clear. */
function data(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + (i >> 11)) % 251;
  Buffer.from('PLAINTEXT-MARKER').copy(out, 0);
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const blobs = () => fs.readdirSync(blobDir);

async function exists(key: string): Promise<boolean> {
  return h.c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

it('an object goes to disk as it arrives, encrypted; nothing is visible until the body is complete', async () => {
  const body = data(24 * 1024 * 1024);
  const key = 'stream/slow.bin';
  const before = new Set(blobs());
  const { path: target, headers } = await signedHead(h.aws.url, {
    service: 's3',
    method: 'PUT',
    path: `/${bucket}/${key}`,
    body,
  });
  const url = new URL(h.aws.url);
  const answered = new Promise<number>((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: 'PUT', path: target, headers, setHost: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    // The first half now; the rest once the first half is on disk.
    req.write(body.subarray(0, 12 * 1024 * 1024));
    const growing = async () => {
      for (let i = 0; i < 400; i++) {
        const fresh = blobs().filter((f) => !before.has(f));
        const size = fresh.map((f) => fs.statSync(path.join(blobDir, f)).size).reduce((a, b) => a + b, 0);
        if (size >= 12 * 1024 * 1024) return { fresh, size };
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the first half never reached the disk');
    };
    growing()
      .then(async ({ fresh }) => {
        // Half on disk, in clear nowhere, and no object yet.
        const partial = fs.readFileSync(path.join(blobDir, fresh[0] as string));
        expect(partial.includes(Buffer.from('PLAINTEXT-MARKER'))).toBe(false);
        expect(await exists(key)).toBe(false);
        req.end(body.subarray(12 * 1024 * 1024));
      })
      .catch(reject);
  });
  expect(await answered).toBe(200);
  const got = await h.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  expect(got.ServerSideEncryption).toBe('aws:kms');
  expect(sha(Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array())))).toBe(sha(body));
  // A range of the encrypted object, decrypted as it streams.
  const range = await h.c.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=5000000-5001999' }),
  );
  expect(Buffer.from(await (range.Body?.transformToByteArray() ?? new Uint8Array()))).toEqual(
    body.subarray(5_000_000, 5_002_000),
  );
});

it('the SDK streaming from a file (aws-chunked with a CRC32 trailer) stores the exact bytes', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-stream-'));
  try {
    const body = data(9 * 1024 * 1024 + 17);
    const file = path.join(tmp, 'body.bin');
    fs.writeFileSync(file, body);
    const put = await h.c.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'stream/sdk.bin',
        Body: fs.createReadStream(file),
        ContentLength: body.length,
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    expect(put.ChecksumCRC32).toBe(crc.toString('base64'));
    const got = await h.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stream/sdk.bin' }));
    expect(sha(Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array())))).toBe(sha(body));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

describe('claims about the body are checked as it streams and answered after reading, storing nothing', () => {
  const body = data(3 * 1024 * 1024);
  let before: Set<string>;
  beforeEach(() => {
    before = new Set(blobs());
  });
  afterEach(() => {
    // A refused body leaves no file behind.
    expect(blobs().filter((f) => !before.has(f))).toEqual([]);
  });

  it('signed aws-chunked: intact chunks store the object; one flipped bit is SignatureDoesNotMatch', async () => {
    const ok = await signedChunkedPut(h.aws.url, `/${bucket}/stream/chunked.bin`, body);
    expect(ok.status).toBe(200);
    const got = await h.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stream/chunked.bin' }));
    expect(sha(Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array())))).toBe(sha(body));
    before = new Set(blobs());

    const bad = await signedChunkedPut(h.aws.url, `/${bucket}/stream/tampered.bin`, body, {
      tamper: (framed) => {
        const copy = Buffer.from(framed);
        copy[2_000_000] = (copy[2_000_000] as number) ^ 1;
        return copy;
      },
    });
    expect(bad.status).toBe(403);
    expect(bad.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await exists('stream/tampered.bin')).toBe(false);
  });

  it('x-amz-content-sha256 that does not match: XAmzContentSHA256Mismatch', async () => {
    const res = await signedRequest(h.aws.url, {
      service: 's3',
      method: 'PUT',
      path: `/${bucket}/stream/sha.bin`,
      headers: { 'x-amz-content-sha256': sha(Buffer.from('something else')) },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
    expect(res.body).toContain(`<S3ComputedContentSHA256>${sha(body)}</S3ComputedContentSHA256>`);
    expect(await exists('stream/sha.bin')).toBe(false);
  });

  it('Content-MD5 or x-amz-checksum-crc32 that does not match: BadDigest', async () => {
    const claims: Record<string, string>[] = [
      { 'content-md5': createHash('md5').update('other').digest('base64') },
      { 'x-amz-checksum-crc32': 'AAAAAA==' },
    ];
    for (const headers of claims) {
      const res = await signedRequest(h.aws.url, {
        service: 's3',
        method: 'PUT',
        path: `/${bucket}/stream/digest.bin`,
        headers,
        body,
      });
      expect(res.status).toBe(400);
      expect(res.body).toContain('<Code>BadDigest</Code>');
    }
    expect(await exists('stream/digest.bin')).toBe(false);
  });
});

describe('EntityTooLarge above 5 GiB, answered before the body is read', () => {
  /** Sends only the head of a signed request (a huge Content-Length, no body) and reads the answer. */
  async function headOnly(headers: Record<string, string>, key: string, waitMs = 20_000): Promise<string> {
    const head = await signedHead(h.aws.url, {
      service: 's3',
      method: 'PUT',
      path: `/${bucket}/${key}`,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
    });
    const url = new URL(h.aws.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        const lines = Object.entries(head.headers).map(([k, v]) => `${k}: ${v}`);
        socket.write(`PUT ${head.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
        socket.write(Buffer.alloc(64 * 1024, 'x'));
      });
      let answer = '';
      socket.on('data', (c) => {
        answer += c.toString();
      });
      socket.on('close', () => resolve(answer));
      socket.on('error', (err) => (answer ? resolve(answer) : reject(err)));
      setTimeout(() => socket.destroy(), waitMs).unref();
    });
  }

  it('a Content-Length of 5 GiB + 1', async () => {
    const answer = await headOnly({ 'content-length': String(5 * 1024 ** 3 + 1) }, 'stream/huge.bin');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('<Code>EntityTooLarge</Code>');
    expect(answer).toContain(
      `<ProposedSize>${5 * 1024 ** 3 + 1}</ProposedSize><MaxSizeAllowed>${5 * 1024 ** 3}</MaxSizeAllowed>`,
    );
    expect(await exists('stream/huge.bin')).toBe(false);
  });

  it('an aws-chunked body whose decoded length is 6 GiB', async () => {
    const answer = await headOnly(
      {
        'content-length': String(7 * 1024 ** 3),
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': String(6 * 1024 ** 3),
      },
      'stream/huge-chunked.bin',
    );
    expect(answer).toContain('<Code>EntityTooLarge</Code>');
  });

  it('exactly 5 GiB is not refused up front (the limit is inclusive)', async () => {
    // Only the head is sent: the server waits for the body, so no EntityTooLarge comes back.
    const answer = await headOnly({ 'content-length': String(5 * 1024 ** 3) }, 'stream/limit.bin', 2_000);
    expect(answer).not.toContain('EntityTooLarge');
  });
});
