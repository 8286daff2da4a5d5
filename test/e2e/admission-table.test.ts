/**
 * README promises "One key, created once" and "No more jobs than Bedrock's quota" rest on the
 * admission table's conditional writes: the key-bootstrap lease, the job slots and the wait list.
 * These tests run the production AdmissionTable against the embedded DynamoDB (dynalite: DynamoDB's
 * own condition-expression evaluation and ConditionalCheckFailedException), not against the
 * in-memory model the step tests use (test/unit/support/memory-admission.ts).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AdmissionTable, type Waiter } from '../../functions/shared/aws/admission';
import { startAdmissionTable, type TaskTokenTable } from './support/task-token-table';

const TABLE = 'tunevault-test-admission';
const DAY_S = 86_400;
let table: TaskTokenTable;
let admission: AdmissionTable;

beforeAll(async () => {
  table = await startAdmissionTable(TABLE);
  admission = new AdmissionTable(TABLE, table.doc);
});

afterAll(async () => {
  await table?.stop();
});

const itemOf = async (pk: string, sk: string) =>
  (await table.doc.send(new GetCommand({ TableName: TABLE, Key: { pk, sk }, ConsistentRead: true }))).Item;

describe('AdmissionTable: the key-bootstrap lease against the embedded DynamoDB', () => {
  it('the first holder takes a free lease (no previous holder) and its record expires a day after the lease', async () => {
    await expect(admission.acquireLease('first', 'run-a', 1_000_000, 900_000)).resolves.toEqual({
      acquired: true,
    });
    expect(await itemOf('lease', 'first')).toEqual({
      pk: 'lease',
      sk: 'first',
      holder: 'run-a',
      leaseUntil: 1_000_000,
      acquiredAt: 900_000,
      expiresAt: 1_000 + DAY_S,
    });
    await expect(admission.getLease('first')).resolves.toEqual({ holder: 'run-a', leaseUntil: 1_000_000 });
  });

  it('a live lease is refused to another run, also at the very millisecond it ends; the answer names the holder', async () => {
    await admission.acquireLease('live', 'run-a', 2_000_000, 1_000_000);
    await expect(admission.acquireLease('live', 'run-b', 3_000_000, 1_999_999)).resolves.toEqual({
      acquired: false,
      current: { holder: 'run-a', leaseUntil: 2_000_000 },
    });
    await expect(admission.acquireLease('live', 'run-b', 3_000_000, 2_000_000)).resolves.toMatchObject({
      acquired: false,
    });
    // One millisecond later the lease is over: the next run takes it and learns who held it.
    await expect(admission.acquireLease('live', 'run-b', 3_000_000, 2_000_001)).resolves.toEqual({
      acquired: true,
      previous: { holder: 'run-a', leaseUntil: 2_000_000 },
    });
    await expect(admission.getLease('live')).resolves.toEqual({ holder: 'run-b', leaseUntil: 3_000_000 });
  });

  it('only the holder records its key or abandons the lease; the next holder finds the key and the abandonment', async () => {
    await admission.acquireLease('keyed', 'run-a', 5_000_000, 1_000_000);
    await expect(admission.recordLeaseKey('keyed', 'run-b', 'key-of-b')).resolves.toBe(false);
    await expect(admission.recordLeaseKey('keyed', 'run-a', 'key-1')).resolves.toBe(true);
    await expect(admission.abandonLease('keyed', 'run-b')).resolves.toBe(false);
    await expect(admission.getLease('keyed')).resolves.toEqual({
      holder: 'run-a',
      leaseUntil: 5_000_000,
      keyId: 'key-1',
    });
    await expect(admission.abandonLease('keyed', 'run-a')).resolves.toBe(true);
    await expect(admission.getLease('keyed')).resolves.toEqual({
      holder: 'run-a',
      leaseUntil: 0,
      keyId: 'key-1',
      abandoned: true,
    });
    // Abandoned means over at once: the next run takes it long before the original lease would end.
    await expect(admission.acquireLease('keyed', 'run-c', 6_000_000, 1_000_001)).resolves.toEqual({
      acquired: true,
      previous: { holder: 'run-a', leaseUntil: 0, keyId: 'key-1', abandoned: true },
    });
  });

  it('only the holder releases the lease; then it reads as free and a missing lease as undefined', async () => {
    await admission.acquireLease('released', 'run-a', 5_000_000, 1_000_000);
    await expect(admission.releaseLease('released', 'run-b')).resolves.toBe(false);
    await expect(admission.getLease('released')).resolves.toMatchObject({ holder: 'run-a' });
    await expect(admission.releaseLease('released', 'run-a')).resolves.toBe(true);
    await expect(admission.getLease('released')).resolves.toBeUndefined();
    await expect(admission.releaseLease('released', 'run-a')).resolves.toBe(false);
    await expect(admission.acquireLease('released', 'run-b', 5_000_000, 1_000_000)).resolves.toEqual({
      acquired: true,
    });
  });

  it('reads a record without a holder as no lease, and a record without leaseUntil as ended', async () => {
    await table.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'lease', sk: 'odd', keyId: 'k' } }));
    await expect(admission.getLease('odd')).resolves.toBeUndefined();
    await table.doc.send(
      new PutCommand({ TableName: TABLE, Item: { pk: 'lease', sk: 'odd2', holder: 'h', abandoned: 'yes' } }),
    );
    await expect(admission.getLease('odd2')).resolves.toEqual({ holder: 'h', leaseUntil: 0 });
  });
});

describe('AdmissionTable: job slots against the embedded DynamoDB', () => {
  // The slot record is one item for the whole table: each test starts from a fresh table.
  let slots: AdmissionTable;
  let fresh: TaskTokenTable;
  beforeEach(async () => {
    fresh = await startAdmissionTable(TABLE);
    slots = new AdmissionTable(TABLE, fresh.doc);
  });
  afterEach(async () => {
    await fresh.stop();
  });
  const holder = (jobName: string, since = 100) => ({ jobName, executionArn: `arn:exec:${jobName}`, since });

  it('an unconfigured table has no holders; configuring sets the slots and lease and keeps the holders', async () => {
    await expect(slots.readSlots()).resolves.toEqual({ holders: [] });
    await slots.configureSlots(2, 60_000);
    await expect(slots.readSlots()).resolves.toEqual({ holders: [], maxSlots: 2, slotLeaseMs: 60_000 });
    await expect(slots.takeSlot(holder('job-a', 7), 2, 1_000)).resolves.toBe(true);
    await slots.configureSlots(3, 30_000);
    await expect(slots.readSlots()).resolves.toEqual({
      holders: [{ jobName: 'job-a', executionArn: 'arn:exec:job-a', since: 7 }],
      maxSlots: 3,
      slotLeaseMs: 30_000,
    });
  });

  it('takes slots up to the capacity, never twice for one job, and a released slot is free again', async () => {
    await slots.configureSlots(2, 60_000);
    await expect(slots.takeSlot(holder('job-a'), 2, 1_000)).resolves.toBe(true);
    await expect(slots.takeSlot(holder('job-a'), 2, 1_000)).resolves.toBe(false);
    await expect(slots.takeSlot(holder('job-b'), 2, 1_000)).resolves.toBe(true);
    await expect(slots.takeSlot(holder('job-c'), 2, 1_000)).resolves.toBe(false);
    expect((await slots.readSlots()).holders.map((h) => h.jobName).sort()).toEqual(['job-a', 'job-b']);
    await expect(slots.releaseSlot('job-a')).resolves.toBe(true);
    await expect(slots.releaseSlot('job-a')).resolves.toBe(false);
    await expect(slots.takeSlot(holder('job-c'), 2, 1_000)).resolves.toBe(true);
  });

  it('releases a slot by its holding time only when it is that holding (not a later re-take)', async () => {
    await slots.configureSlots(1, 60_000);
    await slots.takeSlot(holder('job-a', 500), 1, 1_000);
    await expect(slots.releaseSlot('job-a', 499)).resolves.toBe(false);
    expect((await slots.readSlots()).holders).toHaveLength(1);
    await expect(slots.releaseSlot('job-a', 500)).resolves.toBe(true);
    await expect(slots.readSlots()).resolves.toMatchObject({ holders: [] });
  });

  it('hands a slot from its holder to a waiter, only from a holder, to a non-holder, and not over the slot count', async () => {
    await slots.configureSlots(2, 60_000);
    await slots.takeSlot(holder('job-a'), 2, 1_000);
    await slots.takeSlot(holder('job-b'), 2, 1_000);
    await expect(slots.handOffSlot('job-x', holder('job-c', 200))).resolves.toBe(false);
    await expect(slots.handOffSlot('job-a', holder('job-b', 200))).resolves.toBe(false);
    await expect(slots.handOffSlot('job-a', holder('job-c', 200))).resolves.toBe(true);
    expect((await slots.readSlots()).holders.sort((x, y) => x.jobName.localeCompare(y.jobName))).toEqual([
      { jobName: 'job-b', executionArn: 'arn:exec:job-b', since: 100 },
      { jobName: 'job-c', executionArn: 'arn:exec:job-c', since: 200 },
    ]);
    // The slots were lowered below the holders: no hand-off, the extra holder's slot goes away.
    await slots.configureSlots(1, 60_000);
    await expect(slots.handOffSlot('job-b', holder('job-d', 300))).resolves.toBe(false);
  });

  it('a quota ceiling holds the slots to what Bedrock had room for until it ends; raising and clearing it', async () => {
    await slots.configureSlots(3, 60_000);
    await slots.takeSlot(holder('job-a'), 3, 1_000);
    await expect(slots.raiseQuotaCeiling()).resolves.toBe(false); // none set
    await slots.setQuotaCeiling(1, 5_000);
    await expect(slots.readSlots()).resolves.toMatchObject({ quotaCeiling: 1, quotaCeilingUntil: 5_000 });
    await expect(slots.takeSlot(holder('job-b'), 3, 4_999)).resolves.toBe(false);
    // At its end the ceiling no longer binds.
    await expect(slots.takeSlot(holder('job-b'), 3, 5_000)).resolves.toBe(true);
    await slots.releaseSlot('job-b');
    await expect(slots.raiseQuotaCeiling()).resolves.toBe(true);
    await expect(slots.readSlots()).resolves.toMatchObject({ quotaCeiling: 2 });
    await expect(slots.takeSlot(holder('job-b'), 3, 1_000)).resolves.toBe(true);
    await expect(slots.takeSlot(holder('job-c'), 3, 1_000)).resolves.toBe(false);
    await expect(slots.clearQuotaCeiling(1)).resolves.toBe(false); // someone raised it since
    await expect(slots.clearQuotaCeiling(2)).resolves.toBe(true);
    const after = await slots.readSlots();
    expect(after).not.toHaveProperty('quotaCeiling');
    expect(after).not.toHaveProperty('quotaCeilingUntil');
    await expect(slots.takeSlot(holder('job-c'), 3, 1_000)).resolves.toBe(true);
  });
});

describe('AdmissionTable: the wait list against the embedded DynamoDB', () => {
  let list: AdmissionTable;
  let fresh: TaskTokenTable;
  beforeEach(async () => {
    fresh = await startAdmissionTable(TABLE);
    list = new AdmissionTable(TABLE, fresh.doc);
  });
  afterEach(async () => {
    await fresh.stop();
  });
  const waiter = (ticket: string, extra: Partial<Waiter> = {}): Waiter => ({
    ticket,
    jobName: `job-${ticket}`,
    executionArn: `arn:exec:${ticket}`,
    taskToken: `token-${ticket}`,
    enqueuedAt: 1_700_000_000_000,
    ...extra,
  });

  it('lists waiters oldest ticket first, as stored, and keeps a record 400 days after it was parked', async () => {
    await list.putWaiter(waiter('0003'));
    await list.putWaiter(waiter('0001', { requeued: true }));
    await list.putWaiter(waiter('0002', { requeued: false }));
    await expect(list.queue()).resolves.toEqual([
      waiter('0001', { requeued: true }),
      waiter('0002'),
      waiter('0003'),
    ]);
    expect(
      (await fresh.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'queue', sk: '0002' } }))).Item,
    ).toEqual({
      pk: 'queue',
      sk: '0002',
      jobName: 'job-0002',
      executionArn: 'arn:exec:0002',
      taskToken: 'token-0002',
      enqueuedAt: 1_700_000_000_000,
      expiresAt: 1_700_000_000 + 400 * DAY_S,
    });
  });

  it('with a limit returns that many oldest waiters, reading on past records that are not waiters', async () => {
    // A record missing its token is not a waiter (and a lease or the slots are not in the list).
    await fresh.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'queue', sk: '0000', jobName: 'j', executionArn: 'e' },
      }),
    );
    for (const t of ['0001', '0002', '0003']) await list.putWaiter(waiter(t));
    await list.configureSlots(1, 1);
    await expect(list.queue(2)).resolves.toEqual([waiter('0001'), waiter('0002')]);
    await expect(list.queue(1)).resolves.toEqual([waiter('0001')]);
    expect((await list.queue()).map((w) => w.ticket)).toEqual(['0001', '0002', '0003']);
  });

  it('re-parking under the same ticket replaces the token; a waiter is removed only with its current token', async () => {
    await list.putWaiter(waiter('0001'));
    await list.putWaiter(waiter('0001', { taskToken: 'token-retried' }));
    await expect(list.removeWaiter('0001', 'token-0001')).resolves.toBe(false);
    await expect(list.queue()).resolves.toEqual([waiter('0001', { taskToken: 'token-retried' })]);
    await expect(list.removeWaiter('0001', 'token-retried')).resolves.toBe(true);
    await expect(list.queue()).resolves.toEqual([]);
  });

  it('reads a waiter without enqueuedAt as parked at 0', async () => {
    await fresh.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'queue', sk: '0009', jobName: 'j', executionArn: 'e', taskToken: 't', requeued: 'yes' },
      }),
    );
    await expect(list.queue()).resolves.toEqual([
      { ticket: '0009', jobName: 'j', executionArn: 'e', taskToken: 't', enqueuedAt: 0 },
    ]);
  });
});

describe('AdmissionTable: errors other than a failed condition', () => {
  it('are thrown, not read as a refusal (a missing table fails every call)', async () => {
    const missing = new AdmissionTable('tunevault-no-such-table', table.doc);
    const notFound = { name: 'ResourceNotFoundException' };
    await expect(missing.acquireLease('k', 'run', 1, 0)).rejects.toMatchObject(notFound);
    await expect(missing.releaseLease('k', 'run')).rejects.toMatchObject(notFound);
    await expect(missing.takeSlot({ jobName: 'j', executionArn: 'e', since: 0 }, 1, 0)).rejects.toMatchObject(
      notFound,
    );
  });
});
