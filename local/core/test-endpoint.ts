/** Starts a bare endpoint with the given services on a free loopback port (tests only). */
import { createHash } from 'node:crypto';
import { LocalEndpoint } from './server';
import type { LocalService } from './types';

export async function startTestEndpoint(services: LocalService[]): Promise<LocalEndpoint> {
  const endpoint = new LocalEndpoint({ services, port: 0 });
  await endpoint.listen();
  return endpoint;
}

/** SDK client config pointing at a local endpoint. */
export function localClientConfig(endpointUrl: string) {
  return {
    endpoint: endpointUrl,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

/**
 * `fetch` with the request signed (SigV4, header) as the documented administrator, for tests that
 * hand-craft what an SDK would not send. The payload hash is the x-amz-content-sha256 header when
 * given (S3's STREAMING-* and UNSIGNED-PAYLOAD), else the body's SHA-256.
 */
export async function signedFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
  scope: { service?: string; region?: string } = {},
): Promise<Response> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@smithy/core/checksum');
  const target = new URL(url);
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  const headers: Record<string, string> = { host: target.host, ...(init.headers ?? {}) };
  if ((scope.service ?? 's3') === 's3' && headers['x-amz-content-sha256'] === undefined)
    headers['x-amz-content-sha256'] = createHash('sha256')
      .update(body ?? Buffer.alloc(0))
      .digest('hex');
  const signer = new SignatureV4({
    service: scope.service ?? 's3',
    region: scope.region ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    sha256: Sha256,
    uriEscapePath: (scope.service ?? 's3') !== 's3',
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method: init.method ?? 'GET',
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    query: Object.fromEntries(target.searchParams.entries()),
    headers,
    ...(body ? { body } : {}),
  });
  const { host: _host, ...sent } = signed.headers;
  return fetch(url, { method: init.method ?? 'GET', headers: sent, ...(body ? { body } : {}) });
}
