/**
 * Time to live, which dynalite lacks (it has no UpdateTimeToLive and answers DescribeTimeToLive
 * with a constant DISABLED): the specification per table, and the sweeper that deletes expired
 * items (AWS does so in the background, too).
 */
import { asRecord, type Body, requireString } from '../../core/input';
import { AwsError } from '../../core/types';
import type { Dynalite } from './dynalite';

interface TtlSpec {
  AttributeName: string;
  Enabled: boolean;
}

type AttributeValue = Record<string, unknown>;

function keySchemaOf(table: Body): string[] {
  const schema = Array.isArray(table.KeySchema) ? table.KeySchema : [];
  return schema.map((k) => asRecord(k)?.AttributeName).filter((n): n is string => typeof n === 'string');
}

export class TimeToLive {
  private readonly ttl = new Map<string, TtlSpec>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly db: Dynalite,
    /** How often expired items are deleted; 0 turns the sweeper off (sweepExpiredItems() still works). */
    private readonly sweepMs = 60_000,
  ) {}

  /** A deleted table forgets its specification. */
  forget(table: string): void {
    this.ttl.delete(table);
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  snapshot(): unknown {
    return { version: 1, ttl: Object.fromEntries(this.ttl) };
  }

  restore(state: unknown): void {
    const ttl = asRecord(asRecord(state)?.ttl);
    if (!ttl) return;
    this.ttl.clear();
    for (const [table, raw] of Object.entries(ttl)) {
      const spec = asRecord(raw);
      if (spec && typeof spec.AttributeName === 'string')
        this.ttl.set(table, { AttributeName: spec.AttributeName, Enabled: spec.Enabled === true });
    }
    if (this.ttl.size > 0) this.startSweeper();
  }

  async update(body: Body) {
    const table = requireString(body, 'TableName');
    const spec = asRecord(body.TimeToLiveSpecification);
    const attributeName = spec?.AttributeName;
    if (
      !spec ||
      typeof spec.Enabled !== 'boolean' ||
      typeof attributeName !== 'string' ||
      attributeName === ''
    ) {
      throw new AwsError('ValidationException', 'TimeToLiveSpecification needs Enabled and AttributeName');
    }
    await this.db.describeTable(table);
    const current = this.ttl.get(table);
    if (spec.Enabled && current?.Enabled)
      throw new AwsError('ValidationException', 'TimeToLive is already enabled');
    if (!spec.Enabled && !current?.Enabled)
      throw new AwsError('ValidationException', 'TimeToLive is already disabled');
    if (!spec.Enabled && current && current.AttributeName !== attributeName) {
      throw new AwsError(
        'ValidationException',
        `TimeToLive is enabled on a different attribute: ${current.AttributeName}`,
      );
    }
    this.ttl.set(table, { AttributeName: attributeName, Enabled: spec.Enabled });
    if (spec.Enabled) this.startSweeper();
    return { TimeToLiveSpecification: { Enabled: spec.Enabled, AttributeName: attributeName } };
  }

  async describe(body: Body) {
    const table = requireString(body, 'TableName');
    await this.db.describeTable(table);
    const spec = this.ttl.get(table);
    if (!spec?.Enabled) return { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } };
    return { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: spec.AttributeName } };
  }

  private startSweeper(): void {
    const every = this.sweepMs;
    if (this.sweeper || every <= 0) return;
    this.sweeper = setInterval(() => {
      this.sweepExpiredItems().catch(() => {
        // A failed sweep (e.g. a table deleted meanwhile) is retried at the next tick.
      });
    }, every);
    this.sweeper.unref();
  }

  /**
   * Deletes items whose TTL attribute (a Number of epoch seconds) is before `nowSeconds`. Each
   * delete is conditional on the item still being expired, so a concurrent renewal survives.
   */
  async sweepExpiredItems(nowSeconds = Math.floor(Date.now() / 1000)): Promise<number> {
    let deleted = 0;
    for (const [table, spec] of this.ttl) {
      if (!spec.Enabled) continue;
      const description = await this.db.describeTable(table);
      const keyNames = keySchemaOf(description);
      const expiry = {
        ExpressionAttributeNames: { '#ttl': spec.AttributeName },
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
      };
      let startKey: unknown;
      do {
        const page = await this.db.call('Scan', {
          TableName: table,
          FilterExpression: '#ttl < :now',
          ...expiry,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        });
        const items = Array.isArray(page.Items) ? page.Items : [];
        for (const raw of items) {
          const item = asRecord(raw) as AttributeValue;
          const key = Object.fromEntries(keyNames.map((k) => [k, item[k]]));
          try {
            await this.db.call('DeleteItem', {
              TableName: table,
              Key: key,
              ConditionExpression: '#ttl < :now',
              ...expiry,
            });
            deleted++;
          } catch (err) {
            if (!(err instanceof AwsError && err.code.endsWith('ConditionalCheckFailedException'))) throw err;
          }
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return deleted;
  }
}
