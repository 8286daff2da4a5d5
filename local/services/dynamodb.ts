/**
 * DynamoDB (awsJson1_0, `X-Amz-Target: DynamoDB_20120810.<Op>`) backed by dynalite, the DynamoDB
 * emulator on LevelDB. dynalite runs in-process on an ephemeral loopback port and gets each request
 * as it came (method, path, headers, body), so its validation and error shapes are DynamoDB's own.
 *
 * dynalite has no UpdateTimeToLive and answers DescribeTimeToLive with a constant DISABLED, so this
 * module answers both and deletes expired items itself (AWS does so in the background, too).
 */
import * as dynamodbModel from '@aws-sdk/client-dynamodb';
import { dynamoDbAccess } from '../iam/json-access';
import type { AccessRequest } from '../iam/types';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJsonBody, AwsJsonService, requireString } from '../core/json-protocol';
import {
  AwsError,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type LocalRequest,
  type LocalResponse,
} from '../core/types';

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}
// dynalite ships no type declarations: this is the one function of it used here.
const dynalite = require('dynalite') as (options: DynaliteOptions) => http.Server;

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'DynamoDB_20120810';

export interface DynamoDbOptions {
  /** LevelDB directory; in memory when omitted. */
  path?: string;
  accountId?: string;
  region?: string;
  /** How often expired TTL items are deleted; 0 turns the sweeper off (sweepExpiredItems() still works). */
  ttlSweepMs?: number;
}

interface TtlSpec {
  AttributeName: string;
  Enabled: boolean;
}

interface Running {
  server: http.Server;
  port: number;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

type Body = Record<string, unknown>;
type AttributeValue = Record<string, unknown>;

export class DynamoDbService extends AwsJsonService {
  override readonly signingName = 'dynamodb';

  private where() {
    return {
      region: this.options.region ?? LOCAL_REGION,
      accountId: this.options.accountId ?? LOCAL_ACCOUNT_ID,
    };
  }

  accessRequests(req: LocalRequest): Promise<AccessRequest[]> {
    return dynamoDbAccess(this.operationOf(req), parseJsonBody<Record<string, unknown>>(req), this.where());
  }
  private running?: Promise<Running>;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly ttl = new Map<string, TtlSpec>();
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly options: DynamoDbOptions = {}) {
    super(CONTENT_TYPE, dynamodbModel);
  }

  async handle(req: LocalRequest): Promise<LocalResponse> {
    const op = this.operationOf(req);
    // dynalite throws (and would take this process down) on a body that is not a JSON object, and
    // knows only the members of its day: DynamoDB's own model checks the member types first.
    this.readInput(req);
    if (op === 'UpdateTimeToLive') return this.json(await this.updateTimeToLive(parseJsonBody<Body>(req)));
    if (op === 'DescribeTimeToLive')
      return this.json(await this.describeTimeToLive(parseJsonBody<Body>(req)));
    const res = await this.forward(req.method, req.path, req.headers, req.body);
    if (op === 'CreateTable' && res.status === 200) {
      // dynalite answers CREATING and flips the table to ACTIVE on a timer of its own; until that
      // timer has run, a PutItem would be refused (ResourceNotFoundException, as AWS refuses a
      // CREATING table). The embedded table is ACTIVE by the time CreateTable answers.
      const name = parseJsonBody<Body>(req).TableName;
      if (typeof name === 'string') await this.untilActive(name);
    }
    if (op === 'DeleteTable' && res.status === 200) {
      const name = parseJsonBody<Body>(req).TableName;
      if (typeof name === 'string') this.ttl.delete(name);
    }
    return res;
  }

