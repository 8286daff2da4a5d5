/**
 * The reading side of the scan (scan/scanner.ts, scan/index.ts): how bytes become lines and
 * batches, where the hashing and the record checks run, and when the reader is asked to wait.
 * The worker pool and the hash are replaced by recording stand-ins (the pool checks batches on
 * this thread), so the tests observe what the scanner hands them without starting threads.
 */
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { LongLine } from '../../../functions/shared/guard/scan/long-line';
import { Scanner, workerCount } from '../../../functions/shared/guard/scan/scanner';
import { RecordScanner } from '../../../functions/shared/guard/records';
import {
  formatProblem,
  type ScanOptions,
  type ScanReport,
  scanTrainingData,
} from '../../../functions/shared/guard';
import { chunked, cleanConversations, conversation, fake } from './fixtures';

interface MockPoolRecord {
  size: number;
  workerFile: string;
  requests: { seq: number; bytes: Uint8Array; firstLine: number }[];
  closes: number;
  held: (() => void)[];
}

const mockPools: MockPoolRecord[] = [];
const mockHashes: { offload: boolean; closes: number }[] = [];
const mockControl: { holdBatches: boolean; hashGate: Promise<void> | undefined } = {
  holdBatches: false,
  hashGate: undefined,
};

jest.mock('../../../functions/shared/guard/pool', () => {
  const { RecordScanner: Local } = jest.requireActual('../../../functions/shared/guard/records');
  class RecordingPool {
    private readonly record: MockPoolRecord;
    constructor(
      _config: unknown,
      size: number,
      workerFile: string,
      private readonly local: RecordScanner,
    ) {
      this.record = { size, workerFile, requests: [], closes: 0, held: [] };
      mockPools.push(this.record);
    }
    submit(request: { seq: number; bytes: Uint8Array; firstLine: number }) {
      this.record.requests.push(request);
      if (!mockControl.holdBatches) {
        return Promise.resolve(this.local.scanBatch(Buffer.from(request.bytes), request.firstLine));
      }
      return new Promise((resolve) => this.record.held.push(() => resolve(Local.emptyResult())));
    }
    close() {
      this.record.closes++;
      return Promise.resolve();
    }
  }
  return { RecordScanPool: RecordingPool };
});

jest.mock('../../../functions/shared/guard/hash', () => {
  const actual = jest.requireActual('../../../functions/shared/guard/hash');
  class RecordingHash extends actual.StreamHash {
    private readonly record: { offload: boolean; closes: number };
    constructor(offload: boolean) {
      super(offload);
      this.record = { offload, closes: 0 };
      mockHashes.push(this.record);
    }
    update(chunk: Buffer) {
      const own = super.update(chunk);
      return mockControl.hashGate ?? own;
    }
    close() {
      this.record.closes++;
      return super.close();
    }
  }
  return { StreamHash: RecordingHash };
});

const base: ScanOptions = {
  family: 'bedrock-conversation-2024',
  policy: 'block',
  limits: { minRecords: 1 },
  cpus: 1,
};

function scan(data: string | Buffer, options: Partial<ScanOptions> = {}, chunkSize = 64 * 1024) {
  return scanTrainingData(chunked(data, chunkSize), {
    ...base,
    ...options,
    limits: { ...base.limits, ...options.limits },
  });
}

const problems = (report: ScanReport) => report.problems.map(formatProblem);

