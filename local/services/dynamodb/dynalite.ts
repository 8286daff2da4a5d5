/**
 * dynalite, the DynamoDB emulator on LevelDB, run in-process on an ephemeral loopback port: the
 * requests it gets are the clients' own (method, path, headers, body), so its validation and error
 * shapes are DynamoDB's; and the embedded AWS's own calls (TTL sweeps) go the same way.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { asRecord, type Body } from '../../core/input';
import { AwsError, LOCAL_ACCOUNT_ID, LOCAL_REGION, type LocalRequest } from '../../core/types';

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}
// dynalite ships no type declarations: this is the one function of it used here.
const dynalite = require('dynalite') as (options: DynaliteOptions) => http.Server;

export const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'DynamoDB_20120810';

interface Running {
  server: http.Server;
  port: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

export class Dynalite {
  private running?: Promise<Running>;
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(private readonly options: { path?: string; accountId?: string; region?: string }) {}

  async untilActive(table: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.describeTable(table)).TableStatus !== 'ACTIVE' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async describeTable(table: string): Promise<Body> {
    const out = await this.call('DescribeTable', { TableName: table });
    return asRecord(out.Table) ?? {};
  }

  /** A request of our own to dynalite (it checks that a SigV4-shaped header is present, not the signature). */
  async call(op: string, body: Body): Promise<Body> {
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

  async forward(
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

  /** Stops dynalite (closing its LevelDB). */
  async close(): Promise<void> {
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
}
