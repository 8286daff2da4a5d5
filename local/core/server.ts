/**
 * The one loopback endpoint: reads each request, finds the service from the SigV4 credential
 * scope (`<date>/<region>/<service>/aws4_request`), applies injected faults, and dispatches.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { asCaller, Authorizer, type Caller } from '../iam/authorizer';
import { IamRegistry } from '../iam/registry';
import { FaultInjector } from './faults';
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
  /** Serves `/_tunevault/*`; answers undefined for unknown paths. */
  control?: ControlHandler;
  /** The identities SigV4 is verified against (default: the documented administrator only). */
  authenticate?: IamRegistry;
  /** Decides every request (default: a fresh authorizer over `authenticate`, enforcing). */
  authorizer?: Authorizer;
}

const isLoopback = (address: string | undefined) =>
  address === undefined || /^(127\.|::1$|::ffff:127\.)/.test(address);

const SCOPE = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

export function credentialScope(headers: LocalRequest['headers'], query: URLSearchParams) {
  const auth = headers.authorization ?? '';
  const m = SCOPE.exec(auth) ?? SCOPE.exec(`Credential=${query.get('X-Amz-Credential') ?? ''}`);
  if (!m) return undefined;
  return { region: m[1] as string, service: m[2] as string };
}

export class LocalEndpoint {
  readonly faults: FaultInjector;
  private readonly server: http.Server;
  private readonly byName = new Map<string, LocalService>();
  readonly registry: IamRegistry;
  readonly authorizer: Authorizer;

  constructor(private readonly options: EndpointOptions) {
    this.faults = options.faults ?? new FaultInjector();
    this.registry = options.authenticate ?? new IamRegistry(LOCAL_ACCOUNT_ID);
    this.authorizer = options.authorizer ?? new Authorizer({ registry: this.registry, region: LOCAL_REGION });
    for (const s of options.services) this.byName.set(s.signingName, s);
    this.server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    this.server.keepAliveTimeout = 65_000;
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
    return this.url;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `http://${a.address}:${a.port}`;
  }

  async close(): Promise<void> {
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
        secureTransport: isLoopback(transport.remoteAddress),
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

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
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
      body: Buffer.concat(chunks),
      // Unsigned requests (e.g. curl on /_tunevault) default to S3, as AWS's own endpoint would.
      service: scope?.service ?? 's3',
      region: scope?.region ?? LOCAL_REGION,
    };
    const answer = await this.dispatch(request, { remoteAddress: req.socket.remoteAddress });
    res.writeHead(answer.status, answer.headers ?? {});
    const body = answer.body;
    if (body === undefined || req.method === 'HEAD') res.end();
    else if (body instanceof Readable) body.pipe(res);
    else res.end(body);
  }
}