/** A valid conversation line of exactly `bytes` bytes, without its `\n`. */
function lineOf(bytes: number, seed = 0): string {
  const empty = conversation(`q${seed} `);
  return conversation(`q${seed} ${'x'.repeat(bytes - empty.length)}`);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Collects what is written; a slow one takes each write on a later turn, with a 1-byte buffer. */
class Collector extends Writable {
  writes: string[] = [];
  constructor(private readonly slow = false) {
    super({ highWaterMark: slow ? 1 : 16 * 1024 * 1024, decodeStrings: false });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.writes.push(String(chunk));
    if (this.slow) setImmediate(callback);
    else callback();
  }
}

beforeEach(() => {
  mockPools.length = 0;
  mockHashes.length = 0;
  mockControl.holdBatches = false;
  mockControl.hashGate = undefined;
  jest.restoreAllMocks();
});

describe('workerCount', () => {
  it("'auto' takes one worker per CPU beyond the reader and the hasher, at most 3", () => {
    expect([1, 2, 3, 4, 5, 16].map((cpus) => workerCount('auto', cpus))).toEqual([0, 0, 1, 2, 3, 3]);
  });

  it('a number is taken as a whole count of workers, never negative, default none', () => {
    expect(workerCount(2, 8)).toBe(2);
    expect(workerCount(2.7, 8)).toBe(2);
    expect(workerCount(-1, 8)).toBe(0);
    expect(workerCount(undefined, 8)).toBe(0);
  });
});

describe('where the work runs', () => {
  it('hashes on a thread of its own only when a CPU is left beside the reader and the workers', async () => {
    const cases: [number, ScanOptions['parallelism'], boolean][] = [
      [1, 0, false],
      [2, 0, true],
      [2, 2, false],
      [4, 3, false],
      [4, 2, true],
    ];
    for (const [cpus, parallelism] of cases) {
      await scan(cleanConversations(1), { cpus, parallelism, workerFile: '/opt/guard/worker.js' });
    }
    expect(mockHashes.map((h) => h.offload)).toEqual(cases.map(([, , offload]) => offload));
  });

  it('starts workers from the worker file the caller names', async () => {
    await scan(cleanConversations(2), { parallelism: 2, workerFile: '/opt/guard/worker.js' });
    expect(mockPools.map((p) => ({ size: p.size, workerFile: p.workerFile }))).toEqual([
      { size: 2, workerFile: '/opt/guard/worker.js' },
    ]);
  });

  it('starts no worker pool without parallelism', async () => {
    const report = await scan(cleanConversations(2), { workerFile: '/opt/guard/worker.js' });
    expect(mockPools).toEqual([]);
    expect(report.validRecords).toBe(2);
  });

  it('closes the worker pool when the scan ends', async () => {
    await scan(cleanConversations(2), { parallelism: 1, workerFile: '/opt/guard/worker.js' });
    expect(mockPools.map((p) => p.closes)).toEqual([1]);
  });

  it('stops the hash and the worker pool when reading fails', async () => {
    async function* failing() {
      yield Buffer.from(cleanConversations(2));
      throw new Error('disk read failed');
    }
    await expect(
      scanTrainingData(failing(), { ...base, parallelism: 1, workerFile: '/opt/guard/worker.js' }),
    ).rejects.toThrow('disk read failed');
    expect(mockPools.map((p) => p.closes)).toEqual([1]);
    expect(mockHashes.map((h) => h.closes)).toEqual([1]);
  });
});

describe('batches', () => {
  it('checks in-thread lines in batches of 64 KiB, the first reaching exactly 64 KiB closing it', async () => {
    const spy = jest.spyOn(RecordScanner.prototype, 'scanParts');
    // 64 lines of 1023 bytes plus `\n` are exactly 64 KiB.
    let data = '';
    for (let i = 0; i < 100; i++) data += `${lineOf(1023, i)}\n`;
    const report = await scan(data, {}, 16 * 1024);
    expect(report.validRecords).toBe(100);
    expect(spy.mock.calls.map(([, firstLine]) => firstLine)).toEqual([1, 65]);
  });

  it('checks consecutive lines of one chunk where they lie, as one view of the chunk', () => {
    const spy = jest.spyOn(RecordScanner.prototype, 'scanParts');
    const scanner = new Scanner(base);
    let text = '';
    for (let i = 0; i < 70; i++) text += `${lineOf(1023, i)}\n`;
    const chunk = Buffer.from(text);
    scanner.push(chunk);
    expect(spy).toHaveBeenCalledTimes(1);
    const [parts, firstLine] = spy.mock.calls[0] as [readonly Buffer[], number];
    expect(firstLine).toBe(1);
    expect(parts).toHaveLength(1);
    expect((parts[0] as Buffer).buffer).toBe(chunk.buffer);
    expect((parts[0] as Buffer).length).toBe(64 * 1024);
  });

  it('checks every line when a source hands the same buffer object over twice', async () => {
    const spy = jest.spyOn(RecordScanner.prototype, 'scanParts');
    const chunk = Buffer.from(`${conversation(`mail me at ${fake.email}`)}\n`);
    const report = await scanTrainingData(Readable.from([chunk, chunk]), base);
    expect(report.validRecords).toBe(2);
    expect(report.findings.map((f) => [f.type, f.line])).toEqual([
      ['EMAIL', 1],
      ['EMAIL', 2],
    ]);
    const [parts, firstLine] = spy.mock.calls[0] as [readonly Buffer[], number];
    expect(firstLine).toBe(1);
    expect(Buffer.concat(parts).toString()).toBe(`${chunk}${chunk}`);
  });

  it('numbers the batches sent to workers in line order and sends no empty batch', async () => {
    // Four batches of exactly 256 KiB each.
    let data = '';
    for (let i = 0; i < 1024; i++) data += `${lineOf(1023, i)}\n`;
    const report = await scan(data, { parallelism: 1, workerFile: '/opt/guard/worker.js' });
    expect(report.validRecords).toBe(1024);
    const requests = (mockPools[0] as MockPoolRecord).requests;
    expect(requests.map((r) => [r.seq, r.firstLine, r.bytes.length])).toEqual([
      [0, 1, 256 * 1024],
      [1, 257, 256 * 1024],
      [2, 513, 256 * 1024],
      [3, 769, 256 * 1024],
    ]);
  });
});

describe('waiting for the hash and the record checks', () => {
  it('push asks the reader to wait while the hash catches up', () => {
    const gate = deferred();
    mockControl.hashGate = gate.promise;
    const scanner = new Scanner(base);
    expect(scanner.push(Buffer.from(cleanConversations(1)))).toBe(gate.promise);
    gate.resolve();
  });

  it('push waits for both the hash and the record checks when both are behind', async () => {
    mockControl.holdBatches = true;
    const scanner = new Scanner({ ...base, parallelism: 1, workerFile: '/opt/guard/worker.js' });
    let text = '';
    for (let i = 0; i < 256; i++) text += `${lineOf(1023, i)}\n`;
    const batch = Buffer.from(text);
    for (let i = 0; i < 16; i++) expect(scanner.push(batch)).toBeUndefined();
    const gate = deferred();
    mockControl.hashGate = gate.promise;
    const waiting = scanner.push(batch);
    expect(waiting).toBeDefined();
    let done = false;
    void waiting?.then(() => {
      done = true;
    });
    gate.resolve();
    await ticks();
    expect(done).toBe(false);
    const pool = mockPools[0] as MockPoolRecord;
    expect(pool.requests).toHaveLength(17);
    for (const release of pool.held) release();
    await ticks();
    expect(done).toBe(true);
  });

  it('a line too long to hold counts as one batch in flight, so the reader waits only past 16', () => {
    mockControl.holdBatches = true;
    const scanner = new Scanner({
      ...base,
      parallelism: 1,
      workerFile: '/opt/guard/worker.js',
      limits: { maxLineBytes: 2048 },
    });
    let text = '';
    for (let i = 0; i < 256; i++) text += `${lineOf(1023, i)}\n`;
    const batch = Buffer.from(text);
    for (let i = 0; i < 15; i++) expect(scanner.push(batch)).toBeUndefined();
    expect(scanner.push(Buffer.from(`${lineOf(3000, 1)}\n`))).toBeUndefined();
    expect(scanner.push(batch)).toBeDefined();
    for (const release of (mockPools[0] as MockPoolRecord).held) release();
  });

  it('the streaming scan reads no further while the reader is asked to wait', async () => {
    const gate = deferred();
    mockControl.hashGate = gate.promise;
    const progress: number[] = [];
    const chunks = [Buffer.from(cleanConversations(1)), Buffer.from(cleanConversations(1))];
    const scanning = scanTrainingData(chunked(Buffer.concat(chunks), chunks[0]?.length ?? 1), {
      ...base,
      onProgress: (bytes) => progress.push(bytes),
    });
    await ticks();
    expect(progress).toEqual([]);
    mockControl.hashGate = undefined;
    gate.resolve();
    const report = await scanning;
    expect(progress).toHaveLength(2);
    expect(report.validRecords).toBe(2);
  });
});

describe('lines', () => {
  it('reports a blank line made of tabs', async () => {
    const report = await scan(`${cleanConversations(1)}\t\t\n${cleanConversations(1)}`);
    expect(problems(report)).toEqual(['line 2: blank line: Bedrock expects one JSON record on every line']);
  });

  it('reports a single CRLF line without counting other lines', async () => {
    const report = await scan(`${cleanConversations(1)}${conversation('second')}\r\n`);
    expect(problems(report)).toEqual(['line 2: ends with CRLF (Windows line ending)']);
  });

  it('lists a file-level problem without a line number', async () => {
    const report = await scan('');
    expect(report.problems).toStrictEqual([
      { level: 'error', code: 'EMPTY_FILE', reason: 'the file is empty' },
    ]);
  });

  it('accepts a file of exactly the maximum size', async () => {
    const data = cleanConversations(3);
    const atLimit = await scan(data, { limits: { maxFileBytes: Buffer.byteLength(data) } });
    expect(problems(atLimit)).toEqual([]);
    const over = await scan(data, { limits: { maxFileBytes: Buffer.byteLength(data) - 1 } });
    expect(problems(over)).toEqual([
      `${Buffer.byteLength(data)} bytes, over the ${Buffer.byteLength(data) - 1}-byte maximum for a training file`,
    ]);
  });

  it('keeps the bytes before a line that only began like a BOM, in the sanitized copy', async () => {
    const out = new Collector();
    const data = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0x80]),
      Buffer.from('abc\n'),
      Buffer.from(cleanConversations(1)),
    ]);
    const report = await scan(data, { policy: 'redact', redactTo: out });
    expect(report.lines).toBe(2);
    expect(out.writes.join('').split('\n')[0]).toBe('\ufec0abc');
  });

  it('keeps a file shorter than a BOM that began like one as its content', async () => {
    const report = await scan(Buffer.from([0xef, 0xbb]));
    expect(report.lines).toBe(1);
    expect(problems(report)).toEqual([
      'line 1: is not valid UTF-8; save the file as UTF-8',
      'line 1: not valid JSON: each line must be one JSON object',
    ]);
  });

  it('lists the BOM of a file that holds nothing else', async () => {
    const report = await scan(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(problems(report)).toContain(
      'line 1: the file starts with a UTF-8 byte-order mark, which Bedrock reads as part of the first record; save it as UTF-8 without BOM',
    );
  });
});

