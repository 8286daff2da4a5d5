/** TaskTokenStore: the DynamoDB requests it makes (the conditional delete itself runs against dynalite in test/e2e/task-token-store.test.ts). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { TaskTokenStore } from '../../../functions/shared/aws/task-tokens';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

describe('TaskTokenStore (requests)', () => {
  const store = () => new TaskTokenStore('tokens', DynamoDBDocumentClient.from(new DynamoDBClient({})));

  it('puts the waiting task as the item, and reads with a consistent read', async () => {
    ddb.on(PutCommand).resolves({});
    ddb
      .on(GetCommand)
      .resolves({ Item: { jobName: 'j', taskToken: 't', executionArn: 'arn:e', expiresAt: 5 } });
    await store().put({ jobName: 'j', taskToken: 't', expiresAt: 5 });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'tokens',
      Item: { jobName: 'j', taskToken: 't', expiresAt: 5 },
    });
    await expect(store().get('j')).resolves.toEqual({
      jobName: 'j',
      taskToken: 't',
      executionArn: 'arn:e',
      expiresAt: 5,
    });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'tokens',
      Key: { jobName: 'j' },
      ConsistentRead: true,
    });
  });

  it('reads an item without a string token as no waiting task, and fills what is missing', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { jobName: 'j', taskToken: 7 } })
      .resolvesOnce({})
      .resolvesOnce({ Item: { jobName: 'j', taskToken: 't', executionArn: 3 } });
    const s = store();
    await expect(s.get('j')).resolves.toBeUndefined();
    await expect(s.get('j')).resolves.toBeUndefined();
    await expect(s.get('j')).resolves.toEqual({ jobName: 'j', taskToken: 't', expiresAt: 0 });
  });

  it('claims with a delete conditioned on the token', async () => {
    ddb.on(DeleteCommand).resolves({});
    await expect(store().claim('j', 't')).resolves.toBe(true);
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      TableName: 'tokens',
      Key: { jobName: 'j' },
      ConditionExpression: 'taskToken = :t',
      ExpressionAttributeValues: { ':t': 't' },
    });
  });
});
