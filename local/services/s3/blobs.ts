/**
 * Where object and part bytes live: files, written as the bytes arrive and read back as streams,
 * so a body never has to fit in memory. Under `--state-dir` the directory is kept; without one
 * it is a temporary directory, removed when the service closes (and at process exit).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Inclusive byte range, as HTTP Range counts. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  /** Writes the bytes as they come; resolves with the blob's id once all are on disk. */
  putStream(data: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<string>;
  put(data: Buffer): Promise<string>;
  read(id: string): Promise<Buffer>;
  /** A body for an HTTP answer; files are opened before returning so a concurrent delete cannot break it. */
  body(id: string, range?: ByteRange): Promise<Readable>;
  delete(id: string): Promise<void>;
  /** Blob contents the JSON snapshot must carry (none: they are files). */
  snapshot(): Record<string, string> | undefined;
  restore(blobs: Record<string, string> | undefined): void;
  /** Removes a temporary directory (a kept one stays). */
  close(): Promise<void>;
}

const temporary = new Set<string>();
let exitHook = false;

/** A fresh temporary directory for object bodies, removed at process exit if close() did not. */
export function temporaryBlobDir(): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'tunevault-s3-'));
  temporary.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const d of temporary) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

export class FileBlobs implements BlobStore {
  private ready: Promise<unknown> | undefined;

  /** `temporary`: the directory is this store's own and goes away on close(). */
  constructor(
    readonly dir: string,
    private readonly isTemporary = false,
  ) {}

  private path(id: string): string {
    if (!/^[0-9a-f-]+$/.test(id)) throw new Error(`bad object data id ${id}`);
    return join(this.dir, id);
  }

  async putStream(data: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<string> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const id = randomUUID();
    const file = this.path(id);
    try {
      await pipeline(Readable.from(data), fs.createWriteStream(file, { flags: 'wx' }));
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    return id;
  }

  put(data: Buffer): Promise<string> {
    return this.putStream([data]);
  }

  read(id: string): Promise<Buffer> {
    return readFile(this.path(id));
  }

  async body(id: string, range?: ByteRange): Promise<Readable> {
    const handle = await open(this.path(id), 'r');
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async delete(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  snapshot(): undefined {
    return undefined;
  }

  restore(): void {}

  async close(): Promise<void> {
    if (!this.isTemporary) return;
    await rm(this.dir, { recursive: true, force: true });
    temporary.delete(this.dir);
  }
}
