import { RecordScanner } from '../../../functions/shared/guard/records';
import {
  type BatchPort,
  serveBatches,
  WORKER_ROLE,
  type WorkerReply,
} from '../../../functions/shared/guard/worker';
import { cleanConversations, conversation, fake, RECORD_SCAN_CONFIG } from './fixtures';

const config = RECORD_SCAN_CONFIG;

/** A port that records what is posted to it and lets the test send messages to its listener. */
function recordingPort() {
  const posted: WorkerReply[] = [];
  const listeners: ((message: unknown) => void)[] = [];
  const port: BatchPort = {
    on: (_event, listener) => listeners.push(listener),
    postMessage: (message) => posted.push(message),
  };
  const send = (message: unknown) => {
    for (const listener of listeners) listener(message);
  };
  return { port, posted, listeners, send };
}

const batch = () => {
  const text = `${cleanConversations(2)}${conversation(`card ${fake.card}`)}\n{oops\n`;
  // A Uint8Array, not a Buffer: what a worker receives after a transfer.
  return new Uint8Array(Buffer.from(text));
};

afterEach(() => jest.restoreAllMocks());

describe('serveBatches', () => {
  it.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', WORKER_ROLE],
    ['another role', { role: 'tunevault-other', config }],
    ['no config', { role: WORKER_ROLE }],
    ['a config that is not an object', { role: WORKER_ROLE, config: 'bedrock-conversation-2024' }],
  ])('serves nothing for worker data of %s: no listener, no message, false', (_, data) => {
    const { port, posted, listeners } = recordingPort();
    expect(serveBatches(port, data)).toBe(false);
    expect([listeners.length, posted]).toStrictEqual([0, []]);
  });

  it('says it is ready once, before any batch', () => {
    const { port, posted, listeners } = recordingPort();
    expect(serveBatches(port, { role: WORKER_ROLE, config })).toBe(true);
    expect([listeners.length, posted]).toStrictEqual([1, [{ ready: true }]]);
  });

  it('answers a batch with its sequence number and exactly what the calling thread would find', () => {
    const { port, posted, send } = recordingPort();
    serveBatches(port, { role: WORKER_ROLE, config });
    const bytes = batch();
    send({ seq: 7, bytes, firstLine: 10 });
    const expected = new RecordScanner(config).scanBatch(bytes, 10);
    expect(posted).toStrictEqual([{ ready: true }, { seq: 7, result: expected }]);
    expect(expected.findings[0]).toMatchObject({ type: 'CARD_NUMBER', line: 12 });
  });

  it.each([
    ['a string sequence number', { seq: '7', bytes: new Uint8Array(1), firstLine: 1 }],
    ['a string first line', { seq: 7, bytes: new Uint8Array(1), firstLine: '1' }],
    ['no first line', { seq: 7, bytes: new Uint8Array(1) }],
    ['bytes that are not a Uint8Array', { seq: 7, bytes: [1, 2], firstLine: 1 }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'digest'],
  ])('ignores a message that is not a batch request (%s)', (_, message) => {
    const { port, posted, send } = recordingPort();
    serveBatches(port, { role: WORKER_ROLE, config });
    send(message);
    expect(posted).toStrictEqual([{ ready: true }]);
  });

  it('answers a batch the scan throws on with the error message, and goes on serving', () => {
    const { port, posted, send } = recordingPort();
    serveBatches(port, { role: WORKER_ROLE, config });
    const scan = jest.spyOn(RecordScanner.prototype, 'scanBatch');
    scan.mockImplementationOnce(() => {
      throw new RangeError('batch too large');
    });
    scan.mockImplementationOnce(() => {
      throw 'not an Error';
    });
    send({ seq: 1, bytes: batch(), firstLine: 1 });
    send({ seq: 2, bytes: batch(), firstLine: 1 });
    send({ seq: 3, bytes: new Uint8Array(0), firstLine: 1 });
    expect(posted.slice(0, 3)).toStrictEqual([
      { ready: true },
      { seq: 1, error: 'batch too large' },
      { seq: 2, error: 'not an Error' },
    ]);
    expect(posted[3]).toMatchObject({ seq: 3, result: expect.any(Object) });
  });
});