  /** Stops dynalite (closing its LevelDB) and the TTL sweeper. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const running = this.running;
    this.running = undefined;
    this.agent.destroy();
    if (!running) return;
    const { server } = await running;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      server.close((err?: Error) => (err ? reject(err) : resolve())),
    );
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

  // ---------------------------------------------------------------- time to live

  private async updateTimeToLive(body: Body) {
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
    await this.describeTable(table);
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

  private async describeTimeToLive(body: Body) {
    const table = requireString(body, 'TableName');
    await this.describeTable(table);
    const spec = this.ttl.get(table);
    if (!spec?.Enabled) return { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } };
    return { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: spec.AttributeName } };
  }

  private startSweeper(): void {
    const every = this.options.ttlSweepMs ?? 60_000;
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
      const description = await this.describeTable(table);
      const keyNames = keySchemaOf(description);
      const expiry = {
        ExpressionAttributeNames: { '#ttl': spec.AttributeName },
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
      };
      let startKey: unknown;
      do {
        const page = await this.call('Scan', {
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
            await this.call('DeleteItem', {
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

  // ---------------------------------------------------------------- dynalite

  private async untilActive(table: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.describeTable(table)).TableStatus !== 'ACTIVE' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private async describeTable(table: string): Promise<Body> {
    const out = await this.call('DescribeTable', { TableName: table });
    return asRecord(out.Table) ?? {};
  }

  /** A request of our own to dynalite (it checks that a SigV4-shaped header is present, not the signature). */
  private async call(op: string, body: Body): Promise<Body> {
    const now = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const region = this.options.region ?? LOCAL_REGION;
    const res = await this.forward(
      'POST',
      '/',
      {
        'content-type': CONTENT_TYPE,
        'x-amz-target': `${TARGET_PREFIX}.${op}`,
        'x-amz-date': now,
        authorization: `AWS4-HMAC-SHA256 Credential=local/${now.slice(0, 8)}/${region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0`,
      },
      Buffer.from(JSON.stringify(body)),
    );
    const parsed = asRecord(JSON.parse(res.body.toString('utf8') || '{}')) ?? {};
    if (res.status !== 200) {
      const type = typeof parsed.__type === 'string' ? parsed.__type : 'InternalFailure';
      const message =
        typeof parsed.message === 'string'
          ? parsed.message
          : typeof parsed.Message === 'string'
            ? parsed.Message
            : type;
      throw new AwsError(type.slice(type.indexOf('#') + 1), message, res.status);
    }
    return parsed;
  }

  private async forward(
    method: string,
    path: string,
    headers: LocalRequest['headers'],
    body: Buffer,
  ): Promise<RawResponse> {
    const { port } = await this.start();
    const outgoing: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) {
      if (
        v !== undefined &&
        !['host', 'connection', 'content-length', 'transfer-encoding', 'expect'].includes(k)
      )
        outgoing[k] = v;
    }
    outgoing['content-length'] = String(body.length);
    return new Promise<RawResponse>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method, path, headers: outgoing, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const keep: Record<string, string> = {};
            for (const name of ['content-type', 'x-amzn-requestid', 'x-amz-crc32']) {
              const value = res.headers[name];
              if (typeof value === 'string') keep[name] = value;
            }
            resolve({ status: res.statusCode ?? 500, headers: keep, body: Buffer.concat(chunks) });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Starts dynalite on first use, so a stack that never touches DynamoDB opens no LevelDB. */
  private start(): Promise<Running> {
    this.running ??= new Promise<Running>((resolve, reject) => {
      // dynalite reads the account and region for its ARNs from the environment when it is created.
      const saved = { account: process.env.AWS_ACCOUNT_ID, region: process.env.AWS_REGION };
      process.env.AWS_ACCOUNT_ID = this.options.accountId ?? LOCAL_ACCOUNT_ID;
      process.env.AWS_REGION = this.options.region ?? LOCAL_REGION;
      let server: http.Server;
      try {
        server = dynalite({
          createTableMs: 0,
          deleteTableMs: 0,
          updateTableMs: 0,
          ...(this.options.path ? { path: this.options.path } : {}),
        });
      } finally {
        restoreEnv('AWS_ACCOUNT_ID', saved.account);
        restoreEnv('AWS_REGION', saved.region);
      }
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
    });
    return this.running;
  }

  private json(body: unknown): LocalResponse {
    return { status: 200, headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(body) };
  }
}

function keySchemaOf(table: Body): string[] {
  const schema = Array.isArray(table.KeySchema) ? table.KeySchema : [];
  return schema.map((k) => asRecord(k)?.AttributeName).filter((n): n is string => typeof n === 'string');
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
