/**
 * 5. Memory of object bodies: a 100 MiB PutObject into an SSE-KMS bucket, streamed from a file
 * by the SDK (aws-chunked, CRC32 trailer), then a GetObject of it read to the end — each measured
 * as the growth of the server process's peak RSS over its RSS just before (target: ≤ 64 MiB for
 * the PUT: bodies go to disk as they arrive, encrypted as they stream). The server runs in its
 * own process (bench/memory/server.ts), so the client's buffers do not count.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { Report } from './lib/report';

const SECTION = 'Memory (object bodies)';
const MIB = 1024 * 1024;

export async function memory(report: Report, env: NodeJS.ProcessEnv, sizeMiB = 100): Promise<void> {
  report.heading(`7. Memory: a ${sizeMiB} MiB object through the embedded S3`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-bench-memory-'));
  const file = path.join(tmp, 'body.bin');
  // Random bytes, written in 1 MiB pieces: the client never holds the object either.
  const sha = createHash('sha256');
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < sizeMiB; i++) {
    const piece = randomBytes(MIB);
    sha.update(piece);
    fs.writeSync(fd, piece);
  }
  fs.closeSync(fd);
  const expected = sha.digest('hex');

  const child = spawn(
    process.execPath,
    ['--expose-gc', '--require', 'tsx/cjs', path.join(__dirname, 'memory', 'server.ts')],
    {
      cwd: path.join(__dirname, '..'),
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (prefix: string) => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error('the memory benchmark server stopped');
      if (value.startsWith(prefix)) return value.split(' ').slice(1);
    }
  };
  const ask = async (command: string, prefix: string) => {
    child.stdin.write(`${command}\n`);
    return next(prefix);
  };
  try {
    const [url, ...method] = await next('ready');
    const config = {
      endpoint: url as string,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const s3 = new S3Client(config);
    const kms = new KMSClient(config);
    const key = await kms.send(new CreateKeyCommand({ Description: 'memory benchmark' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'memory-bench' }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'memory-bench',
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: key.KeyMetadata?.Arn,
              },
            },
          ],
        },
      }),
    );
    // A small object first, so that code paths are loaded before the baseline.
    await s3.send(new PutObjectCommand({ Bucket: 'memory-bench', Key: 'warm', Body: 'x' }));
    await (
      await s3.send(new GetObjectCommand({ Bucket: 'memory-bench', Key: 'warm' }))
    ).Body?.transformToString();

    await ask('reset', 'base');
    await s3.send(
      new PutObjectCommand({
        Bucket: 'memory-bench',
        Key: 'big.bin',
        Body: fs.createReadStream(file),
        ContentLength: sizeMiB * MIB,
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    const [putGrowth = '0', putBase = '0'] = await ask('peak', 'peak');
    report.figure(
      SECTION,
      `${sizeMiB} MiB PUT: server RSS growth`,
      `${putGrowth} MiB (from ${putBase} MiB, ${method.join(' ')})`,
      '≤ 64 MiB',
      Number(putGrowth) <= 64,
    );

    await ask('reset', 'base');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'memory-bench', Key: 'big.bin' }));
    const readBack = createHash('sha256');
    for await (const chunk of got.Body as Readable) readBack.update(chunk as Buffer);
    const [getGrowth = '0', getBase = '0'] = await ask('peak', 'peak');
    report.figure(
      SECTION,
      `${sizeMiB} MiB GET: server RSS growth`,
      `${getGrowth} MiB (from ${getBase} MiB)`,
      '≤ 64 MiB',
      Number(getGrowth) <= 64,
    );
    const intact = readBack.digest('hex') === expected;
    report.count(SECTION, 'object read back intact (SHA-256)', intact ? 1 : 0, 1);
    s3.destroy();
    kms.destroy();
  } finally {
    child.stdin.write('stop\n');
    await new Promise((r) => child.once('close', r));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
