/**
 * A localhost server that a web page cannot use: only Host values naming the endpoint are served
 * (DNS rebinding), a foreign Origin or a cross-site browser request is refused, the control API
 * takes only application/json (a no-cors text/plain POST queued faults before). A wildcard bind
 * prints a usable endpoint.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import os from 'node:os';
import { hostNameOf, isLoopback } from '../../local/core/host-origin';
import { LocalEndpoint } from '../../local/core/server';
import { type Harness, startHarness } from './support/embedded';
import { type RawRequest, signedRequest } from './support/signed';

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness();
  port = Number(new URL(h.aws.url).port);
  await h.put('private/data.jsonl', 'secret training data', h.stack.trainingBucket);
});
afterAll(async () => {
  await h?.stop();
});

const getObject = (headers: Record<string, string>) =>
  signedRequest(h.aws.url, {
    service: 's3',
    method: 'GET',
    path: `/${h.stack.trainingBucket}/private/data.jsonl`,
    headers,
  });

describe('Host', () => {
  it.each([
    ['evil.example'],
    ['evil.example:PORT'],
    ['127.0.0.1.nip.io:PORT'],
    ['localhost.evil.example:PORT'],
    ['169.254.169.254:PORT'],
  ])('%s (a DNS-rebound name) is 421, and nothing is read', async (host) => {
    const res = await getObject({ host: host.replace('PORT', String(port)) });
    expect(res.status).toBe(421);
    expect(res.body).not.toContain('secret training data');
    expect(JSON.parse(res.body).message).toContain('is not served');
  });

  it.each([
    ['localhost:PORT'],
    ['127.0.0.1:PORT'],
    ['LocalHost.:PORT'],
    [`${'tunevault-dev-training-data'}.localhost:PORT`],
  ])('%s is served', async (host) => {
    const virtualHosted = host.includes('.localhost');
    const res = await signedRequest(h.aws.url, {
      service: 's3',
      method: 'GET',
      path: virtualHosted ? '/private/data.jsonl' : `/${h.stack.trainingBucket}/private/data.jsonl`,
      headers: { host: host.replace('PORT', String(port)) },
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('secret training data');
  });

  it('the control API is behind the same rule', async () => {
    const res = await signedRequest(h.aws.url, {
      service: 's3',
      method: 'GET',
      path: '/_tunevault/stack',
      unsigned: true,
      headers: { host: `evil.example:${port}` },
    });
    expect(res.status).toBe(421);
  });
});

describe('Origin', () => {
  it.each([
    ['http://evil.example'],
    ['null'],
    ['http://localhost:3000'],
    [`https://127.0.0.1:PORT`],
    ['file://'],
  ])('a request with Origin %s is 403, and nothing is read', async (origin) => {
    const res = await getObject({ origin: origin.replace('PORT', String(port)) });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('secret training data');
  });

  it('a cross-site or same-site browser request without Origin (<img>, <script>) is 403', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const res = await getObject({ 'sec-fetch-site': site });
      expect(res.status).toBe(403);
      expect(res.body).not.toContain('secret training data');
    }
  });

  it('the endpoint’s own origin, and a request with no Origin (SDK, awscli, curl), are served', async () => {
    const allowed: Record<string, string>[] = [
      { origin: `http://127.0.0.1:${port}` },
      { origin: `http://localhost:${port}` },
      {},
      { 'sec-fetch-site': 'same-origin' },
    ];
    for (const headers of allowed) {
      const res = await getObject(headers);
      expect(res.status).toBe(200);
    }
    const sdk = await h.c.s3.send(
      new GetObjectCommand({ Bucket: h.stack.trainingBucket, Key: 'private/data.jsonl' }),
    );
    expect(await sdk.Body?.transformToString()).toBe('secret training data');
  });
});

describe('the control API takes only application/json', () => {
  const fault = JSON.stringify({
    service: 'kms',
    operation: 'Decrypt',
    count: 1,
    error: 'DisabledException',
  });
  const post = (headers: Record<string, string>, path = '/_tunevault/faults') =>
    signedRequest(h.aws.url, {
      service: 's3',
      unsigned: true,
      method: 'POST',
      path,
      headers,
      body: fault,
    } as RawRequest);

  afterEach(async () => {
    await signedRequest(h.aws.url, {
      service: 's3',
      unsigned: true,
      method: 'DELETE',
      path: '/_tunevault/faults',
    });
  });

  it("a web page's no-cors POST (text/plain, foreign Origin) queues nothing", async () => {
    const res = await post({
      'content-type': 'text/plain;charset=UTF-8',
      origin: 'http://evil.example',
      'sec-fetch-site': 'cross-site',
    });
    expect(res.status).toBe(403);
    expect(h.aws.faults.list()).toEqual([]);
  });

  it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['multipart/form-data; boundary=x'], ['']])(
    'Content-Type %j is 415 and queues nothing',
    async (type) => {
      const res = await post(type ? { 'content-type': type } : {});
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body).message).toContain('Content-Type: application/json');
      expect(h.aws.faults.list()).toEqual([]);
    },
  );

  it('application/json is served', async () => {
    const res = await post({ 'content-type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(200);
    expect(h.aws.faults.list()).toHaveLength(1);
  });

  it('a fixture object cannot be stored by a page either', async () => {
    const res = await post({ 'content-type': 'text/plain', origin: 'null' }, '/_tunevault/s3/objects');
    expect(res.status).toBe(403);
  });
});

describe('bind address', () => {
  it('loopback names and addresses are loopback; others are not', () => {
    expect(['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '::', '192.168.1.20', 'example.com'].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(hostNameOf('[::1]:4566')).toBe('::1');
    expect(hostNameOf('Bucket.LocalHost.:80')).toBe('bucket.localhost');
  });

  it('a wildcard bind prints a usable URL (not http://0.0.0.0) and serves this machine’s own addresses', async () => {
    const endpoint = new LocalEndpoint({ services: [], host: '0.0.0.0', port: 0 });
    await endpoint.listen();
    try {
      expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const p = endpoint.bound.port;
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      const hosts = [`127.0.0.1:${p}`, `localhost:${p}`, ...(external ? [`${external.address}:${p}`] : [])];
      for (const host of hosts) {
        const res = await signedRequest(endpoint.url, {
          service: 's3',
          unsigned: true,
          method: 'GET',
          path: '/_tunevault/x',
          headers: { host },
        });
        expect(res.status).toBe(404); // served (no control handler here), not refused
      }
      const foreign = await signedRequest(endpoint.url, {
        service: 's3',
        unsigned: true,
        method: 'GET',
        path: '/_tunevault/x',
        headers: { host: 'evil.example' },
      });
      expect(foreign.status).toBe(421);
    } finally {
      await endpoint.close();
    }
  });
});
