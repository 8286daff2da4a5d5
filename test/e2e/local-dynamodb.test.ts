/** The embedded DynamoDB (dynalite) through the real clients: conditional writes and TTL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { localClientConfig, startTestEndpoint } from '../../local/core/test-endpoint';
import { DynamoDbService } from '../../local/services/dynamodb';
import { startTaskTokenTable, type TaskTokenTable } from './support/task-token-table';

const TABLE = 'task-tokens';
let table: TaskTokenTable;
let service: DynamoDbService;
let ddb: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  table = await startTaskTokenTable(TABLE);
  ({ service, ddb, doc } = table);
});

afterAll(async () => {
  await table.stop();
});

describe('embedded DynamoDB', () => {
  it('creates tables ACTIVE at once', async () => {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: TABLE }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.TableArn).toBe(`arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}`);
  });

  it('PutItem with attribute_not_exists succeeds once, then ConditionalCheckFailedException', async () => {
    const put = () =>
      doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { jobName: 'job-1', taskToken: 'tok-1', expiresAt: 4_000_000_000 },
          ConditionExpression: 'attribute_not_exists(jobName)',
        }),
      );
    await put();
    const second = put();
    await expect(second).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(second).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
      $metadata: { httpStatusCode: 400 },
    });

    const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { jobName: 'job-1' } }));
    expect(Item).toEqual({ jobName: 'job-1', taskToken: 'tok-1', expiresAt: 4_000_000_000 });
    await doc.send(new DeleteCommand({ TableName: TABLE, Key: { jobName: 'job-1' } }));
    expect(
      (await doc.send(new GetCommand({ TableName: TABLE, Key: { jobName: 'job-1' } }))).Item,
    ).toBeUndefined();
  });

  it('UpdateTimeToLive / DescribeTimeToLive, and expired items are swept', async () => {
    expect(
      (await ddb.send(new DescribeTimeToLiveCommand({ TableName: TABLE }))).TimeToLiveDescription,
    ).toEqual({ TimeToLiveStatus: 'DISABLED' });
    const out = await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: TABLE,
        TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' },
      }),
    );
    expect(out.TimeToLiveSpecification).toEqual({ Enabled: true, AttributeName: 'expiresAt' });
    expect(
      (await ddb.send(new DescribeTimeToLiveCommand({ TableName: TABLE }))).TimeToLiveDescription,
    ).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expiresAt',
    });
    await expect(
      ddb.send(
        new UpdateTimeToLiveCommand({
          TableName: TABLE,
          TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      ddb.send(
        new UpdateTimeToLiveCommand({
          TableName: 'missing',
          TimeToLiveSpecification: { Enabled: true, AttributeName: 'x' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    const now = Math.floor(Date.now() / 1000);
    await doc.send(new PutCommand({ TableName: TABLE, Item: { jobName: 'old', expiresAt: now - 10 } }));
    await doc.send(new PutCommand({ TableName: TABLE, Item: { jobName: 'fresh', expiresAt: now + 3600 } }));
    await doc.send(new PutCommand({ TableName: TABLE, Item: { jobName: 'forever' } }));
    expect(await service.sweepExpiredItems(now)).toBe(1);
    const left = await Promise.all(
      ['old', 'fresh', 'forever'].map((k) =>
        doc.send(new GetCommand({ TableName: TABLE, Key: { jobName: k } })),
      ),
    );
    expect(left.map((r) => r.Item?.jobName)).toEqual([undefined, 'fresh', 'forever']);
    expect(service.snapshot()).toEqual({
      version: 1,
      ttl: { [TABLE]: { AttributeName: 'expiresAt', Enabled: true } },
    });
  });

  it('persists to a LevelDB directory across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunevault-ddb-'));
    try {
      for (const round of [1, 2]) {
        const persistent = new DynamoDbService({ path: dir });
        const ep = await startTestEndpoint([persistent]);
        const client = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(ep.url)));
        if (round === 1) {
          await client.send(
            new CreateTableCommand({
              TableName: 'kept',
              AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
              KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
              BillingMode: 'PAY_PER_REQUEST',
            }),
          );
          await client.send(new PutCommand({ TableName: 'kept', Item: { id: 'a', v: 1 } }));
        } else {
          expect((await client.send(new GetCommand({ TableName: 'kept', Key: { id: 'a' } }))).Item).toEqual({
            id: 'a',
            v: 1,
          });
        }
        client.destroy();
        await ep.close();
        await persistent.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
