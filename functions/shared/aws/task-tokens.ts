/** The waiting task token of each job, keyed by job name, in DynamoDB with a TTL. */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from './clients';
import { isAwsError } from './errors';

export interface WaitingTask {
  jobName: string;
  taskToken: string;
  executionArn?: string;
  expiresAt: number;
}

export class TaskTokenStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = dynamoClient(),
  ) {}

  async put(task: WaitingTask): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: task }));
  }

  async get(jobName: string): Promise<WaitingTask | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { jobName }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item || typeof item.taskToken !== 'string') return undefined;
    return {
      jobName,
      taskToken: item.taskToken,
      ...(typeof item.executionArn === 'string' ? { executionArn: item.executionArn } : {}),
      expiresAt: Number(item.expiresAt ?? 0),
    };
  }

  /**
   * Removes the record only if it still holds this token; true when this caller removed it.
   * Two deliveries of one event race here, and only the winner answers the task.
   */
  async claim(jobName: string, taskToken: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { jobName },
          ConditionExpression: 'taskToken = :t',
          ExpressionAttributeValues: { ':t': taskToken },
        }),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }
}
