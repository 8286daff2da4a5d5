/**
 * Raw HTTP requests to the embedded AWS, SigV4-signed with the SDK's own signer exactly as a
 * client signs them, but with any body and headers: what tests need to send what no SDK would
 * (malformed bodies, missing checksums, foreign Host or Origin headers, hand-framed aws-chunked
 * bodies with chunk signatures, a Content-Length with no body behind it).
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import http from 'node:http';

export interface RawRequest {
  service: string;
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Leave the request unsigned (the control API, or to test what an unsigned caller gets). */
  unsigned?: boolean;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export const ADMIN_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

const signerFor = (service: string) =>
  new SignatureV4({
    service,
    region: 'us-east-1',
    credentials: ADMIN_CREDENTIALS,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
  });

/** The request line's path and query, and the headers as signed (the body only hashed). */
export async function signedHead(
  endpoint: string,
  r: RawRequest,
): Promise<{ path: string; headers: Record<string, string> }> {
  const url = new URL(endpoint);
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : (r.body ?? Buffer.alloc(0));
  const headers: Record<string, string> = {
    host: url.host,
    'content-length': String(body.length),
    ...(r.service === 's3'
      ? { 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') }
      : {}),
    ...r.headers,
  };
  const search = new URLSearchParams(r.query ?? {}).toString().replace(/=(&|$)/g, '$1');
  const path = `${r.path ?? '/'}${search ? `?${search}` : ''}`;
  if (r.unsigned) return { path, headers };
  const signed = await signerFor(r.service).sign({
    method: r.method ?? 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: r.path ?? '/',
    query: r.query ?? {},
    headers,
    body,
  });
  return { path, headers: signed.headers };
}

export async function signedRequest(endpoint: string, r: RawRequest): Promise<RawResponse> {
  const url = new URL(endpoint);
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : (r.body ?? Buffer.alloc(0));
  const { path, headers } = await signedHead(endpoint, r);
  return send(url, r.method ?? 'POST', path, headers, body);
}

function send(
  url: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * An S3 PUT of `data` as STREAMING-AWS4-HMAC-SHA256-PAYLOAD: aws-chunked framing, each chunk
 * signed in the chain that starts at the request's own signature (S3 API reference,
 * "sigv4-streaming"). `tamper` may alter the framed body after signing.
 */
export async function signedChunkedPut(
  endpoint: string,
  path: string,
  data: Buffer,
  options: { chunkSize?: number; tamper?: (framed: Buffer) => Buffer } = {},
): Promise<RawResponse> {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkSize) chunks.push(data.subarray(at, at + chunkSize));
  chunks.push(Buffer.alloc(0));
  const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const framedLength = chunks.reduce(
    (n, c) => n + c.length.toString(16).length + 17 + 64 + 2 + c.length + 2,
    0,
  );
  const signingDate = new Date();
  const url = new URL(endpoint);
  const headers: Record<string, string> = {
    host: url.host,
    'content-encoding': 'aws-chunked',
    'content-length': String(framedLength),
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'x-amz-decoded-content-length': String(data.length),
  };
  const signer = signerFor('s3');
  const signed = await signer.sign(
    {
      method: 'PUT',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query: {},
      headers,
    },
    { signingDate },
  );
  const amzDate = signed.headers['x-amz-date'] as string;
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  let previous = (signed.headers.authorization as string).slice(-64);
  const framed: Buffer[] = [];
  for (const chunk of chunks) {
    const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, hex(''), hex(chunk)].join(
      '\n',
    );
    previous = await signer.sign(stringToSign, { signingDate });
    framed.push(
      Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    );
  }
  let body: Buffer = Buffer.concat(framed);
  if (body.length !== framedLength) throw new Error('framing length miscounted');
  if (options.tamper) body = options.tamper(body);
  return send(url, 'PUT', path, signed.headers, body);
}
