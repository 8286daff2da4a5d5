/**
 * The admission table (DynamoDB, `pk`/`sk`): the key-bootstrap lease, the Bedrock job slots and
 * the FIFO wait list. Every change is one conditional write, so concurrent runs agree without a
 * lock service; reads are strongly consistent because a decision follows each of them.
 *
 *   pk=lease  sk=kms-key:<alias>    {holder, leaseUntil, keyId?, abandoned?}
 *   pk=slots  sk=bedrock-jobs       {holders: {<jobName>: {executionArn, since}}, maxSlots, slotLeaseMs, quotaCeiling?}
 *   pk=queue  sk=<ticket>           {jobName, executionArn, taskToken, enqueuedAt, requeued?}
 *
 * Times are epoch milliseconds; `expiresAt` (epoch seconds) is the table's TTL attribute and only
 * collects garbage: DynamoDB deletes expired items days late, so no decision relies on it.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from './clients';
import { isAwsError } from './errors';

export interface KeyLease {
  holder: string;
  leaseUntil: number;
  /** The key the holder created, recorded right after CreateKey. */
  keyId?: string;
  /** The holder failed and gave the lease up at once (leaseUntil 0), leaving its key to the next. */
  abandoned?: boolean;
}

export type LeaseAcquisition =
  | { acquired: true; previous?: KeyLease }
  | { acquired: false; current?: KeyLease };

export interface SlotHolder {
  jobName: string;
  executionArn: string;
  /** When it got the slot; its lease runs `slotLeaseMs` from then while it has no job. */
  since: number;
}

export interface Slots {
  holders: SlotHolder[];
  maxSlots?: number;
  slotLeaseMs?: number;
  /** After a ServiceQuotaExceededException: how many jobs Bedrock had room for, until when. */
  quotaCeiling?: number;
  quotaCeilingUntil?: number;
}

export interface Waiter {
  ticket: string;
  jobName: string;
  executionArn: string;
  taskToken: string;
  enqueuedAt: number;
  /** Back in the list after Bedrock refused the job for its quota. */
  requeued?: boolean;
}

const SLOTS_KEY = { pk: 'slots', sk: 'bedrock-jobs' };
const QUEUE = 'queue';
const LEASE = 'lease';
const DAY_S = 86_400;
/** A waiter may wait as long as a Standard execution lives (one year); its record outlives that. */
const WAITER_RETENTION_S = 400 * DAY_S;

const seconds = (ms: number) => Math.floor(ms / 1000);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function toLease(item: Record<string, unknown> | undefined): KeyLease | undefined {
  const holder = str(item?.holder);
  if (!item || !holder) return undefined;
  const keyId = str(item.keyId);
  return {
    holder,
    leaseUntil: num(item.leaseUntil) ?? 0,
    ...(keyId ? { keyId } : {}),
    ...(item.abandoned === true ? { abandoned: true } : {}),
  };
}

function holderItem(h: SlotHolder) {
  return { executionArn: h.executionArn, since: h.since };
}

function toWaiter(item: Record<string, unknown>): Waiter | undefined {
  const [ticket, jobName, executionArn, taskToken] = [
    item.sk,
    item.jobName,
    item.executionArn,
    item.taskToken,
  ].map(str);
  if (!ticket || !jobName || !executionArn || !taskToken) return undefined;
  return {
    ticket,
    jobName,
    executionArn,
    taskToken,
    enqueuedAt: num(item.enqueuedAt) ?? 0,
    ...(item.requeued === true ? { requeued: true } : {}),
  };
}