describe('lines over the maximum', () => {
  const maxLineBytes = 2048;

  it('treats a line of exactly the maximum as a record, and one byte more as too long, within one chunk', async () => {
    const data = `${lineOf(maxLineBytes, 1)}\n${lineOf(maxLineBytes + 1, 2)}\n`;
    const report = await scan(data, { limits: { maxLineBytes } });
    expect(report.validRecords).toBe(1);
    expect(report.records).toBe(2);
    expect(problems(report)).toEqual([
      'line 2: is 2,049 bytes, over the 2,048-byte maximum for one record; it was scanned for secrets but not parsed',
    ]);
  });

  it('treats a line of exactly the maximum as a record when it arrives split across chunks', async () => {
    const line = Buffer.from(`${lineOf(maxLineBytes, 1)}\n`);
    const report = await scan(line, { limits: { maxLineBytes } }, maxLineBytes);
    expect(report.validRecords).toBe(1);
    expect(problems(report)).toEqual([]);
  });

  it('streams an overlong line into the long-line scan before its end arrives', () => {
    const feed = jest.spyOn(LongLine.prototype, 'feed');
    const scanner = new Scanner({ ...base, limits: { maxLineBytes } });
    scanner.push(Buffer.from(lineOf(maxLineBytes + 1000, 1).slice(0, 1500)));
    expect(feed).not.toHaveBeenCalled();
    scanner.push(Buffer.from('x'.repeat(1000)));
    expect(feed.mock.calls.reduce((n, [bytes]) => n + bytes.length, 0)).toBe(2500);
  });

  it('reports an overlong line that is not valid UTF-8', async () => {
    const line = Buffer.concat([Buffer.from(lineOf(maxLineBytes + 10, 1)), Buffer.from([0xff, 0x0a])]);
    const report = await scan(line, { limits: { maxLineBytes } });
    expect(problems(report)).toEqual([
      'line 1: is not valid UTF-8; save the file as UTF-8',
      'line 1: is 2,059 bytes, over the 2,048-byte maximum for one record; it was scanned for secrets but not parsed',
    ]);
  });

  it('says an overlong line is left out of the sanitized copy', async () => {
    const out = new Collector();
    const data = `${lineOf(maxLineBytes + 1, 1)}\n${cleanConversations(1)}`;
    const report = await scan(data, { policy: 'redact', redactTo: out, limits: { maxLineBytes } });
    expect(problems(report)).toEqual([
      'line 1: is 2,049 bytes, over the 2,048-byte maximum for one record; it was scanned for secrets but not parsed, and is left out of the sanitized copy',
    ]);
    expect(out.writes.join('')).toBe(cleanConversations(1));
  });
});

