/**
 * DynamoDB (awsJson1_0, `X-Amz-Target: DynamoDB_20120810.<Op>`) backed by dynalite
 * (dynamodb/dynalite.ts): every operation is dynalite's, except time to live, which dynalite lacks
 * and dynamodb/ttl.ts serves.
 */
import * as dynamodbModel from '@aws-sdk/client-dynamodb';
import type { Body } from '../core/input';
import { AwsJsonService } from '../core/json-protocol';
import type { OperationTable } from '../core/operations';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, type LocalRequest, type LocalResponse } from '../core/types';
import type { AccessRequest } from '../iam/types';
import { dynamoDbAccess } from './dynamodb/access';
import { CONTENT_TYPE, Dynalite } from './dynamodb/dynalite';
import { TimeToLive } from './dynamodb/ttl';

export interface DynamoDbOptions {
  /** LevelDB directory; in memory when omitted. */
  path?: string;
  accountId?: string;
  region?: string;
  /** How often expired TTL items are deleted; 0 turns the sweeper off (sweepExpiredItems() still works). */
  ttlSweepMs?: number;
}

export class DynamoDbService extends AwsJsonService {
  override readonly signingName = 'dynamodb';
  private readonly db: Dynalite;
  private readonly ttl: TimeToLive;

  constructor(private readonly options: DynamoDbOptions = {}) {
    super({ name: 'DynamoDB', contentType: CONTENT_TYPE, model: dynamodbModel });
    this.db = new Dynalite(options);
    this.ttl = new TimeToLive(this.db, options.ttlSweepMs);
  }

  /** What the embedded DynamoDB adds to dynalite; every other operation is dynalite's own. */
  protected readonly operations: OperationTable<Body> = {
    UpdateTimeToLive: (b) => this.ttl.update(b),
    DescribeTimeToLive: (b) => this.ttl.describe(b),
  };

  protected override serves(): boolean {
    return true;
  }

  protected access(operation: string, input: Body): Promise<AccessRequest[]> {
    return dynamoDbAccess(operation, input, {
      region: this.options.region ?? LOCAL_REGION,
      accountId: this.options.accountId ?? LOCAL_ACCOUNT_ID,
    });
  }

  /**
   * dynalite gets the request as it came. It throws (and would take this process down) on a body
   * that is not a JSON object, and knows only the members of its day: handle() has already read
   * the input against DynamoDB's own model.
   */
  protected override async unknownOperation(operation: string, req: LocalRequest): Promise<LocalResponse> {
    const res = await this.db.forward(req.method, req.path, req.headers, req.body);
    if (res.status !== 200) return res;
    const name = this.readInput(req).TableName;
    if (typeof name !== 'string') return res;
    // dynalite answers CREATING and flips the table to ACTIVE on a timer of its own; until that
    // timer has run, a PutItem would be refused (ResourceNotFoundException, as AWS refuses a
    // CREATING table). The embedded table is ACTIVE by the time CreateTable answers.
    if (operation === 'CreateTable') await this.db.untilActive(name);
    if (operation === 'DeleteTable') this.ttl.forget(name);
    return res;
  }

  /** Deletes items whose TTL attribute is before `nowSeconds` (what the sweeper does on its own). */
  sweepExpiredItems(nowSeconds?: number): Promise<number> {
    return this.ttl.sweepExpiredItems(nowSeconds);
  }

  /** Stops dynalite (closing its LevelDB) and the TTL sweeper. */
  async close(): Promise<void> {
    this.ttl.close();
    await this.db.close();
  }

  snapshot(): unknown {
    return this.ttl.snapshot();
  }

  restore(state: unknown): void {
    this.ttl.restore(state);
  }
}
