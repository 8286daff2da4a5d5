/**
 * SigV4 verification of the embedded AWS (local/core/sigv4.ts), checked against what signs real requests:
 * AWS's published test vectors, the SDK's own signer (@smithy/signature-v4), the SDK clients over a real
 * loopback socket, and botocore when python3/boto3 is installed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { BedrockClient, GetCustomModelCommand, ListCustomModelsCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, ListEventBusesCommand } from '@aws-sdk/client-eventbridge';
import { EncryptCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { jsonError } from '../../../local/core/json-protocol';
import {
  type Authenticated,
  authenticate,
  authErrorFor,
  type Credential,
  chunkVerifier,
  verifyChunkSignature,
  verifyTrailerSignature,
} from '../../../local/core/sigv4';
import { AwsError, type LocalRequest, type LocalResponse } from '../../../local/core/types';
import { s3ErrorResponse } from '../../../local/services/s3/errors';

const KEY = 'AKIDSIGV4TEST';
const SECRET = 'sigv4-test-secret/with+odd=chars';
const TEMP_KEY = 'ASIASIGV4TEST';
const TEMP_SECRET = 'temporary-secret';
const TOKEN = 'FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDH+session=token';
const DOC_KEY = 'AKIAIOSFODNN7EXAMPLE';
const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

const credentials = new Map<string, Credential>([
  [KEY, { accessKeyId: KEY, secretAccessKey: SECRET }],
  [TEMP_KEY, { accessKeyId: TEMP_KEY, secretAccessKey: TEMP_SECRET, sessionToken: TOKEN }],
  [DOC_KEY, { accessKeyId: DOC_KEY, secretAccessKey: DOC_SECRET }],
]);
const lookup = (id: string) => credentials.get(id);

const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** What the endpoint hands a service: the fields server.ts fills, from a request as the signer left it. */
function localRequest(signed: HttpRequest, service: string, region = 'us-east-1'): LocalRequest {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) {
    for (const value of Array.isArray(v) ? v : [v]) query.append(k, value ?? '');
  }
  const headers: LocalRequest['headers'] = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  const body = signed.body === undefined ? Buffer.alloc(0) : Buffer.from(signed.body as string | Uint8Array);
  return { method: signed.method, path: signed.path, query, headers, body, service, region };
}

function signer(service: string, secret = SECRET, accessKeyId = KEY, sessionToken?: string) {
  return new SignatureV4({
    service,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: secret, ...(sessionToken ? { sessionToken } : {}) },
    sha256: Sha256,
    // S3's signing configuration in the SDK: the path is signed as sent, the payload hash is a header.
    uriEscapePath: service !== 's3',
    applyChecksum: service === 's3',
  });
}

function request(
  method: string,
  path: string,
  options: { query?: Record<string, string>; headers?: Record<string, string>; body?: string | Buffer } = {},
): HttpRequest {
  return {
    method,
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path,
    query: options.query ?? {},
    headers: { host: '127.0.0.1:4566', ...(options.headers ?? {}) },
    ...(options.body !== undefined ? { body: options.body } : {}),
  };
}

async function rejection(promise: Promise<unknown>): Promise<AwsError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AwsError) return err;
    throw err;
  }
  throw new Error('expected an AwsError, got success');
}

function thrown(fn: () => unknown): AwsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AwsError) return err;
    throw err;
  }
  throw new Error('expected an AwsError, got success');
}

// ---------------------------------------------------------------------------------------------------

