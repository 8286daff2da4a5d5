/**
 * AdmissionTable's reads and the lease refusal, as sent to DynamoDB (aws-sdk-client-mock). The
 * e2e test against dynalite cannot see read consistency: dynalite is always strongly consistent,
 * DynamoDB is not by default ("GetItem provides an eventually consistent read by default",
 * DynamoDB API reference, GetItem ConsistentRead). A slot count or a lease read stale would
 * admit one job too many or wait on a lease already given up.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AdmissionTable } from '../../../functions/shared/aws/admission';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());
const table = () => new AdmissionTable('admission', DynamoDBDocumentClient.from(new DynamoDBClient({})));
const conditionFailed = () =>
  Object.assign(new Error('The conditional request failed'), {
    name: 'ConditionalCheckFailedException',
    $metadata: {},
  });

describe('AdmissionTable reads', () => {
  it('reads the slots, the lease and the wait list strongly consistent', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    await table().readSlots();
    await table().getLease('kms-key:alias/x');
    await table().queue(5);
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([true, true]);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('a lease taken by someone else answers not acquired, with the holder when it can be read', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { holder: 'other', leaseUntil: 5 } })
      .resolvesOnce({});
    expect(await table().acquireLease('n', 'me', 10, 1)).toEqual({
      acquired: false,
      current: expect.objectContaining({ holder: 'other', leaseUntil: 5 }),
    });
    expect(await table().acquireLease('n', 'me', 10, 1)).toStrictEqual({ acquired: false });
  });

  it('any other error of the lease write is thrown as it came', async () => {
    ddb.on(PutCommand).rejects(
      Object.assign(new Error('slow down'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: {},
      }),
    );
    await expect(table().acquireLease('n', 'me', 10, 1)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
  });
});
