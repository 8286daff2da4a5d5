/**
 * The signing side of SigV4 verification: the SDK's own canonicalisation (reached through its
 * signer's base class), the signing key, and constant-time comparison.
 */
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4Base } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, SourceData } from '@smithy/types';
import type { Credential } from '../sigv4';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** `Checksum` over node:crypto for the signer (SHA-256, or HMAC-SHA-256 given a secret). */
class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.create(secret);
  }
  private static create(secret?: SourceData): Hash | Hmac {
    if (secret === undefined) return createHash('sha256');
    const key =
      typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
          : Buffer.from(secret);
    return createHmac('sha256', key);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
  reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

/** Exposes the signer's canonical request and string to sign; credentials and region are never used. */
class Canonicalizer extends SignatureV4Base {
  constructor(uriEscapePath: boolean) {
    super({
      service: 'verify',
      region: 'verify',
      credentials: { accessKeyId: 'verify', secretAccessKey: 'verify' },
      sha256: NodeSha256,
      uriEscapePath,
      applyChecksum: false,
    });
  }
  canonicalRequest(request: HttpRequest, headers: Record<string, string>, payloadHash: string): string {
    return this.createCanonicalRequest(request, headers, payloadHash);
  }
  stringToSign(amzDate: string, scope: string, canonicalRequest: string): Promise<string> {
    return this.createStringToSign(amzDate, scope, canonicalRequest, ALGORITHM);
  }
}

/** S3 signs the path as sent; every other service normalises it and escapes it once more. */
export const S3_CANONICALIZER = new Canonicalizer(false);
export const CANONICALIZER = new Canonicalizer(true);

export const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();
export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

const SIGNING_KEY_CACHE_SIZE = 512;
const signingKeys = new Map<string, { secret: string; key: Buffer }>();

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"), cached. */
export function signingKey(
  credential: Credential,
  shortDate: string,
  region: string,
  service: string,
): Buffer {
  const id = `${credential.accessKeyId}/${shortDate}/${region}/${service}`;
  const hit = signingKeys.get(id);
  if (hit && hit.secret === credential.secretAccessKey) return hit.key;
  let key = hmac(`AWS4${credential.secretAccessKey}`, shortDate);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  signingKeys.delete(id);
  signingKeys.set(id, { secret: credential.secretAccessKey, key });
  if (signingKeys.size > SIGNING_KEY_CACHE_SIZE) {
    const oldest = signingKeys.keys().next().value;
    if (oldest !== undefined) signingKeys.delete(oldest);
  }
  return key;
}

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Signatures are 64 lower-case hex digits (SigV4 `HexEncode`), compared in constant time. */
export function sameSignature(expectedHex: string, provided: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(provided)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(provided, 'hex'));
}
