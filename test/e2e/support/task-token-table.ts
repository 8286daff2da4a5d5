/**
 * The embedded DynamoDB alone (dynalite behind the local endpoint), with a table shaped as
 * serverless.yml declares TaskTokenTable (jobName is the hash key), and the real SDK clients.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalEndpoint } from '../../../local/core/server';
import { localClientConfig, startTestEndpoint } from '../../../local/core/test-endpoint';
import { DynamoDbService } from '../../../local/services/dynamodb';

export interface TaskTokenTable {
  service: DynamoDbService;
  endpoint: LocalEndpoint;
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

export async function startTaskTokenTable(tableName: string): Promise<TaskTokenTable> {
  const service = new DynamoDbService({ ttlSweepMs: 0 });
  const endpoint = await startTestEndpoint([service]);
  const ddb = new DynamoDBClient(localClientConfig(endpoint.url));
  const doc = DynamoDBDocumentClient.from(ddb);
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'jobName', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'jobName', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return {
    service,
    endpoint,
    ddb,
    doc,
    stop: async () => {
      doc.destroy();
      ddb.destroy();
      await endpoint.close();
      await service.close();
    },
  };
}
