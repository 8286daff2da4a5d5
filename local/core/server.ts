/**
 * The one loopback endpoint: checks Host and Origin (host-origin.ts), holds requests until the
 * stack is ready, reads each request, finds the service from the SigV4 credential scope
 * (`<date>/<region>/<service>/aws4_request`), applies injected faults, and dispatches.
 *
 * Readiness: the port is bound first (so its number is known and `GET /_tunevault/health`
 * answers `starting`), but every other request is held until open() — the stack deployed, every
 * function bundled — and then served in the order it arrived, so an upload made the moment the
 * port answers still starts its run. The deployment itself talks to a second, internal listener
 * on an ephemeral loopback port that is never held and is closed once the stack is up.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { asCaller, Authorizer, type Caller } from '../iam/authorizer';
import { IamRegistry } from '../iam/registry';
import { FaultInjector } from './faults';
import { HostOriginGuard, isWildcard } from './host-origin';
import { authenticate, authErrorFor } from './sigv4';
import {
  AwsError,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
} from './types';

export type ControlHandler = (req: LocalRequest) => Promise<LocalResponse | undefined>;

export interface EndpointOptions {
  services: LocalService[];
  host?: string;
  port?: number;
  faults?: FaultInjector;
  /** Hold every request but the health check until open() (the embedded AWS, while it deploys); else serve at once. */
  holdUntilOpen?: boolean;
  /** Serves `/_tunevault/*`; answers undefined for unknown paths. */
  control?: ControlHandler;
  /** The identities SigV4 is verified against (default: the documented administrator only). */
  authenticate?: IamRegistry;
  /** Decides every request (default: a fresh authorizer over `authenticate`, enforcing). */
  authorizer?: Authorizer;
}

const isLoopbackPeer = (address: string | undefined) =>
  address === undefined || /^(127\.|::1$|::ffff:127\.)/.test(address);

const SCOPE = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

export function credentialScope(headers: LocalRequest['headers'], query: URLSearchParams) {
  const auth = headers.authorization ?? '';
  const m = SCOPE.exec(auth) ?? SCOPE.exec(`Credential=${query.get('X-Amz-Credential') ?? ''}`);
  if (!m) return undefined;
  return { region: m[1] as string, service: m[2] as string };
}

export type Readiness = 'starting' | 'ready' | 'failed' | 'stopping';

const HEALTH_PATH = '/_tunevault/health';

export class LocalEndpoint {
  readonly faults: FaultInjector;
  private readonly server: http.Server;
  private internal: http.Server | undefined;
  private readonly byName = new Map<string, LocalService>();
  private guard: HostOriginGuard | undefined;
  private state: Readiness = 'starting';
  private failure: string | undefined;
  private readonly gate: Promise<void>;
  private release!: () => void;
  readonly registry: IamRegistry;
  readonly authorizer: Authorizer;

  constructor(private readonly options: EndpointOptions) {
    this.faults = options.faults ?? new FaultInjector();
    this.registry = options.authenticate ?? new IamRegistry(LOCAL_ACCOUNT_ID);
    this.authorizer = options.authorizer ?? new Authorizer({ registry: this.registry, region: LOCAL_REGION });
    for (const s of options.services) this.byName.set(s.signingName, s);
    this.gate = new Promise<void>((resolve) => {
      this.release = resolve;
    });
    this.server = this.createServer(true);
    if (!options.holdUntilOpen) this.open();
  }