export class AdmissionTable {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = dynamoClient(),
  ) {}

  // ---- the key-bootstrap lease

  /** Takes the lease if nobody holds it or its holder's time is up; `previous` is that holder's record. */
  async acquireLease(
    name: string,
    holder: string,
    leaseUntil: number,
    now: number,
  ): Promise<LeaseAcquisition> {
    try {
      const out = await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: LEASE,
            sk: name,
            holder,
            leaseUntil,
            acquiredAt: now,
            expiresAt: seconds(leaseUntil) + DAY_S,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now',
          ExpressionAttributeValues: { ':now': now },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = toLease(out.Attributes);
      return previous ? { acquired: true, previous } : { acquired: true };
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
      const current = await this.getLease(name);
      return current ? { acquired: false, current } : { acquired: false };
    }
  }

  async getLease(name: string): Promise<KeyLease | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: LEASE, sk: name }, ConsistentRead: true }),
    );
    return toLease(out.Item);
  }

  /** Records the key the holder just created, so a successor can adopt or retire it. */
  async recordLeaseKey(name: string, holder: string, keyId: string): Promise<boolean> {
    return this.ifHolder(name, holder, 'SET keyId = :k', { ':k': keyId });
  }

  /** Gives the lease up at once (the holder failed) and keeps its record for the next holder. */
  async abandonLease(name: string, holder: string): Promise<boolean> {
    return this.ifHolder(name, holder, 'SET leaseUntil = :zero, abandoned = :yes', {
      ':zero': 0,
      ':yes': true,
    });
  }

  async releaseLease(name: string, holder: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: LEASE, sk: name },
          ConditionExpression: 'holder = :h',
          ExpressionAttributeValues: { ':h': holder },
        }),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }

  private async ifHolder(
    name: string,
    holder: string,
    update: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: LEASE, sk: name },
        UpdateExpression: update,
        ConditionExpression: 'holder = :h',
        ExpressionAttributeValues: { ':h': holder, ...values },
      }),
    );
  }

  // ---- job slots

  async readSlots(): Promise<Slots> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: SLOTS_KEY, ConsistentRead: true }),
    );
    const item = out.Item ?? {};
    const raw = (item.holders ?? {}) as Record<string, Record<string, unknown>>;
    const holders = Object.entries(raw).map(([jobName, h]) => ({
      jobName,
      executionArn: str(h.executionArn) ?? '',
      since: num(h.since) ?? 0,
    }));
    const optional = (k: string) => (num(item[k]) !== undefined ? { [k]: num(item[k]) } : {});
    return {
      holders,
      ...optional('maxSlots'),
      ...optional('slotLeaseMs'),
      ...optional('quotaCeiling'),
      ...optional('quotaCeilingUntil'),
    } as Slots;
  }

  /** Writes the slot count and lease the admitting function resolved (creates the record on first use). */
  async configureSlots(maxSlots: number, slotLeaseMs: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: SLOTS_KEY,
        UpdateExpression: 'SET maxSlots = :m, slotLeaseMs = :l, holders = if_not_exists(holders, :empty)',
        ExpressionAttributeValues: { ':m': maxSlots, ':l': slotLeaseMs, ':empty': {} },
      }),
    );
  }

  /**
   * One conditional write: a free slot becomes this job's — fewer than `capacity` holders, the job
   * not holding one yet, and under a quota ceiling while one is in force. False when refused.
   */
  async takeSlot(holder: SlotHolder, capacity: number, now: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: SLOTS_KEY,
        UpdateExpression: 'SET holders.#j = :h',
        ConditionExpression:
          'size(holders) < :cap AND attribute_not_exists(holders.#j) AND ' +
          '(attribute_not_exists(quotaCeiling) OR quotaCeilingUntil <= :now OR size(holders) < quotaCeiling)',
        ExpressionAttributeNames: { '#j': holder.jobName },
        ExpressionAttributeValues: { ':cap': capacity, ':now': now, ':h': holderItem(holder) },
      }),
    );
  }

  /**
   * One conditional write: the slot of `from` becomes `to`'s — only while `from` holds one, `to`
   * does not, and the holders are not more than the slots (after the slots were lowered).
   */
  async handOffSlot(from: string, to: SlotHolder): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: SLOTS_KEY,
        UpdateExpression: 'REMOVE holders.#f SET holders.#t = :h',
        ConditionExpression:
          'attribute_exists(holders.#f) AND attribute_not_exists(holders.#t) AND size(holders) <= maxSlots',
        ExpressionAttributeNames: { '#f': from, '#t': to.jobName },
        ExpressionAttributeValues: { ':h': holderItem(to) },
      }),
    );
  }

  /** Frees the job's slot; with `since`, only the holding that started then (not a later re-take). */
  async releaseSlot(jobName: string, since?: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: SLOTS_KEY,
        UpdateExpression: 'REMOVE holders.#j',
        ConditionExpression:
          since === undefined ? 'attribute_exists(holders.#j)' : 'holders.#j.since = :since',
        ExpressionAttributeNames: { '#j': jobName },
        ...(since === undefined ? {} : { ExpressionAttributeValues: { ':since': since } }),
      }),
    );
  }

  async setQuotaCeiling(value: number, until: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: SLOTS_KEY,
        UpdateExpression: 'SET quotaCeiling = :v, quotaCeilingUntil = :u',
        ExpressionAttributeValues: { ':v': value, ':u': until },
      }),
    );
  }

  /** A job outside this stack ended: one more of ours may fit. Only while a ceiling is set. */
  async raiseQuotaCeiling(): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: SLOTS_KEY,
        UpdateExpression: 'SET quotaCeiling = quotaCeiling + :one',
        ConditionExpression: 'attribute_exists(quotaCeiling)',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async clearQuotaCeiling(seen: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: SLOTS_KEY,
        UpdateExpression: 'REMOVE quotaCeiling, quotaCeilingUntil',
        ConditionExpression: 'quotaCeiling = :seen',
        ExpressionAttributeValues: { ':seen': seen },
      }),
    );
  }

  // ---- the wait list, oldest ticket first

  async queue(limit?: number): Promise<Waiter[]> {
    const waiters: Waiter[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :q',
          ExpressionAttributeValues: { ':q': QUEUE },
          ConsistentRead: true,
          ScanIndexForward: true,
          ...(limit ? { Limit: limit - waiters.length } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        const w = toWaiter(item);
        if (w) waiters.push(w);
      }
      start = out.LastEvaluatedKey;
    } while (start && (!limit || waiters.length < limit));
    return waiters;
  }

  /** Parks (or re-parks, with a new token) the run under its ticket. */
  async putWaiter(w: Waiter): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: QUEUE,
          sk: w.ticket,
          jobName: w.jobName,
          executionArn: w.executionArn,
          taskToken: w.taskToken,
          enqueuedAt: w.enqueuedAt,
          ...(w.requeued ? { requeued: true } : {}),
          expiresAt: seconds(w.enqueuedAt) + WAITER_RETENTION_S,
        },
      }),
    );
  }

  /** Removes the waiter only if it still holds this token (a retried park may have replaced it). */
  async removeWaiter(ticket: string, taskToken: string): Promise<boolean> {
    return this.conditional(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: QUEUE, sk: ticket },
        ConditionExpression: 'taskToken = :t',
        ExpressionAttributeValues: { ':t': taskToken },
      }),
    );
  }

  private async conditional(command: UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.db.send(command as UpdateCommand);
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }
}
