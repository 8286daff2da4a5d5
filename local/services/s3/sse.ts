/**
 * Server-side encryption. SSE-S3 only labels the object (the bytes stay as they are); SSE-KMS with a
 * KeyStore does real envelope encryption — a data key per object from GenerateDataKey under the
 * `aws:s3:arn` encryption context, AES-256-GCM over the body — so a disabled or deleted key makes
 * writes and reads fail where AWS would.
 */
import { type CipherGCM, createCipheriv, createDecipheriv, type DecipherGCM, randomBytes } from 'node:crypto';
import { AwsError, type KeyStore, type LocalRequest } from '../../core/types';
import { invalidArgument } from './errors';

const SSE_ALGORITHMS = ['AES256', 'aws:kms', 'aws:kms:dsse'] as const;
export type SseAlgorithm = (typeof SSE_ALGORITHMS)[number];

export interface Sse {
  algorithm: SseAlgorithm;
  /** As requested, or the key ARN once KMS resolved it. */
  kmsKeyId?: string;
  bucketKeyEnabled?: boolean;
}

export interface Envelope {
  /** Base64 CiphertextBlob of the data key. */
  dataKey: string;
  iv: string;
  tag: string;
  context: Record<string, string>;
}

/** The key S3 uses when SSE-KMS names none: the account's AWS managed key for S3. */
const DEFAULT_S3_KMS_KEY = 'alias/aws/s3';

export function isSseAlgorithm(value: string): value is SseAlgorithm {
  return (SSE_ALGORITHMS as readonly string[]).includes(value);
}

export const usesKms = (sse: Sse | undefined): boolean => sse !== undefined && sse.algorithm !== 'AES256';

/** The SSE a request asks for in its headers (undefined: fall back to the bucket default). */
export function sseFromHeaders(headers: LocalRequest['headers']): Sse | undefined {
  if (headers['x-amz-server-side-encryption-customer-algorithm']) {
    throw new AwsError(
      'NotImplemented',
      'SSE-C (customer-provided keys) is not implemented by the embedded S3',
      501,
    );
  }
  const algorithm = headers['x-amz-server-side-encryption'];
  const keyId = headers['x-amz-server-side-encryption-aws-kms-key-id'];
  const bucketKey = headers['x-amz-server-side-encryption-bucket-key-enabled'];
  if (algorithm === undefined) {
    if (keyId !== undefined) {
      throw invalidArgument(
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        'x-amz-server-side-encryption',
        'null',
      );
    }
    return undefined;
  }
  if (!isSseAlgorithm(algorithm)) {
    throw invalidArgument(
      'The encryption method specified is not supported',
      'x-amz-server-side-encryption',
      algorithm,
    );
  }
  if (algorithm === 'AES256' && keyId !== undefined) {
    throw invalidArgument(
      'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      'x-amz-server-side-encryption',
      algorithm,
    );
  }
  const sse: Sse = { algorithm };
  if (keyId) sse.kmsKeyId = keyId;
  if (bucketKey !== undefined && algorithm !== 'AES256')
    sse.bucketKeyEnabled = bucketKey.toLowerCase() === 'true';
  return sse;
}

export function sseResponseHeaders(sse: Sse | undefined): Record<string, string> {
  if (!sse) return {};
  const headers: Record<string, string> = { 'x-amz-server-side-encryption': sse.algorithm };
  if (usesKms(sse)) {
    if (sse.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = sse.kmsKeyId;
    if (sse.bucketKeyEnabled) headers['x-amz-server-side-encryption-bucket-key-enabled'] = 'true';
  }
  return headers;
}

/** A KeyStore failure as S3 reports it: `KMS.<code>`, or AccessDenied for a key policy refusal. */
function kmsFailure(err: unknown): unknown {
  if (!(err instanceof AwsError)) return err;
  if (err.code === 'AccessDeniedException') return new AwsError('AccessDenied', err.message, 403);
  return new AwsError(`KMS.${err.code}`, err.message, err.status >= 500 ? err.status : 400);
}

async function viaKms<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw kmsFailure(err);
  }
}

/** A data key as stored: only its KMS ciphertext and the context it is bound to. */
export type PendingKey = Pick<Envelope, 'dataKey' | 'context'>;

/**
 * Resolves the KMS key for `sse` and makes a data key under it. With S3 Bucket Keys AWS binds the data
 * key to the bucket, otherwise to the object; the context is kept so decryption presents the same one.
 * Without a KeyStore nothing is generated and objects stay plaintext, only labelled.
 */
export async function generateKey(
  kms: KeyStore | undefined,
  sse: Sse,
  arns: { bucket: string; object: string },
): Promise<{ sse: Sse; key?: { plaintext: Buffer; pending: PendingKey } }> {
  if (!usesKms(sse) || !kms) return { sse };
  const context = { 'aws:s3:arn': sse.bucketKeyEnabled ? arns.bucket : arns.object };
  const key = await viaKms(() => kms.generateDataKey(sse.kmsKeyId ?? DEFAULT_S3_KMS_KEY, context, 's3'));
  return {
    sse: { ...sse, kmsKeyId: key.keyArn },
    key: { plaintext: key.plaintext, pending: { dataKey: key.ciphertextBlob.toString('base64'), context } },
  };
}

export async function openKey(kms: KeyStore | undefined, pending: PendingKey): Promise<Buffer> {
  if (!kms)
    throw new AwsError(
      'InternalError',
      'This object is KMS-encrypted but no KMS is attached to the embedded S3',
      500,
    );
  const key = await viaKms(() => kms.decrypt(Buffer.from(pending.dataKey, 'base64'), pending.context, 's3'));
  return key.plaintext;
}

/** AES-256-GCM under a fresh IV, for a body sealed as it streams; envelopeOf() after final(). */
export function sealingCipher(key: Buffer): CipherGCM & { iv: Buffer } {
  const iv = randomBytes(12);
  return Object.assign(createCipheriv('aes-256-gcm', key, iv), { iv });
}

export function envelopeOf(pending: PendingKey, cipher: CipherGCM & { iv: Buffer }): Envelope {
  return { ...pending, iv: cipher.iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

/** The decipher for a sealed body; its final() checks the GCM tag. */
export function openingDecipher(key: Buffer, envelope: Envelope): DecipherGCM {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
  return decipher;
}
