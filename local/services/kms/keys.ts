/** The operations on keys: creation, metadata, key policy, rotation, state, deletion and tags. */
import { type Body, optionalInteger, optionalString, requireString, validation } from '../../core/input';
import { AwsError } from '../../core/types';
import {
  epochSeconds,
  KEY_SPECS,
  type KeyRecord,
  type KeyRing,
  page,
  requireEnabled,
  requireNotPendingDeletion,
  SYMMETRIC,
  type Tag,
} from './model';
import { defaultKeyPolicy, validatePolicy } from './policies';

const DAY_MS = 86_400_000;

function parseTags(raw: unknown): Tag[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new AwsError('SerializationException', 'Tags must be a list');
  return raw.map((t: unknown) => {
    const tag = (t ?? {}) as Body;
    const key = tag['TagKey'];
    const value = tag['TagValue'];
    if (typeof key !== 'string' || key.length < 1 || key.length > 128) {
      throw new AwsError('TagException', `Tag key '${String(key)}' must be 1 to 128 characters`);
    }
    if (typeof value !== 'string' || value.length > 256) {
      throw new AwsError('TagException', `Tag value for '${key}' must be 0 to 256 characters`);
    }
    if (key.startsWith('aws:'))
      throw new AwsError('TagException', `Tag keys beginning with 'aws:' are reserved`);
    return { TagKey: key, TagValue: value };
  });
}

function signingAlgorithms(keySpec: string): string[] {
  if (keySpec.startsWith('RSA_')) {
    return ['SHA_256', 'SHA_384', 'SHA_512'].flatMap((h) => [`RSASSA_PSS_${h}`, `RSASSA_PKCS1_V1_5_${h}`]);
  }
  if (keySpec === 'ECC_NIST_P384') return ['ECDSA_SHA_384'];
  if (keySpec === 'ECC_NIST_P521') return ['ECDSA_SHA_512'];
  return ['ECDSA_SHA_256'];
}

/** KeyMetadata as CreateKey and DescribeKey answer it. */
function metadata(ring: KeyRing, key: KeyRecord) {
  const spec = KEY_SPECS[key.keySpec];
  const md: Record<string, unknown> = {
    AWSAccountId: ring.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epochSeconds(key.creationDate),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.state,
    Origin: 'AWS_KMS',
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    MultiRegion: false,
  };
  if (key.deletionDate !== undefined) md['DeletionDate'] = epochSeconds(key.deletionDate);
  if (key.pendingWindowInDays !== undefined) md['PendingDeletionWindowInDays'] = key.pendingWindowInDays;
  if (key.keyUsage === 'ENCRYPT_DECRYPT') {
    md['EncryptionAlgorithms'] =
      spec?.kind === 'rsa' ? ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] : [SYMMETRIC];
  }
  if (key.keyUsage === 'SIGN_VERIFY') md['SigningAlgorithms'] = signingAlgorithms(key.keySpec);
  if (key.keyUsage === 'KEY_AGREEMENT') md['KeyAgreementAlgorithms'] = ['ECDH'];
  if (key.keyUsage === 'GENERATE_VERIFY_MAC') md['MacAlgorithms'] = [`HMAC_SHA_${key.keySpec.slice(5)}`];
  return md;
}

export function createKey(ring: KeyRing, b: Body) {
  const keySpec = optionalString(b, 'KeySpec') ?? optionalString(b, 'CustomerMasterKeySpec') ?? SYMMETRIC;
  const spec = KEY_SPECS[keySpec];
  if (!spec) {
    throw validation(
      'keySpec',
      keySpec,
      `Member must satisfy enum value set: [${Object.keys(KEY_SPECS).join(', ')}]`,
    );
  }
  const keyUsage = optionalString(b, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
  if (!spec.usages.includes(keyUsage)) {
    throw new AwsError(
      'ValidationException',
      `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}. Valid: ${spec.usages.join(', ')}`,
    );
  }
  const origin = optionalString(b, 'Origin') ?? 'AWS_KMS';
  if (origin !== 'AWS_KMS') {
    throw new AwsError(
      'UnsupportedOperationException',
      `The embedded KMS only creates keys with Origin AWS_KMS`,
    );
  }
  if (b['MultiRegion'] === true) {
    throw new AwsError('UnsupportedOperationException', 'The embedded KMS does not create multi-Region keys');
  }
  const policy = optionalString(b, 'Policy');
  if (policy !== undefined) validatePolicy(policy);
  const description = optionalString(b, 'Description') ?? '';
  if (description.length > 8192)
    throw validation('description', '…', 'Member must have length less than or equal to 8192');
  const key = ring.addKey({
    keySpec,
    keyUsage,
    description,
    policy: policy ?? defaultKeyPolicy(ring.accountId),
    keyManager: 'CUSTOMER',
    tags: parseTags(b['Tags']),
  });
  return { KeyMetadata: metadata(ring, key) };
}

/**
 * A fixture: an enabled, rotating, customer managed symmetric key with the key id the caller
 * names. KMS always makes its own key ids; this exists so fixed sample events (events/*.json)
 * can name a real key. Idempotent: a key that exists already is left as it is.
 */
export function seedKey(ring: KeyRing, keyId: string, description: string) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(keyId))
    throw new AwsError('ValidationException', `'${keyId}' is not a key id (a UUID)`);
  const existing = ring.keys.get(keyId);
  if (existing) return { keyArn: existing.arn, created: false };
  const key = ring.addKey(
    {
      keySpec: SYMMETRIC,
      keyUsage: 'ENCRYPT_DECRYPT',
      description,
      policy: defaultKeyPolicy(ring.accountId),
      keyManager: 'CUSTOMER',
      tags: [{ TagKey: 'tunevault:fixture', TagValue: 'events' }],
    },
    keyId,
  );
  key.rotationEnabled = true;
  key.rotationPeriodInDays = 365;
  return { keyArn: key.arn, created: true };
}

