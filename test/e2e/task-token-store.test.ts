/**
 * README promise "Events: lost, repeated, out of order": the waiting task token is claimed by a
 * conditional delete before it is answered, so a repeated event resumes the run once. These tests
 * run the production TaskTokenStore against the embedded DynamoDB (dynalite: DynamoDB's own
 * condition-expression evaluation and ConditionalCheckFailedException), not against a fake.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { TaskTokenStore } from '../../functions/shared/aws/task-tokens';
import { startTaskTokenTable, type TaskTokenTable } from './support/task-token-table';

const TABLE = 'tunevault-test-task-tokens';
let table: TaskTokenTable;
let store: TaskTokenStore;

beforeAll(async () => {
  table = await startTaskTokenTable(TABLE);
  store = new TaskTokenStore(TABLE, table.doc);
});

afterAll(async () => {
  await table?.stop();
});

const rowOf = async (jobName: string) =>
  (await table.doc.send(new GetCommand({ TableName: TABLE, Key: { jobName }, ConsistentRead: true }))).Item;

describe('TaskTokenStore against the embedded DynamoDB', () => {
  it('put then get returns the waiting task as stored; an unknown job reads as undefined', async () => {
    await store.put({ jobName: 'job-roundtrip', taskToken: 'tok-a', executionArn: 'arn:x', expiresAt: 42 });
    await expect(store.get('job-roundtrip')).resolves.toEqual({
      jobName: 'job-roundtrip',
      taskToken: 'tok-a',
      executionArn: 'arn:x',
      expiresAt: 42,
    });
    await expect(store.get('job-never-registered')).resolves.toBeUndefined();
  });

  it('claim with the stored token deletes the record and returns true; a second claim of it returns false', async () => {
    await store.put({ jobName: 'job-twice', taskToken: 'tok-1', expiresAt: 4_000_000_000 });
    await expect(store.claim('job-twice', 'tok-1')).resolves.toBe(true);
    await expect(rowOf('job-twice')).resolves.toBeUndefined();
    // The repeated event: the record is gone, DynamoDB's condition fails, nobody answers twice.
    await expect(store.claim('job-twice', 'tok-1')).resolves.toBe(false);
  });

  it('claim with another token (a newer wait replaced the record) returns false and leaves the record', async () => {
    await store.put({ jobName: 'job-replaced', taskToken: 'tok-new', expiresAt: 4_000_000_000 });
    await expect(store.claim('job-replaced', 'tok-old')).resolves.toBe(false);
    await expect(rowOf('job-replaced')).resolves.toMatchObject({ taskToken: 'tok-new' });
  });

  it('claim of a job nobody waits for returns false', async () => {
    await expect(store.claim('job-nobody-waits', 'tok-x')).resolves.toBe(false);
  });

  it('ten concurrent claims of one token (a burst of duplicate events): exactly one wins', async () => {
    await store.put({ jobName: 'job-burst', taskToken: 'tok-burst', expiresAt: 4_000_000_000 });
    const wins = await Promise.all(Array.from({ length: 10 }, () => store.claim('job-burst', 'tok-burst')));
    expect(wins.filter(Boolean)).toHaveLength(1);
    await expect(rowOf('job-burst')).resolves.toBeUndefined();
  });

  it('errors other than the failed condition bubble with their AWS name', async () => {
    const missingTable = new TaskTokenStore('no-such-table', table.doc);
    await expect(missingTable.claim('job', 'tok')).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