describe('the sanitized copy', () => {
  it('writes the sanitized copy in pieces of at least 256 KiB, the rest at the end', async () => {
    const out = new Collector();
    const data = cleanConversations(3000);
    await scan(data, { policy: 'redact', redactTo: out }, 16 * 1024);
    const sizes = out.writes.map((w) => Buffer.byteLength(w));
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes.slice(0, -1)) expect(size).toBeGreaterThanOrEqual(256 * 1024);
    expect(out.writes.join('')).toBe(data);
  });

  it('waits for a slow destination to drain, then finishes', async () => {
    const out = new Collector(true);
    const drains: number[] = [];
    out.on('drain', () => drains.push(out.writes.length));
    const data = cleanConversations(3000);
    await scan(data, { policy: 'redact', redactTo: out }, 64 * 1024);
    out.end();
    await once(out, 'finish');
    expect(drains.length).toBeGreaterThan(0);
    expect(out.writes.join('')).toBe(data);
  }, 5000);
});

describe('no sanitized copy without a destination', () => {
  it('builds no sanitized text when the policy redacts but nothing receives the copy', async () => {
    const spy = jest.spyOn(RecordScanner.prototype, 'scanParts');
    const report = await scan(`${conversation(`mail ${fake.email}`)}\n`, { policy: 'redact' });
    expect(report.findings.map((f) => f.type)).toEqual(['EMAIL']);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.results[0]?.value.sanitized ?? '').toBe('');
  });
});

describe('the allow-list', () => {
  it('without an allow-list, a private key is reported whatever text its body holds', async () => {
    const key = fake.privateKey.replace('-----END', 'Stryker was here\n-----END');
    const report = await scan(`${conversation(`my key: ${key}`)}\n`);
    expect(report.findings.map((f) => f.type)).toEqual(['PRIVATE_KEY']);
    expect(report.verdict).toBe('block');
  });
});