describe('AWS documentation test vectors (S3 "Signature Calculations for the Authorization Header")', () => {
  const at = new Date('2013-05-24T00:00:00Z');
  const docRequest = (
    method: string,
    path: string,
    headers: Record<string, string>,
    signature: string,
    extra: Partial<LocalRequest> = {},
  ): LocalRequest => {
    const all: Record<string, string> = {
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      ...headers,
    };
    const signedHeaders = Object.keys(all).sort().join(';');
    all.authorization = `AWS4-HMAC-SHA256 Credential=${DOC_KEY}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
    return {
      method,
      path,
      query: new URLSearchParams(),
      headers: all,
      body: Buffer.alloc(0),
      service: 's3',
      region: 'us-east-1',
      ...extra,
    };
  };

  test('GET Object with a Range header verifies (signature f0e8bdb8…)', async () => {
    const req = docRequest(
      'GET',
      '/test.txt',
      { range: 'bytes=0-9', 'x-amz-content-sha256': sha256Hex('') },
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    const auth = await authenticate(req, lookup, { now: at });
    expect(auth).toMatchObject({
      accessKeyId: DOC_KEY,
      scope: '20130524/us-east-1/s3/aws4_request',
      payloadMode: 'signed',
      presigned: false,
    });
    // One byte of the Range changed: the same signature no longer holds.
    req.headers.range = 'bytes=0-8';
    const err = await rejection(authenticate(req, lookup, { now: at }));
    expect(err).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    expect(err.extra).toMatchObject({ AWSAccessKeyId: DOC_KEY, SignatureProvided: expect.any(String) });
    expect(err.extra.CanonicalRequest).toContain('range:bytes=0-8');
  });

  test('PUT Object with a $ in the key, a Date header and a body verifies (signature 98ad7217…)', async () => {
    const body = Buffer.from('Welcome to Amazon S3.');
    const req = docRequest(
      'PUT',
      '/test%24file.text',
      {
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-content-sha256': sha256Hex(body),
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
      '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
      { body },
    );
    await expect(authenticate(req, lookup, { now: at })).resolves.toMatchObject({ payloadMode: 'signed' });
    // The signed hash no longer describes the body: S3's XAmzContentSHA256Mismatch, after the signature holds.
    req.body = Buffer.from('Welcome to Amazon S4.');
    const err = await rejection(authenticate(req, lookup, { now: at }));
    expect(err).toMatchObject({ code: 'XAmzContentSHA256Mismatch', status: 400 });
    expect(err.extra).toEqual({
      ClientComputedContentSHA256: sha256Hex(body),
      S3ComputedContentSHA256: sha256Hex(req.body),
    });
  });

  test('GET Bucket lifecycle (?lifecycle, empty value) verifies (signature fea454ca…)', async () => {
    const req = docRequest(
      'GET',
      '/',
      { 'x-amz-content-sha256': sha256Hex('') },
      'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
      { query: new URLSearchParams('lifecycle') },
    );
    await expect(authenticate(req, lookup, { now: at })).resolves.toBeDefined();
  });

  test('GET Bucket (List Objects) with a sorted query verifies (signature 34b48302…)', async () => {
    const req = docRequest(
      'GET',
      '/',
      { 'x-amz-content-sha256': sha256Hex('') },
      '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
      { query: new URLSearchParams('max-keys=2&prefix=J') },
    );
    await expect(authenticate(req, lookup, { now: at })).resolves.toBeDefined();
    req.query.set('prefix', 'K');
    await expect(authenticate(req, lookup, { now: at })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  test('the presigned GET example verifies (aeeed9bb…) until X-Amz-Expires runs out, then AccessDenied "Request has expired"', async () => {
    const query = new URLSearchParams(
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
        '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
        '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
    const req: LocalRequest = {
      method: 'GET',
      path: '/test.txt',
      query,
      headers: { host: 'examplebucket.s3.amazonaws.com' },
      body: Buffer.alloc(0),
      service: 's3',
      region: 'us-east-1',
    };
    const lastSecond = new Date(at.getTime() + 86_400_000);
    await expect(authenticate(req, lookup, { now: lastSecond })).resolves.toMatchObject({
      presigned: true,
      payloadMode: 'unsigned',
    });
    const err = await rejection(authenticate(req, lookup, { now: new Date(lastSecond.getTime() + 1000) }));
    expect(err).toMatchObject({ code: 'AccessDenied', message: 'Request has expired', status: 403 });
    expect(err.extra).toEqual({
      'X-Amz-Expires': '86400',
      Expires: '2013-05-25T00:00:00Z',
      ServerTime: '2013-05-25T00:00:01Z',
    });
  });

  test('header signatures older than 15 minutes are RequestTimeTooSkewed (403, MaxAllowedSkewMilliseconds 900000)', async () => {
    const req = docRequest(
      'GET',
      '/test.txt',
      { range: 'bytes=0-9', 'x-amz-content-sha256': sha256Hex('') },
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    await expect(authenticate(req, lookup, { now: new Date(at.getTime() + 900_000) })).resolves.toBeDefined();
    const err = await rejection(authenticate(req, lookup, { now: new Date(at.getTime() + 901_000) }));
    expect(err).toMatchObject({
      code: 'RequestTimeTooSkewed',
      status: 403,
      message: 'The difference between the request time and the current time is too large.',
    });
    expect(err.extra).toEqual({
      RequestTime: '20130524T000000Z',
      ServerTime: '2013-05-24T00:15:01Z',
      MaxAllowedSkewMilliseconds: '900000',
    });
    await expect(authenticate(req, lookup, { now: new Date(at.getTime() - 901_000) })).rejects.toMatchObject({
      code: 'RequestTimeTooSkewed',
    });
  });
});

/** The sigv4-streaming(.html) and sigv4-streaming-trailers examples: 64 KiB + 1 KiB of 'a' and the final chunk. */
function docChunkedRequest(trailer: boolean): { req: LocalRequest; body: Buffer } {
  const signatures = trailer
    ? [
        'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
        '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
        '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
      ]
    : [
        'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
        '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
        'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
      ];
  const body = Buffer.concat([
    Buffer.from(`10000;chunk-signature=${signatures[0]}\r\n`),
    Buffer.alloc(65_536, 'a'),
    Buffer.from(`\r\n400;chunk-signature=${signatures[1]}\r\n`),
    Buffer.alloc(1024, 'a'),
    Buffer.from(`\r\n0;chunk-signature=${signatures[2]}\r\n`),
    Buffer.from(
      trailer
        ? 'x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n'
        : '\r\n',
    ),
  ]);
  const headers: Record<string, string> = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': String(body.length),
    'x-amz-content-sha256': trailer
      ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
      : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  };
  const signed = trailer
    ? 'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer'
    : 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class';
  const seed = trailer
    ? '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e'
    : '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
  if (trailer) headers['x-amz-trailer'] = 'x-amz-checksum-crc32c';
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${DOC_KEY}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${seed}`;
  const req: LocalRequest = {
    method: 'PUT',
    path: '/examplebucket/chunkObject.txt',
    query: new URLSearchParams(),
    headers,
    body,
    service: 's3',
    region: 'us-east-1',
  };
  return { req, body };
}

/** A minimal aws-chunked reader, the way local/services/s3/body.ts frames chunks, feeding the verifier. */
function readChunks(body: Buffer, auth: Authenticated): Buffer {
  const verifier = chunkVerifier(auth);
  if (!verifier) throw new Error('no chunk verifier for a signed streaming payload');
  const parts: Buffer[] = [];
  let at = 0;
  const line = () => {
    const end = body.indexOf('\r\n', at);
    const text = body.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  for (;;) {
    const header = line();
    const size = Number.parseInt(header.split(';')[0] ?? '', 16);
    const data = body.subarray(at, at + size);
    verifier.chunk(header, data);
    if (size === 0) break;
    parts.push(data);
    at += size + 2;
  }
  const trailers: Record<string, string> = {};
  while (at < body.length) {
    const text = line();
    if (text === '') break;
    const colon = text.indexOf(':');
    trailers[text.slice(0, colon)] = text.slice(colon + 1);
  }
  verifier.end(trailers);
  return Buffer.concat(parts);
}

describe('aws-chunked signed payloads (AWS sigv4-streaming examples)', () => {
  const at = new Date('2013-05-24T00:00:00Z');

  test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the seed (4f232c43…) and the three chunk signatures verify', async () => {
    const { req, body } = docChunkedRequest(false);
    expect(body.length).toBe(66_824); // the documented Content-Length
    const auth = (await authenticate(req, lookup, { now: at })) as Authenticated;
    expect(auth).toMatchObject({
      payloadMode: 'streaming-signed',
      seedSignature: req.headers.authorization?.slice(-64),
    });
    expect(readChunks(body, auth)).toEqual(Buffer.alloc(66_560, 'a'));
  });

  test('one changed byte in the second chunk is SignatureDoesNotMatch (403)', async () => {
    const { req, body } = docChunkedRequest(false);
    const auth = (await authenticate(req, lookup, { now: at })) as Authenticated;
    const tampered = Buffer.from(body);
    tampered[body.indexOf('\r\n400;') + 200] = 'b'.charCodeAt(0);
    const err = thrown(() => readChunks(tampered, auth));
    expect(err).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    expect(err.extra.StringToSign).toMatch(/^AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n/);
  });

  test('chunks reordered, a missing signature or a body without its final chunk are refused', async () => {
    const { req } = docChunkedRequest(false);
    const auth = (await authenticate(req, lookup, { now: at })) as Authenticated;
    const sig1 = 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648';
    const sig2 = '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497';
    // The second chunk's signature chains on the first: it does not verify against the seed.
    expect(
      thrown(() => verifyChunkSignature(auth, auth.seedSignature, Buffer.alloc(1024, 'a'), sig2)).code,
    ).toBe('SignatureDoesNotMatch');
    expect(verifyChunkSignature(auth, auth.seedSignature, Buffer.alloc(65_536, 'a'), sig1)).toBe(sig1);
    const verifier = chunkVerifier(auth);
    expect(thrown(() => verifier?.chunk('10000', Buffer.alloc(65_536, 'a'))).code).toBe(
      'SignatureDoesNotMatch',
    );
    const truncated = chunkVerifier(auth);
    truncated?.chunk(`10000;chunk-signature=${sig1}`, Buffer.alloc(65_536, 'a'));
    expect(thrown(() => truncated?.end({})).code).toBe('SignatureDoesNotMatch');
  });

  test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: seed 106e2a8a…, chunks and x-amz-trailer-signature d81f82fc… verify', async () => {
    const { req, body } = docChunkedRequest(true);
    const auth = (await authenticate(req, lookup, { now: at })) as Authenticated;
    expect(auth.payloadMode).toBe('streaming-signed-trailer');
    expect(readChunks(body, auth)).toHaveLength(66_560);
    // A different checksum in the trailer breaks the trailer signature.
    const forged = Buffer.from(body.toString('latin1').replace('sOO8/Q==', 'AAAAAA=='), 'latin1');
    expect(thrown(() => readChunks(forged, auth)).code).toBe('SignatureDoesNotMatch');
    expect(
      thrown(() =>
        verifyTrailerSignature(
          auth,
          '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
          [['x-amz-checksum-crc32c', 'sOO8/Q==']],
          undefined,
        ),
      ).code,
    ).toBe('SignatureDoesNotMatch');
  });

  test('chunk signatures made with the SDK signer over its own key derivation verify; one tampered chunk does not', async () => {
    const now = new Date();
    const sdk = signer('s3');
    const data = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 31) % 251));
    const chunks = [
      data.subarray(0, 65_536),
      data.subarray(65_536, 131_072),
      data.subarray(131_072),
      Buffer.alloc(0),
    ];
    const signed = await sdk.sign(
      request('PUT', '/bucket/streamed.bin', {
        headers: {
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': String(data.length),
        },
      }),
      { signingDate: now },
    );
    const seed = (signed.headers.authorization as string).slice(-64);
    const amzDate = signed.headers['x-amz-date'] as string;
    const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    let previous = seed;
    const framed: Buffer[] = [];
    for (const chunk of chunks) {
      const stringToSign = [
        'AWS4-HMAC-SHA256-PAYLOAD',
        amzDate,
        scope,
        previous,
        sha256Hex(''),
        sha256Hex(chunk),
      ].join('\n');
      previous = await sdk.sign(stringToSign, { signingDate: now });
      framed.push(
        Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`),
        chunk,
        Buffer.from('\r\n'),
      );
    }
    const body = Buffer.concat(framed);
    const req = localRequest({ ...signed, body }, 's3');
    const auth = (await authenticate(req, lookup, { now })) as Authenticated;
    expect(readChunks(body, auth)).toEqual(data);
    const tampered = Buffer.from(body);
    tampered[70_000] = (tampered[70_000] as number) ^ 1;
    expect(thrown(() => readChunks(tampered, auth)).code).toBe('SignatureDoesNotMatch');
  });
});

// ---------------------------------------------------------------------------------------------------

describe('requests signed by the SDK signer', () => {
  test('an unsigned request is anonymous: authenticate answers undefined', async () => {
    await expect(
      authenticate(localRequest(request('GET', '/bucket/key'), 's3'), lookup),
    ).resolves.toBeUndefined();
  });

  test('S3: the path is signed as sent, so /b/a%2Fb and /b/a/b are different requests', async () => {
    const signed = await signer('s3').sign(request('GET', '/b/a%2Fb'));
    await expect(authenticate(localRequest(signed, 's3'), lookup)).resolves.toMatchObject({
      accessKeyId: KEY,
    });
    await expect(
      authenticate(localRequest({ ...signed, path: '/b/a/b' }, 's3'), lookup),
    ).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  test('S3: a path escaped twice (the non-S3 rule) does not verify as S3', async () => {
    const doubleEscaping = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
      sha256: Sha256,
      uriEscapePath: true,
    });
    const signed = await doubleEscaping.sign(request('GET', '/b/a%20key'));
    await expect(authenticate(localRequest(signed, 's3'), lookup)).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  test('Bedrock (restJson): the path is escaped once more; an S3-style signature is InvalidSignatureException 403', async () => {
    const path = `/custom-models/${encodeURIComponent('arn:aws:bedrock:us-east-1:000000000000:custom-model/amazon.titan-text-express-v1:0:8k/abc')}`;
    const good = await signer('bedrock').sign(request('GET', path));
    await expect(authenticate(localRequest(good, 'bedrock'), lookup)).resolves.toMatchObject({
      service: 'bedrock',
    });
    const s3Style = new SignatureV4({
      service: 'bedrock',
      region: 'us-east-1',
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
      sha256: Sha256,
      uriEscapePath: false,
    });
    const bad = await s3Style.sign(request('GET', path));
    const err = await rejection(authenticate(localRequest(bad, 'bedrock'), lookup));
    expect(err).toMatchObject({ code: 'InvalidSignatureException', status: 403 });
    // AWS appends what it computed: the canonical path escaped twice (%3A → %253A).
    expect(err.message).toContain(
      "The Canonical String for this request should have been\n'GET\n/custom-models/arn%253Aaws",
    );
  });

  test('KMS (awsJson): a body changed after signing is InvalidSignatureException (the service hashes the body itself)', async () => {
    const body = '{"KeyId":"alias/tunevault","Plaintext":"aGk="}';
    const signed = await signer('kms').sign(
      request('POST', '/', {
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Encrypt' },
        body,
      }),
    );
    await expect(authenticate(localRequest(signed, 'kms'), lookup)).resolves.toMatchObject({
      service: 'kms',
      payloadMode: 'signed',
    });
    const tampered = localRequest({ ...signed, body: body.replace('aGk=', 'aGl=') }, 'kms');
    const err = await rejection(authenticate(tampered, lookup));
    expect(err).toMatchObject({ code: 'InvalidSignatureException', status: 400 });
    expect(err.message).toMatch(
      /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\./,
    );
  });

  test('S3 x-amz-content-sha256: required on header auth, UNSIGNED-PAYLOAD accepted, garbage refused', async () => {
    const unsigned = await signer('s3').sign(
      request('PUT', '/b/k', { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: 'anything' }),
    );
    await expect(authenticate(localRequest(unsigned, 's3'), lookup)).resolves.toMatchObject({
      payloadMode: 'unsigned',
    });
    const noHash = await signer('s3').sign(request('GET', '/b/k'));
    delete noHash.headers['x-amz-content-sha256'];
    await expect(authenticate(localRequest(noHash, 's3'), lookup)).rejects.toMatchObject({
      code: 'InvalidRequest',
      message: 'Missing required header for this request: x-amz-content-sha256',
    });
    const garbage = await signer('s3').sign(
      request('GET', '/b/k', { headers: { 'x-amz-content-sha256': 'nope' } }),
    );
    await expect(authenticate(localRequest(garbage, 's3'), lookup)).rejects.toMatchObject({
      code: 'InvalidArgument',
      extra: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: 'nope' },
    });
  });

  test('S3 refuses x-amz-* headers added after signing: AccessDenied with HeadersNotSigned', async () => {
    const signed = await signer('s3').sign(request('PUT', '/b/k', { body: 'x' }));
    const req = localRequest(signed, 's3');
    req.headers['x-amz-meta-late'] = 'added';
    req.headers['x-amz-acl'] = 'public-read';
    await expect(authenticate(req, lookup)).rejects.toMatchObject({
      code: 'AccessDenied',
      status: 403,
      message: 'There were headers present in the request which were not signed',
      extra: { HeadersNotSigned: 'x-amz-acl, x-amz-meta-late' },
    });
    // Unsigned ordinary headers (user-agent, …) are fine.
    const fine = localRequest(signed, 's3');
    fine.headers['user-agent'] = 'curl/8';
    await expect(authenticate(fine, lookup)).resolves.toBeDefined();
  });

  test('wrong secret: S3 SignatureDoesNotMatch 403, KMS InvalidSignatureException 400', async () => {
    const s3 = await signer('s3', 'not-the-secret').sign(request('GET', '/b/k'));
    await expect(authenticate(localRequest(s3, 's3'), lookup)).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      status: 403,
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    });
    const kms = await signer('kms', 'not-the-secret').sign(request('POST', '/', { body: '{}' }));
    await expect(authenticate(localRequest(kms, 'kms'), lookup)).rejects.toMatchObject({
      code: 'InvalidSignatureException',
      status: 400,
    });
  });

  test('unknown access key: S3 InvalidAccessKeyId 403, JSON services UnrecognizedClientException', async () => {
    const s3 = await signer('s3', SECRET, 'AKIDNOBODY').sign(request('GET', '/b/k'));
    await expect(authenticate(localRequest(s3, 's3'), lookup)).rejects.toMatchObject({
      code: 'InvalidAccessKeyId',
      status: 403,
      message: 'The AWS Access Key Id you provided does not exist in our records.',
      extra: { AWSAccessKeyId: 'AKIDNOBODY' },
    });
    for (const [service, status] of [
      ['kms', 400],
      ['states', 400],
      ['events', 400],
      ['dynamodb', 400],
      ['bedrock', 403],
    ] as const) {
      const signed = await signer(service, SECRET, 'AKIDNOBODY').sign(request('POST', '/', { body: '{}' }));
      await expect(authenticate(localRequest(signed, service), lookup)).rejects.toMatchObject({
        code: 'UnrecognizedClientException',
        status,
        message: 'The security token included in the request is invalid.',
      });
    }
  });

  test('session tokens: the right token verifies; missing or wrong tokens are refused as AWS refuses them', async () => {
    const good = await signer('s3', TEMP_SECRET, TEMP_KEY, TOKEN).sign(request('GET', '/b/k'));
    await expect(authenticate(localRequest(good, 's3'), lookup)).resolves.toMatchObject({
      accessKeyId: TEMP_KEY,
      sessionToken: TOKEN,
    });
    // A temporary key without its token is unknown to S3 (InvalidAccessKeyId) …
    const missing = await signer('s3', TEMP_SECRET, TEMP_KEY).sign(request('GET', '/b/k'));
    await expect(authenticate(localRequest(missing, 's3'), lookup)).rejects.toMatchObject({
      code: 'InvalidAccessKeyId',
    });
    // … a wrong token is InvalidToken, and so is a token on a long-term key.
    const wrong = await signer('s3', TEMP_SECRET, TEMP_KEY, `${TOKEN}x`).sign(request('GET', '/b/k'));
    await expect(authenticate(localRequest(wrong, 's3'), lookup)).rejects.toMatchObject({
      code: 'InvalidToken',
      status: 400,
      message: 'The provided token is malformed or otherwise invalid.',
    });
    const stray = await signer('s3', SECRET, KEY, TOKEN).sign(request('GET', '/b/k'));
    await expect(authenticate(localRequest(stray, 's3'), lookup)).rejects.toMatchObject({
      code: 'InvalidToken',
    });
    for (const creds of [
      [TEMP_SECRET, TEMP_KEY, undefined] as const,
      [TEMP_SECRET, TEMP_KEY, 'other'] as const,
    ]) {
      const kms = await signer('kms', ...creds).sign(request('POST', '/', { body: '{}' }));
      await expect(authenticate(localRequest(kms, 'kms'), lookup)).rejects.toMatchObject({
        code: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });
    }
  });

  test('malformed Authorization headers get AuthorizationHeaderMalformed (S3) / IncompleteSignatureException (JSON)', async () => {
    const signed = await signer('kms').sign(request('POST', '/', { body: '{}' }));
    const kms = localRequest(signed, 'kms');
    kms.headers.authorization = (kms.headers.authorization as string).replace(/, Signature=[0-9a-f]+/, '');
    const err = await rejection(authenticate(kms, lookup));
    expect(err).toMatchObject({ code: 'IncompleteSignatureException', status: 400 });
    expect(err.message).toBe(
      `Authorization header requires 'Signature' parameter. Authorization=${kms.headers.authorization}`,
    );
    const s3 = localRequest(await signer('s3').sign(request('GET', '/b/k')), 's3');
    s3.headers.authorization = (s3.headers.authorization as string).replace(/, Signature=[0-9a-f]+/, '');
    await expect(authenticate(s3, lookup)).rejects.toMatchObject({
      code: 'AuthorizationHeaderMalformed',
      message:
        'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    });
    s3.headers.authorization = `AWS ${KEY}:c2lnbmF0dXJl`;
    await expect(authenticate(s3, lookup)).rejects.toMatchObject({
      code: 'InvalidRequest',
      message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    });
    const badCredential = localRequest(
      await signer('dynamodb').sign(request('POST', '/', { body: '{}' })),
      'dynamodb',
    );
    badCredential.headers.authorization = (badCredential.headers.authorization as string).replace(
      '/aws4_request',
      '',
    );
    await expect(authenticate(badCredential, lookup)).rejects.toMatchObject({
      code: 'IncompleteSignatureException',
      message: expect.stringMatching(/^Credential must have exactly 5 slash-delimited elements/),
    });
  });

  test('JSON services: signatures older than 15 minutes are "Signature expired: … (… - 15 min.)"', async () => {
    const signingDate = new Date('2026-01-01T12:00:00Z');
    const signed = await signer('states').sign(request('POST', '/', { body: '{}' }), { signingDate });
    const req = localRequest(signed, 'states');
    await expect(
      authenticate(req, lookup, { now: new Date(signingDate.getTime() + 14 * 60_000) }),
    ).resolves.toBeDefined();
    await expect(
      authenticate(req, lookup, { now: new Date(signingDate.getTime() + 30 * 60_000) }),
    ).rejects.toMatchObject({
      code: 'InvalidSignatureException',
      status: 400,
      message:
        'Signature expired: 20260101T120000Z is now earlier than 20260101T121500Z (20260101T123000Z - 15 min.)',
    });
    await expect(
      authenticate(req, lookup, { now: new Date(signingDate.getTime() - 30 * 60_000) }),
    ).rejects.toMatchObject({
      message:
        'Signature not yet current: 20260101T120000Z is still later than 20260101T114500Z (20260101T113000Z + 15 min.)',
    });
  });

  test('a region other than the one the endpoint serves is refused when the caller names its region', async () => {
    const s3 = new SignatureV4({
      service: 's3',
      region: 'eu-west-1',
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
      sha256: Sha256,
      uriEscapePath: false,
    });
    const req = localRequest(await s3.sign(request('GET', '/b/k')), 's3', 'eu-west-1');
    await expect(authenticate(req, lookup)).resolves.toMatchObject({ region: 'eu-west-1' });
    await expect(authenticate(req, lookup, { region: 'us-east-1' })).rejects.toMatchObject({
      code: 'AuthorizationHeaderMalformed',
      message:
        "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
      extra: { Region: 'us-east-1' },
    });
  });

  test('a rotated secret takes effect although signing keys are cached', async () => {
    const rotating = new Map([[KEY, { accessKeyId: KEY, secretAccessKey: SECRET }]]);
    const signed = localRequest(await signer('s3').sign(request('GET', '/b/k')), 's3');
    await expect(authenticate(signed, (id) => rotating.get(id))).resolves.toBeDefined();
    rotating.set(KEY, { accessKeyId: KEY, secretAccessKey: 'rotated' });
    await expect(authenticate(signed, (id) => rotating.get(id))).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  test('authErrorFor words the errors callers raise themselves per protocol', () => {
    expect(authErrorFor('kms', 'MissingAuthentication')).toMatchObject({
      code: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
      status: 400,
    });
    expect(authErrorFor('s3', 'MissingAuthentication')).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(authErrorFor('bedrock', 'SignatureDoesNotMatch')).toMatchObject({
      code: 'InvalidSignatureException',
      status: 403,
    });
  });
});

// ---------------------------------------------------------------------------------------------------

describe('presigned URLs (SDK signer, sent over a loopback socket)', () => {
  let server: http.Server;
  let port: number;
  let received: LocalRequest | undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      received = readRequest(req, Buffer.alloc(0), 's3');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Presigns as @aws-sdk/s3-request-presigner does: UNSIGNED-PAYLOAD hoisted into the query. */
  async function presign(path: string, expiresIn: number, signingDate = new Date(), token?: string) {
    const presigned = await signer('s3', token ? TEMP_SECRET : SECRET, token ? TEMP_KEY : KEY, token).presign(
      {
        ...request('GET', path, { query: { 'x-id': 'GetObject' } }),
        hostname: '127.0.0.1',
        port,
        headers: { host: `127.0.0.1:${port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { expiresIn, signingDate },
    );
    const query = Object.entries(presigned.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return `http://127.0.0.1:${port}${presigned.path}?${query}`;
  }

  async function fetchCaptured(url: string): Promise<LocalRequest> {
    received = undefined;
    await new Promise<void>((resolve, reject) => {
      http.get(url, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
    if (!received) throw new Error('nothing received');
    return received;
  }

  test('a presigned GET verifies over the wire; the same URL is AccessDenied "Request has expired" once X-Amz-Expires passes', async () => {
    const signedAt = new Date();
    const req = await fetchCaptured(await presign('/bucket/dir/a%20b%2Bc/%C3%BC.txt', 60, signedAt));
    await expect(authenticate(req, lookup, { now: signedAt })).resolves.toMatchObject({
      presigned: true,
      payloadMode: 'unsigned',
    });
    await expect(
      authenticate(req, lookup, { now: new Date(signedAt.getTime() + 61_000) }),
    ).rejects.toMatchObject({ code: 'AccessDenied', message: 'Request has expired', status: 403 });
  });

  test('a tampered presigned URL (path, query or signature) is SignatureDoesNotMatch', async () => {
    const url = await presign('/bucket/key.txt', 300);
    for (const forged of [
      url.replace('/bucket/key.txt', '/bucket/other.txt'),
      `${url}&versionId=1`,
      url.replace(
        /X-Amz-Signature=([0-9a-f])/,
        (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
      ),
    ]) {
      const req = await fetchCaptured(forged);
      await expect(authenticate(req, lookup)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    }
  });

  test('X-Amz-Expires beyond a week, or missing presign parameters, are AuthorizationQueryParametersError', async () => {
    const url = await presign('/bucket/key.txt', 300);
    const tooLong = await fetchCaptured(url.replace('X-Amz-Expires=300', 'X-Amz-Expires=604801'));
    await expect(authenticate(tooLong, lookup)).rejects.toMatchObject({
      code: 'AuthorizationQueryParametersError',
      message:
        'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    });
    const partial = await fetchCaptured(url.replace(/&X-Amz-SignedHeaders=[^&]*/, ''));
    await expect(authenticate(partial, lookup)).rejects.toMatchObject({
      code: 'AuthorizationQueryParametersError',
      message: expect.stringMatching(/^Query-string authentication version 4 requires the X-Amz-Algorithm/),
    });
  });

  test('a presigned URL of temporary credentials carries X-Amz-Security-Token, which must match', async () => {
    const url = await presign('/bucket/key.txt', 300, new Date(), TOKEN);
    expect(url).toContain('X-Amz-Security-Token=');
    await expect(authenticate(await fetchCaptured(url), lookup)).resolves.toMatchObject({
      accessKeyId: TEMP_KEY,
    });
    const other = await presign('/bucket/key.txt', 300, new Date(), 'not-the-token');
    await expect(authenticate(await fetchCaptured(other), lookup)).rejects.toMatchObject({
      code: 'InvalidToken',
    });
  });
});

// ---------------------------------------------------------------------------------------------------

/** Reads an incoming request the way local/core/server.ts does (raw path, URLSearchParams, lower-case headers). */
function readRequest(req: http.IncomingMessage, body: Buffer, service: string): LocalRequest {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const headers: LocalRequest['headers'] = {};
  for (const [k, v] of Object.entries(req.headers))
    headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
    headers,
    body,
    service,
    region: 'us-east-1',
  };
}

const SCOPE_SERVICE = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//;

/** Answers each SDK call as the service would, after authenticating it; errors go through the project's serializers. */
function respond(service: string, auth: Authenticated | AwsError): LocalResponse {
  if (auth instanceof AwsError) {
    if (service === 's3') return s3ErrorResponse(auth);
    return jsonError(auth, service === 'bedrock' ? 'application/json' : 'application/x-amz-json-1.1');
  }
  const json = (body: unknown, type = 'application/x-amz-json-1.1') => ({
    status: 200,
    headers: { 'content-type': type },
    body: JSON.stringify(body),
  });
  switch (service) {
    case 's3':
      return { status: 200, headers: { etag: '"0"' }, body: '' };
    case 'bedrock':
      return json({ modelSummaries: [] }, 'application/json');
    case 'kms':
      return json({ Keys: [] });
    default:
      return json({}, 'application/x-amz-json-1.0');
  }
}

describe('the SDK clients over a loopback socket', () => {
  let server: http.Server;
  let endpoint: string;
  const seen: Array<{ req: LocalRequest; outcome: Authenticated | AwsError }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const auth = req.headers.authorization ?? '';
        const service = SCOPE_SERVICE.exec(auth)?.[1] ?? 's3';
        const local = readRequest(req, Buffer.concat(chunks), service);
        authenticate(local, lookup)
          .then(
            (a) => a ?? authErrorFor(service, 'MissingAuthentication'),
            (e: unknown) => {
              if (e instanceof AwsError) return e;
              throw e;
            },
          )
          .then((outcome) => {
            seen.push({ req: local, outcome });
            const answer = respond(service, outcome);
            res.writeHead(answer.status, answer.headers);
            res.end(answer.body as string | Buffer);
          })
          .catch((e: unknown) => {
            res.writeHead(500);
            res.end(String(e));
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
  });

  const config = (accessKeyId = KEY, secretAccessKey = SECRET, sessionToken?: string) => ({
    endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
  });
  const lastOutcome = () => seen.at(-1)?.outcome;

  test('S3 keys with spaces, +, a literal %2F, unicode and .. segments verify for PutObject, GetObject and ListObjectsV2', async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    const keys = ['dir/a b+c%2Fd/ü/../x.txt', '..', 'ü', "quote's (and) *star*!~", 'trailing/'];
    for (const Key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key, Body: `body of ${Key}` }));
      expect(lastOutcome()).toMatchObject({ accessKeyId: KEY, service: 's3', payloadMode: 'signed' });
      await s3.send(new GetObjectCommand({ Bucket: 'bucket', Key }));
      expect(lastOutcome()).toMatchObject({ accessKeyId: KEY });
    }
    await s3.send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'dir/a b+c', Delimiter: '/' }));
    expect(lastOutcome()).toMatchObject({ accessKeyId: KEY });
    expect(seen.some((s) => s.req.path.includes('/../'))).toBe(true);
    expect(seen.every((s) => !(s.outcome instanceof AwsError))).toBe(true);
  });

  test('S3 streaming upload (aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER) verifies and needs no chunk signatures', async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    const data = Buffer.alloc(100_000, 'z');
    await s3.send(
      new PutObjectCommand({
        Bucket: 'bucket',
        Key: 'streamed',
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    const outcome = lastOutcome() as Authenticated;
    expect(outcome).toMatchObject({ payloadMode: 'streaming-unsigned-trailer' });
    expect(chunkVerifier(outcome)).toBeUndefined();
  });

  test('S3 with a wrong secret or an unknown key: the SDK raises SignatureDoesNotMatch 403 / InvalidAccessKeyId 403', async () => {
    const wrong = new S3Client({ ...config(KEY, 'wrong'), forcePathStyle: true });
    await expect(wrong.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    const unknown = new S3Client({ ...config('AKIDNOBODY'), forcePathStyle: true });
    await expect(unknown.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }))).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
      $metadata: { httpStatusCode: 403 },
    });
  });

  test('S3 and KMS with temporary credentials: verified with the token, refused without it', async () => {
    const s3 = new S3Client({ ...config(TEMP_KEY, TEMP_SECRET, TOKEN), forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'x' }));
    expect(lastOutcome()).toMatchObject({ accessKeyId: TEMP_KEY, sessionToken: TOKEN });
    const kms = new KMSClient(config(TEMP_KEY, TEMP_SECRET));
    await expect(kms.send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  test('KMS: ListKeys and Encrypt verify; a wrong secret is InvalidSignatureException 400, an unknown key UnrecognizedClientException', async () => {
    const kms = new KMSClient(config());
    await kms.send(new ListKeysCommand({}));
    await kms.send(new EncryptCommand({ KeyId: 'alias/tunevault', Plaintext: Buffer.from('secret') }));
    expect(seen.map((s) => s.outcome)).toEqual([
      expect.objectContaining({ service: 'kms', accessKeyId: KEY }),
      expect.objectContaining({ service: 'kms', accessKeyId: KEY }),
    ]);
    await expect(new KMSClient(config(KEY, 'wrong')).send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(new KMSClient(config('AKIDNOBODY')).send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  });

  test('Step Functions, EventBridge, DynamoDB and Bedrock (an ARN in the path) verify under their signing names', async () => {
    await new SFNClient(config()).send(new ListStateMachinesCommand({}));
    await new EventBridgeClient(config()).send(new ListEventBusesCommand({}));
    await new DynamoDBClient(config()).send(new ListTablesCommand({}));
    const bedrock = new BedrockClient(config());
    await bedrock.send(new ListCustomModelsCommand({ nameContains: 'tune vault' }));
    await bedrock.send(
      new GetCustomModelCommand({
        modelIdentifier:
          'arn:aws:bedrock:us-east-1:000000000000:custom-model/amazon.titan-text-express-v1:0:8k/abc',
      }),
    );
    expect(seen.map((s) => (s.outcome instanceof AwsError ? s.outcome.code : s.outcome.service))).toEqual([
      'states',
      'events',
      'dynamodb',
      'bedrock',
      'bedrock',
    ]);
    expect(seen.at(-1)?.req.path).toContain('arn%3Aaws%3Abedrock');
    await expect(
      new BedrockClient(config(KEY, 'wrong')).send(new ListCustomModelsCommand({})),
    ).rejects.toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
  });
});

// ---------------------------------------------------------------------------------------------------

const BOTO_SCRIPT = `
import json, sys
from botocore.auth import SigV4Auth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
key, secret = sys.argv[1], sys.argv[2]
creds = Credentials(key, secret)
out = []
def emit(service, req):
    p = req.prepare()
    out.append({"service": service, "method": p.method, "url": p.url,
                "headers": {k: v for k, v in p.headers.items()},
                "body": (p.body or b"").decode("latin1") if isinstance(p.body or b"", bytes) else p.body})
r = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=b'{"KeyId":"alias/x","Plaintext":"aGk="}',
               headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Encrypt"})
SigV4Auth(creds, "kms", "us-east-1").add_auth(r); emit("kms", r)
r = AWSRequest(method="PUT", url="http://127.0.0.1:4566/bucket/dir/a%20b%2Bc%252Fd/%C3%BC/../x.txt?tagging=",
               data=b"<Tagging/>", headers={"Content-Type": "application/xml"})
r.headers["X-Amz-Content-SHA256"] = __import__("hashlib").sha256(b"<Tagging/>").hexdigest()
S3SigV4Auth(creds, "s3", "us-east-1").add_auth(r); emit("s3", r)
r = AWSRequest(method="GET", url="http://127.0.0.1:4566/bucket/key%20with%20space.txt?versionId=abc")
S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=300).add_auth(r); emit("s3", r)
print(json.dumps(out))
`;

function botocoreAvailable(): { ok: true } | { ok: false; reason: string } {
  const probe = spawnSync('python3', ['-c', 'import botocore.auth'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) return { ok: false, reason: `python3 not runnable (${probe.error.message})` };
  if (probe.status !== 0) return { ok: false, reason: 'python3 has no botocore/boto3' };
  return { ok: true };
}

const boto = botocoreAvailable();
const botoTest = boto.ok ? test : test.skip;
const botoName = boto.ok
  ? 'botocore SigV4Auth / S3SigV4Auth / S3SigV4QueryAuth signatures verify, and fail with a wrong secret'
  : `botocore signatures verify — SKIPPED: ${boto.reason}`;

describe('requests signed by botocore (boto3)', () => {
  botoTest(botoName, async () => {
    const run = (secret: string) => {
      const out = spawnSync('python3', ['-c', BOTO_SCRIPT, KEY, secret], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (out.status !== 0) throw new Error(out.stderr);
      return JSON.parse(out.stdout) as Array<{
        service: string;
        method: string;
        url: string;
        headers: Record<string, string>;
        body: string;
      }>;
    };
    const toLocal = (r: ReturnType<typeof run>[number]): LocalRequest => {
      const url = r.url.slice(r.url.indexOf('/', 'http://'.length));
      const q = url.indexOf('?');
      const headers: LocalRequest['headers'] = { host: '127.0.0.1:4566' };
      for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
      return {
        method: r.method,
        path: q < 0 ? url : url.slice(0, q),
        query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
        headers,
        body: Buffer.from(r.body ?? '', 'latin1'),
        service: r.service,
        region: 'us-east-1',
      };
    };
    const good = run(SECRET).map(toLocal);
    expect(good.map((r) => r.path)).toEqual([
      '/',
      '/bucket/dir/a%20b%2Bc%252Fd/%C3%BC/../x.txt',
      '/bucket/key%20with%20space.txt',
    ]);
    for (const req of good)
      await expect(authenticate(req, lookup)).resolves.toMatchObject({ accessKeyId: KEY });
    const bad = run('wrong-secret').map(toLocal);
    await expect(authenticate(bad[0] as LocalRequest, lookup)).rejects.toMatchObject({
      code: 'InvalidSignatureException',
    });
    await expect(authenticate(bad[1] as LocalRequest, lookup)).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    await expect(authenticate(bad[2] as LocalRequest, lookup)).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });
});
