/** Starts a bare endpoint with the given services on a free loopback port (tests only). */
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
