/**
 * StreamHash: the SHA-256 of a stream, hashed in-thread for small inputs and on a worker thread
 * (in 1 MiB batches, at most 8 in flight before the caller is asked to wait) for large ones.
 *
 * Every digest is compared with node:crypto over the same bytes. The worker's `postMessage` is
 * spied on (each call still goes through) to see which batches reach the hashing thread and to
 * reach that thread from outside: the only way to make it exit or fail mid-stream, since its
 * script is fixed and private to the module.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { StreamHash } from '../../../functions/shared/guard/hash';

const MiB = 1024 * 1024;

/** Deterministic, varied bytes (an AES-CTR keystream), so a batch boundary in the wrong place changes the digest. */
function bytes(length: number, seed: number): Buffer {
  const key = Buffer.alloc(16, seed);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

function sha256(...parts: Buffer[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** What was posted to a hashing thread: a batch (its buffer and length used) or the digest request. */
interface Posted {
  worker: Worker;
  message: unknown;
}

let posted: Posted[];
let threads: Set<Worker>;

beforeEach(() => {
  posted = [];
  threads = new Set();
  const postMessage = Worker.prototype.postMessage;
  jest.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (
    this: Worker,
    ...args: Parameters<Worker['postMessage']>
  ) {
    threads.add(this);
    posted.push({ worker: this, message: args[0] });
    return postMessage.apply(this, args);
  });
});

afterEach(async () => {
  jest.restoreAllMocks();
  // A safety net only (every test closes its hash): no thread may outlive its test.
  await Promise.all([...threads].map((worker) => worker.terminate()));
});

/** The lengths of the batches posted so far, in order. */
function batchLengths(): number[] {
  return posted
    .map(({ message }) => message)
    .filter((message): message is { length: number } => typeof message === 'object' && message !== null)
    .map((message) => message.length);
}

/** The ArrayBuffers of the batches posted so far, in order. */
function batchBuffers(): ArrayBuffer[] {
  return posted
    .map(({ message }) => message)
    .filter((message): message is { buffer: ArrayBuffer } => typeof message === 'object' && message !== null)
    .map((message) => message.buffer);
}

/** The one hashing thread started so far. */
function onlyThread(): Worker {
  const all = [...threads];
  expect(all.length).toBe(1);
  return all[0]!;
}

/** Makes the hashing thread throw: a batch whose length does not fit its buffer (RangeError there). */
const POISON = { buffer: new ArrayBuffer(4), length: 100 };

/** The name and message of the error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (reason: Error) => reason,
  );
  return { name: error.name, message: error.message };
}

/** The name and message of the error a call throws. */
function thrownBy(call: () => unknown): { name: string; message: string } {
  try {
    call();
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  return { name: 'none', message: 'expected a throw' };
}

describe('StreamHash digests', () => {
  it('in-thread mode (offload false) hashes 10 MiB without a worker and never asks the caller to wait', async () => {
    const h = new StreamHash(false, 1024);
    const a = bytes(10 * MiB, 1);
    const b = bytes(300, 2);
    expect([h.update(a), h.update(b)]).toStrictEqual([undefined, undefined]);
    expect(await h.digest()).toBe(sha256(a, b));
    expect(threads.size).toBe(0);
  });

  it('by default an input under 4 MiB never starts a worker and is hashed in-thread', async () => {
    const h = new StreamHash();
    const a = bytes(3 * MiB, 3);
    const b = bytes(MiB - 1, 4);
    expect([h.update(a), h.update(b)]).toStrictEqual([undefined, undefined]);
    expect(await h.digest()).toBe(sha256(a, b));
    expect(posted).toStrictEqual([]);
  });

  it('the digest of an empty stream is the SHA-256 of no bytes', async () => {
    const h = new StreamHash(true, 10);
    expect(await h.digest()).toBe(sha256());
    expect(await h.digest()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('by default a 10 MiB chunk goes to a worker as ten 1 MiB batches and update asks the caller to wait', async () => {
    const h = new StreamHash();
    const data = bytes(10 * MiB, 5);
    const wait = h.update(data);
    expect(wait).toBeInstanceOf(Promise);
    expect(batchLengths()).toStrictEqual(Array(10).fill(MiB));
    expect(await wait).toBeUndefined();
    expect(await h.digest()).toBe(sha256(data));
  });

  it('bytes one short of offloadAfter stay pending and are hashed in-thread at the digest', async () => {
    const h = new StreamHash(true, 3000);
    const parts = [bytes(1000, 6), bytes(1000, 7), bytes(999, 8)];
    expect(parts.map((part) => h.update(part))).toStrictEqual([undefined, undefined, undefined]);
    expect(await h.digest()).toBe(sha256(...parts));
    expect(posted).toStrictEqual([]);
  });

  it('the update reaching offloadAfter exactly starts a worker, which gets all pending bytes as one batch', async () => {
    const h = new StreamHash(true, 3000);
    const parts = [bytes(1000, 9), bytes(1000, 10), bytes(1000, 11)];
    expect(parts.map((part) => h.update(part))).toStrictEqual([undefined, undefined, undefined]);
    expect(await h.digest()).toBe(sha256(...parts));
    expect(batchLengths()).toStrictEqual([3000]);
    expect(posted.map(({ message }) => (message === 'digest' ? 'digest' : typeof message))).toStrictEqual([
      'object',
      'digest',
    ]);
  });

  it('three full 1 MiB batches plus a partial one: batches of exactly 1 MiB, the rest sent at the digest', async () => {
    const h = new StreamHash(true, 256 * 1024);
    const data = bytes(3 * MiB + MiB / 2 + 12345, 12);
    const results: unknown[] = [];
    // An odd chunk size, so chunks straddle batch boundaries.
    for (let offset = 0; offset < data.length; offset += 65553) {
      results.push(h.update(data.subarray(offset, offset + 65553)));
    }
    // Small chunks share a batch: never more than 4 in flight, so no update asks to wait.
    expect(results.filter((result) => result !== undefined)).toStrictEqual([]);
    expect(batchLengths()).toStrictEqual([MiB, MiB, MiB]);
    expect(await h.digest()).toBe(sha256(data));
    expect(batchLengths()).toStrictEqual([MiB, MiB, MiB, MiB / 2 + 12345]);
  });

  it('chunks the caller overwrites after update returns do not change the digest (pending and worker paths)', async () => {
    const h = new StreamHash(true, 4096);
    const chunk = Buffer.alloc(1024);
    const originals: Buffer[] = [];
    for (let i = 0; i < 10; i++) {
      bytes(1024, 100 + i).copy(chunk);
      originals.push(Buffer.from(chunk));
      expect(h.update(chunk)).toBeUndefined();
      chunk.fill(0xee);
    }
    expect(await h.digest()).toBe(sha256(...originals));
    expect(batchLengths()).toStrictEqual([10 * 1024]);
  });

  it('batches are transferred, not copied: each posted buffer is detached in this thread', async () => {
    const h = new StreamHash(true, 1);
    expect(h.update(bytes(3 * MiB, 13))).toBeUndefined();
    expect(batchBuffers().map((buffer) => buffer.byteLength)).toStrictEqual([0, 0, 0]);
    await h.close();
  });
});

describe('StreamHash backpressure', () => {
  it('update asks to wait only above 8 batches in flight: exactly 8 does not, a 9th does', async () => {
    const h = new StreamHash(true, 1);
    const eight = bytes(8 * MiB, 14);
    const ninth = bytes(MiB, 15);
    expect(h.update(eight)).toBeUndefined();
    const wait = h.update(ninth);
    expect(wait).toBeInstanceOf(Promise);
    expect(await wait).toBeUndefined();
    expect(await h.digest()).toBe(sha256(eight, ninth));
  });

  it('awaiting the wait resumes once 8 batches are in flight: a small update then needs no wait, a full batch does', async () => {
    const h = new StreamHash(true, 1);
    const ten = bytes(10 * MiB, 16);
    const small = bytes(100, 17);
    const rest = bytes(MiB - 100, 18);
    const wait = h.update(ten);
    expect(wait).toBeInstanceOf(Promise);
    expect(await wait).toBeUndefined();
    // Nothing runs between the worker's reply that brought in-flight down to 8 and this line.
    expect(h.update(small)).toBeUndefined();
    const again = h.update(rest);
    expect(again).toBeInstanceOf(Promise);
    expect(await again).toBeUndefined();
    expect(await h.digest()).toBe(sha256(ten, small, rest));
  });
});

describe('StreamHash thread lifetime and failures', () => {
  it('the digest ends the hashing thread', async () => {
    const h = new StreamHash(true, 1);
    const data = bytes(2 * MiB + 7, 19);
    expect(h.update(data)).toBeUndefined();
    const thread = onlyThread();
    expect(await h.digest()).toBe(sha256(data));
    expect(thread.threadId).toBe(-1);
  });

  it('close() ends the hashing thread, and a second close() is harmless', async () => {
    const h = new StreamHash(true, 1);
    expect(h.update(bytes(MiB + 1, 20))).toBeUndefined();
    const thread = onlyThread();
    expect(await h.close()).toBeUndefined();
    expect(thread.threadId).toBe(-1);
    expect(await h.close()).toBeUndefined();
  });

  it('close() on a hash that never started a worker resolves', async () => {
    const h = new StreamHash(true, MiB);
    expect(h.update(bytes(10, 21))).toBeUndefined();
    expect(await h.close()).toBeUndefined();
    expect(threads.size).toBe(0);
  });

  it('a hashing thread that exits before the digest makes the digest reject with its exit code', async () => {
    const h = new StreamHash(true, 1);
    expect(h.update(bytes(MiB + 10, 22))).toBeUndefined();
    const thread = onlyThread();
    // Once the thread has hashed a batch it is running, so terminating it gives exit code 1 (0 only
    // when it is stopped before it starts).
    await once(thread, 'message');
    // Reaching the thread from outside (see the file's comment): it exits as the digest is requested.
    const stopping = thread.terminate();
    expect(await rejection(h.digest())).toStrictEqual({
      name: 'Error',
      message: 'the hashing thread exited (code 1) before the digest',
    });
    expect(await stopping).toBe(1);
  });

  it('a hashing thread that fails while the digest is awaited makes the digest reject with its error', async () => {
    const h = new StreamHash(true, 1);
    expect(h.update(bytes(MiB + 10, 23))).toBeUndefined();
    // Reaching the thread from outside (see the file's comment): it fails before it reads the digest request.
    onlyThread().postMessage(POISON);
    expect(await rejection(h.digest())).toStrictEqual({
      name: 'RangeError',
      message: 'Invalid typed array length: 100',
    });
  });

  it('after the hashing thread failed, update throws its error and the digest rejects with it', async () => {
    const h = new StreamHash(true, 1);
    expect(h.update(bytes(MiB + 10, 24))).toBeUndefined();
    const thread = onlyThread();
    // Reaching the thread from outside (see the file's comment): it fails mid-stream.
    const failed = once(thread, 'error');
    thread.postMessage(POISON);
    await failed;
    expect(thrownBy(() => h.update(bytes(10, 25)))).toStrictEqual({
      name: 'RangeError',
      message: 'Invalid typed array length: 100',
    });
    expect(await rejection(h.digest())).toStrictEqual({
      name: 'RangeError',
      message: 'Invalid typed array length: 100',
    });
    await h.close();
  });
});
