/**
 * Real cryptography: every symmetric key owns random 256-bit material, and Encrypt /
 * GenerateDataKey seal with AES-256-GCM, binding the encryption context as additional
 * authenticated data. The ciphertext blob names its key, so Decrypt needs no KeyId, and a blob from
 * one key can never open under another.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  type Body,
  optionalBlob,
  optionalInteger,
  optionalString,
  optionalStringMap,
  requireString,
  validation,
} from '../../core/input';
import { AwsError } from '../../core/types';
import {
  type Context,
  type KeyRecord,
  type KeyRing,
  requireEnabled,
  SYMMETRIC,
  usableSymmetricKey,
} from './model';

const BLOB_VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Context order must not matter (KMS treats it as a map), so the AAD is built from sorted pairs. */
function canonicalContext(context: Context | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

/** The key id a ciphertext blob names, or undefined when it is too short to name one. */
export function keyIdOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 2) return undefined;
  return blob.subarray(2, 2 + blob.readUInt8(1)).toString('ascii');
}

/** Blob: version | id length | key id | material index (u16) | IV | GCM tag | ciphertext. */
export function seal(key: KeyRecord, plaintext: Buffer, context: Context | undefined): Buffer {
  const index = key.materials.length - 1;
  const material = key.materials[index];
  if (!material) throw new AwsError('KMSInternalException', `${key.arn} has no key material`, 500);
  const id = Buffer.from(key.keyId, 'ascii');
  const header = Buffer.alloc(2 + id.length + 2);
  header.writeUInt8(BLOB_VERSION, 0);
  header.writeUInt8(id.length, 1);
  id.copy(header, 2);
  header.writeUInt16BE(index, 2 + id.length);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  // The header is authenticated too, so a blob cannot be re-pointed at another key or material version.
  cipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

export function open(
  ring: KeyRing,
  blob: Buffer,
  context: Context | undefined,
  requestedKeyId: string | undefined,
): { key: KeyRecord; plaintext: Buffer } {
  const invalid = () =>
    new AwsError(
      'InvalidCiphertextException',
      'The ciphertext is invalid or was not produced for this encryption context.',
    );
  if (blob.length < 2 || blob.readUInt8(0) !== BLOB_VERSION) throw invalid();
  const idLength = blob.readUInt8(1);
  const headerLength = 2 + idLength + 2;
  if (blob.length < headerLength + IV_BYTES + TAG_BYTES) throw invalid();
  const keyId = blob.subarray(2, 2 + idLength).toString('ascii');
  const index = blob.readUInt16BE(2 + idLength);

  if (requestedKeyId !== undefined) {
    const requested = ring.resolve(requestedKeyId);
    if (requested.keyId !== keyId) {
      throw new AwsError(
        'IncorrectKeyException',
        'The key ID in the request does not identify a CMK that can perform this operation.',
      );
    }
  }
  const key = ring.keys.get(keyId);
  if (!key) {
    throw new AwsError(
      'AccessDeniedException',
      'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
    );
  }
  requireEnabled(key);
  const material = key.materials[index];
  if (!material) throw invalid();
  const header = blob.subarray(0, headerLength);
  const iv = blob.subarray(headerLength, headerLength + IV_BYTES);
  const tag = blob.subarray(headerLength + IV_BYTES, headerLength + IV_BYTES + TAG_BYTES);
  const body = blob.subarray(headerLength + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, iv);
    decipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
    decipher.setAuthTag(tag);
    return { key, plaintext: Buffer.concat([decipher.update(body), decipher.final()]) };
  } catch {
    throw invalid();
  }
}

// ---- operations ----

export function encrypt(ring: KeyRing, b: Body) {
  const plaintext = optionalBlob(b, 'Plaintext');
  if (!plaintext || plaintext.length === 0) {
    throw validation('plaintext', undefined, 'Member must have length greater than or equal to 1');
  }
  if (plaintext.length > 4096)
    throw validation('plaintext', '…', 'Member must have length less than or equal to 4096');
  const algorithm = optionalString(b, 'EncryptionAlgorithm') ?? SYMMETRIC;
  const key = usableSymmetricKey(ring, requireString(b, 'KeyId'), algorithm);
  const blob = seal(key, plaintext, optionalStringMap(b, 'EncryptionContext'));
  return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: SYMMETRIC };
}

export function decrypt(ring: KeyRing, b: Body) {
  const blob = optionalBlob(b, 'CiphertextBlob');
  if (!blob || blob.length === 0) throw validation('ciphertextBlob', undefined, 'Member must not be null');
  const algorithm = optionalString(b, 'EncryptionAlgorithm') ?? SYMMETRIC;
  if (algorithm !== SYMMETRIC) {
    throw new AwsError(
      'InvalidKeyUsageException',
      `Encryption algorithm ${algorithm} does not match the ciphertext`,
    );
  }
  const { key, plaintext } = open(
    ring,
    blob,
    optionalStringMap(b, 'EncryptionContext'),
    optionalString(b, 'KeyId'),
  );
  return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: SYMMETRIC };
}

export function generateDataKey(ring: KeyRing, b: Body) {
  const spec = optionalString(b, 'KeySpec');
  const bytes = optionalInteger(b, 'NumberOfBytes');
  if (spec !== undefined && bytes !== undefined) {
    throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec, not both.');
  }
  if (spec === undefined && bytes === undefined) {
    throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  let length: number;
  if (spec !== undefined) {
    if (spec !== 'AES_256' && spec !== 'AES_128') {
      throw validation('keySpec', spec, 'Member must satisfy enum value set: [AES_256, AES_128]');
    }
    length = spec === 'AES_256' ? 32 : 16;
  } else {
    length = bytes as number;
    if (length < 1 || length > 1024) {
      throw validation('numberOfBytes', length, 'Member must have value between 1 and 1024');
    }
  }
  const key = usableSymmetricKey(ring, requireString(b, 'KeyId'));
  const plaintext = randomBytes(length);
  const blob = seal(key, plaintext, optionalStringMap(b, 'EncryptionContext'));
  return { CiphertextBlob: blob.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: key.arn };
}
