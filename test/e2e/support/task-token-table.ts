/**
 * The embedded DynamoDB alone (dynalite behind the local endpoint), with a table shaped as
 * serverless.yml declares TaskTokenTable (jobName is the hash key) or AdmissionTable, and the
 * real SDK clients.
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
  return startTable(tableName, ['jobName']);
}

/** The same for serverless.yml's AdmissionTable (resources/stack.yml): `pk` hash key, `sk` range key. */
export async function startAdmissionTable(tableName: string): Promise<TaskTokenTable> {
  return startTable(tableName, ['pk', 'sk']);
}

async function startTable(tableName: string, [hash, range]: [string, string?]): Promise<TaskTokenTable> {
  const service = new DynamoDbService({ ttlSweepMs: 0 });
  const endpoint = await startTestEndpoint([service]);
  const ddb = new DynamoDBClient(localClientConfig(endpoint.url));
  const doc = DynamoDBDocumentClient.from(ddb);
  const keys = range ? [hash, range] : [hash];
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: keys.map((AttributeName, i) => ({ AttributeName, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
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