  private createServer(held: boolean): http.Server {
    const server = http.createServer((req, res) => {
      this.onRequest(req, res, held).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    server.keepAliveTimeout = 65_000;
    return server;
  }

  /** `starting` until open(), then `ready`; `failed` when the start failed, `stopping` on close(). */
  get readiness(): Readiness {
    return this.state;
  }

  get failureReason(): string | undefined {
    return this.failure;
  }

  /** Serves every held request, in arrival order, and all that follow. */
  open(): void {
    this.state = 'ready';
    this.release();
  }

  /** The start failed: held and later requests are answered 503 with the reason. */
  fail(reason: string): void {
    this.state = 'failed';
    this.failure = reason;
    this.release();
  }

  /** A second listener on an ephemeral loopback port that never holds requests (for the deployment). */
  async listenInternal(): Promise<string> {
    const server = this.createServer(false);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.internal = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async closeInternal(): Promise<void> {
    const server = this.internal;
    this.internal = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  service<T extends LocalService>(signingName: string): T {
    const s = this.byName.get(signingName);
    if (!s) throw new Error(`no local service '${signingName}'`);
    return s as T;
  }

  async listen(): Promise<string> {
    const { host = '127.0.0.1', port = 4566 } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.guard = new HostOriginGuard({ address: a.address, port: a.port });
    return this.url;
  }

  /** The address and port the endpoint is bound to (0.0.0.0 or :: for every interface). */
  get bound(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** A URL clients on this machine can use: a wildcard bind is reached through the loopback address. */
  get url(): string {
    const a = this.bound;
    const address = isWildcard(a.address) ? (a.family === 'IPv6' ? '::1' : '127.0.0.1') : a.address;
    return `http://${address.includes(':') ? `[${address}]` : address}:${a.port}`;
  }

  async close(): Promise<void> {
    this.state = 'stopping';
    this.release();
    await this.closeInternal();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Serves an already-read request through the whole pipeline: SigV4 authentication against the
   * known identities, authorization of every question the request asks (service.accessRequests)
   * by the IAM evaluator, injected faults, then the service. The caller is kept for the request's
   * duration (services acting for it, such as S3 using KMS, read it). TRANSPORT says whether the
   * request came over loopback: `aws:SecureTransport` is true for loopback requests — they never
   * leave the machine, so a TLS-only bucket policy is satisfied there — and false for a request
   * from another host to a plain-HTTP non-loopback bind (README, "aws:SecureTransport").
   */
  async dispatch(req: LocalRequest, transport: { remoteAddress?: string } = {}): Promise<LocalResponse> {
    if (req.path.startsWith('/_tunevault/')) {
      const answer = await this.options.control?.(req);
      return (
        answer ?? {
          status: 404,
          headers: { 'content-type': 'application/json' },
          body: '{"message":"unknown control path"}',
        }
      );
    }
    const service = this.byName.get(req.service);
    if (!service) {
      return {
        status: 400,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          message: `The embedded AWS does not serve '${req.service}'. It serves: ${[...this.byName.keys()].join(', ')}`,
        }),
      };
    }
    let operation = 'Unknown';
    try {
      const auth = await authenticate(req, (id) => this.registry.lookup(id)?.credential);
      if (!auth) throw authErrorFor(req.service, 'MissingAuthentication');
      const session = this.registry.lookup(auth.accessKeyId);
      if (!session) throw authErrorFor(req.service, 'UnknownAccessKey', { accessKeyId: auth.accessKeyId });
      req.auth = auth;
      const caller: Caller = {
        principal: session.principal,
        secureTransport: isLoopbackPeer(transport.remoteAddress),
        sourceIp: transport.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      };
      return await asCaller(caller, async () => {
        operation = service.operationOf(req);
        if (this.authorizer.mode !== 'off') {
          if (!service.accessRequests)
            throw new AwsError(
              'AccessDeniedException',
              `${req.service} has no IAM action map in the embedded AWS`,
            );
          await this.authorizer.require(caller, service.signingName, await service.accessRequests(req));
        }
        await this.faults.apply(req.service, operation);
        return await service.handle(req);
      });
    } catch (err) {
      if (err instanceof AwsError) return service.errorResponse(err);
      const message = err instanceof Error ? err.message : String(err);
      return service.errorResponse(new AwsError('InternalFailure', `${operation}: ${message}`, 500));
    }
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse, held: boolean): Promise<void> {
    const refused = this.guard?.check(req);
    if (refused) {
      req.resume();
      res.writeHead(refused.status, { ...refused.headers, connection: 'close' });
      res.end(refused.body as string);
      return;
    }
    if (held && this.state !== 'ready' && (req.url ?? '').split('?')[0] !== HEALTH_PATH) {
      await this.gate;
      if (this.readiness !== 'ready') {
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
        res.end(
          JSON.stringify({
            message: `The embedded AWS is ${this.state === 'failed' ? `not available: its start failed (${this.failure ?? 'unknown reason'})` : 'stopping'}.`,
          }),
        );
        return;
      }
    }
    // Split by hand: URL parsing would collapse `.` and `..` segments, which are legal in S3 keys.
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const url = {
      pathname: q < 0 ? raw : raw.slice(0, q),
      searchParams: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
    };
    const headers: LocalRequest['headers'] = {};
    for (const [k, v] of Object.entries(req.headers))
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    const scope = credentialScope(headers, url.searchParams);
    const request: LocalRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers,
      body: Buffer.alloc(0),
      // Unsigned requests (e.g. curl on /_tunevault) default to S3, as AWS's own endpoint would.
      service: scope?.service ?? 's3',
      region: scope?.region ?? LOCAL_REGION,
    };
    // Object bodies stream to the service as they arrive (authentication and authorization need
    // only the headers); every other body is read whole first.
    const service = this.byName.get(request.service);
    if (!request.path.startsWith('/_tunevault/') && service?.streamsBody?.(request)) request.bodyStream = req;
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      request.body = Buffer.concat(chunks);
    }
    const answer = await this.dispatch(request, { remoteAddress: req.socket.remoteAddress });
    if (request.bodyStream && !req.readableEnded) {
      // Answered before the body was read (refused, or too large): do not read gigabytes to
      // discard them — close the connection once the answer is out.
      res.setHeader('connection', 'close');
      res.once('finish', () => req.destroy());
    }
    res.writeHead(answer.status, answer.headers ?? {});
    const body = answer.body;
    if (body === undefined || req.method === 'HEAD') res.end();
    else if (body instanceof Readable) body.pipe(res);
    else res.end(body);
  }
}