export function describeKey(ring: KeyRing, b: Body) {
  return { KeyMetadata: metadata(ring, ring.resolve(requireString(b, 'KeyId'))) };
}

export function listKeys(ring: KeyRing, b: Body) {
  const all = [...ring.keys.values()].map((k) => ({ KeyId: k.keyId, KeyArn: k.arn }));
  return page(all, b, 'Keys');
}

// ---- key policy ----

function checkPolicyName(b: Body): void {
  const name = optionalString(b, 'PolicyName') ?? 'default';
  if (name !== 'default')
    throw new AwsError('ValidationException', `PolicyName must be 'default', got '${name}'`);
}

export function getKeyPolicy(ring: KeyRing, b: Body) {
  const key = ring.resolve(requireString(b, 'KeyId'), false);
  checkPolicyName(b);
  return { Policy: key.policy, PolicyName: 'default' };
}

export function putKeyPolicy(ring: KeyRing, b: Body) {
  const key = ring.customerKey(requireString(b, 'KeyId'), 'PutKeyPolicy');
  checkPolicyName(b);
  const policy = requireString(b, 'Policy');
  validatePolicy(policy);
  key.policy = policy;
  return {};
}

// ---- rotation ----

function requireRotatable(key: KeyRecord): void {
  if (key.keySpec !== SYMMETRIC) {
    throw new AwsError(
      'UnsupportedOperationException',
      `${key.arn} key spec ${key.keySpec} does not support rotation`,
    );
  }
}

export function setRotation(ring: KeyRing, b: Body, enabled: boolean) {
  const key = ring.customerKey(
    requireString(b, 'KeyId'),
    enabled ? 'EnableKeyRotation' : 'DisableKeyRotation',
  );
  requireRotatable(key);
  requireEnabled(key);
  if (enabled) {
    const period = optionalInteger(b, 'RotationPeriodInDays') ?? key.rotationPeriodInDays ?? 365;
    if (period < 90 || period > 2560) {
      throw validation('rotationPeriodInDays', period, 'Member must have value between 90 and 2560');
    }
    key.rotationPeriodInDays = period;
  }
  key.rotationEnabled = enabled;
  return {};
}

export function rotationStatus(ring: KeyRing, b: Body) {
  const key = ring.resolve(requireString(b, 'KeyId'), false);
  requireRotatable(key);
  const out: Record<string, unknown> = { KeyId: key.arn, KeyRotationEnabled: key.rotationEnabled };
  if (key.rotationEnabled && key.rotationPeriodInDays !== undefined) {
    out['RotationPeriodInDays'] = key.rotationPeriodInDays;
    out['NextRotationDate'] = epochSeconds(key.creationDate + key.rotationPeriodInDays * DAY_MS);
  }
  return out;
}

// ---- state and deletion ----

export function setEnabled(ring: KeyRing, b: Body, enabled: boolean) {
  const key = ring.customerKey(requireString(b, 'KeyId'), enabled ? 'EnableKey' : 'DisableKey');
  requireNotPendingDeletion(key);
  key.state = enabled ? 'Enabled' : 'Disabled';
  return {};
}

export function scheduleDeletion(ring: KeyRing, b: Body) {
  const key = ring.customerKey(requireString(b, 'KeyId'), 'ScheduleKeyDeletion');
  const days = optionalInteger(b, 'PendingWindowInDays') ?? 30;
  if (days < 7)
    throw validation('pendingWindowInDays', days, 'Member must have value greater than or equal to 7');
  if (days > 30)
    throw validation('pendingWindowInDays', days, 'Member must have value less than or equal to 30');
  requireNotPendingDeletion(key);
  key.state = 'PendingDeletion';
  key.pendingWindowInDays = days;
  key.deletionDate = Date.now() + days * DAY_MS;
  return {
    KeyId: key.arn,
    DeletionDate: epochSeconds(key.deletionDate),
    KeyState: key.state,
    PendingWindowInDays: days,
  };
}

export function cancelDeletion(ring: KeyRing, b: Body) {
  const key = ring.customerKey(requireString(b, 'KeyId'), 'CancelKeyDeletion');
  if (key.state !== 'PendingDeletion') {
    throw new AwsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
  }
  // KMS brings a cancelled key back disabled, so nobody uses it by surprise.
  key.state = 'Disabled';
  key.deletionDate = undefined;
  key.pendingWindowInDays = undefined;
  return { KeyId: key.arn };
}

// ---- tags ----

export function tagResource(ring: KeyRing, b: Body) {
  const key = ring.customerKey(requireString(b, 'KeyId'), 'TagResource');
  requireNotPendingDeletion(key);
  for (const tag of parseTags(b['Tags'])) {
    const existing = key.tags.find((t) => t.TagKey === tag.TagKey);
    if (existing) existing.TagValue = tag.TagValue;
    else key.tags.push(tag);
  }
  if (key.tags.length > 50)
    throw new AwsError('LimitExceededException', 'A KMS key can have at most 50 tags');
  return {};
}

export function listResourceTags(ring: KeyRing, b: Body) {
  const key = ring.resolve(requireString(b, 'KeyId'), false);
  return { Tags: key.tags.map((t) => ({ ...t })), Truncated: false };
}
