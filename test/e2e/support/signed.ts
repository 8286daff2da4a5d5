/**
 * Raw HTTP requests to the embedded AWS, SigV4-signed with the SDK's own signer exactly as a
 * client signs them, but with any body and headers: what tests need to send what no SDK would
 * (malformed bodies, missing checksums, foreign Host or Origin headers).
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

export async function signedRequest(endpoint: string, r: RawRequest): Promise<RawResponse> {
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
  let signedHeaders = headers;
  if (!r.unsigned) {
    const signer = new SignatureV4({
      service: r.service,
      region: 'us-east-1',
      credentials: ADMIN_CREDENTIALS,
      sha256: Sha256,
      uriEscapePath: r.service !== 's3',
    });
    const signed = await signer.sign({
      method: r.method ?? 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: r.path ?? '/',
      query: r.query ?? {},
      headers,
      body,
    });
    signedHeaders = signed.headers;
  }
  const search = new URLSearchParams(r.query ?? {}).toString().replace(/=(&|$)/g, '$1');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method ?? 'POST',
        path: `${r.path ?? '/'}${search ? `?${search}` : ''}`,
        headers: signedHeaders,
        setHost: false,
      },
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
