/**
 * Where object and part bytes live: files under a data directory (so large objects stay out of the
 * JSON state snapshot and out of memory on reads) or, without one, in memory.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** Inclusive byte range, as HTTP Range counts. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  put(data: Buffer): Promise<string>;
  read(id: string): Promise<Buffer>;
  /** A body for an HTTP answer; files are opened before returning so a concurrent delete cannot break it. */
  body(id: string, range?: ByteRange): Promise<Buffer | Readable>;
  delete(id: string): Promise<void>;
  /** Blob contents the JSON snapshot must carry (none when they are files). */
  snapshot(): Record<string, string> | undefined;
  restore(blobs: Record<string, string> | undefined): void;
}

export class MemoryBlobs implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();

  async put(data: Buffer): Promise<string> {
    const id = randomUUID();
    this.blobs.set(id, Buffer.from(data));
    return id;
  }

  async read(id: string): Promise<Buffer> {
    const data = this.blobs.get(id);
    if (!data) throw new Error(`object data ${id} is missing`);
    return data;
  }

  async body(id: string, range?: ByteRange): Promise<Buffer> {
    const data = await this.read(id);
    return range ? data.subarray(range.start, range.end + 1) : data;
  }

  async delete(id: string): Promise<void> {
    this.blobs.delete(id);
  }

  snapshot(): Record<string, string> {
    return Object.fromEntries([...this.blobs].map(([id, data]) => [id, data.toString('base64')]));
  }

  restore(blobs: Record<string, string> | undefined): void {
    this.blobs.clear();
    for (const [id, data] of Object.entries(blobs ?? {})) this.blobs.set(id, Buffer.from(data, 'base64'));
  }
}

export class FileBlobs implements BlobStore {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly dir: string) {}

  private path(id: string): string {
    if (!/^[0-9a-f-]+$/.test(id)) throw new Error(`bad object data id ${id}`);
    return join(this.dir, id);
  }

  async put(data: Buffer): Promise<string> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const id = randomUUID();
    await writeFile(this.path(id), data);
    return id;
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
}
