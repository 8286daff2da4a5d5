/**
 * The embedded KMS's resources: keys (with their symmetric material), aliases and grants, how an
 * identifier resolves to a key, the key-state rules every operation applies, and the snapshot.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { optionalInteger, optionalString, validation } from '../../core/input';
import { AwsError } from '../../core/types';
import { awsManagedPolicy } from './policies';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';
export type KeyManager = 'CUSTOMER' | 'AWS';
export type Context = Record<string, string>;
export type Tag = { TagKey: string; TagValue: string };

export interface KeyRecord {
  keyId: string;
  arn: string;
  creationDate: number;
  description: string;
  keyUsage: string;
  keySpec: string;
  keyManager: KeyManager;
  state: KeyState;
  deletionDate?: number;
  pendingWindowInDays?: number;
  policy: string;
  rotationEnabled: boolean;
  rotationPeriodInDays?: number;
  /** Symmetric key material, oldest first; the last entry encrypts, all of them decrypt (rotation). */
  materials: Buffer[];
  tags: Tag[];
}

export interface AliasRecord {
  name: string;
  targetKeyId: string;
  creationDate: number;
  lastUpdatedDate: number;
}

export interface GrantRecord {
  grantId: string;
  grantToken: string;
  keyId: string;
  name?: string;
  creationDate: number;
  granteePrincipal?: string;
  retiringPrincipal?: string;
  operations: string[];
  constraints?: { EncryptionContextSubset?: Context; EncryptionContextEquals?: Context };
}

export interface KmsSnapshot {
  version: 1;
  keys: Array<Omit<KeyRecord, 'materials'> & { materials: string[] }>;
  aliases: AliasRecord[];
  grants: GrantRecord[];
}

export interface NewKey {
  keySpec: string;
  keyUsage: string;
  description: string;
  policy: string;
  keyManager: KeyManager;
  tags: Tag[];
}

export const SYMMETRIC = 'SYMMETRIC_DEFAULT';
export const KEY_SPECS: Record<string, { usages: string[]; kind: 'symmetric' | 'rsa' | 'ecc' | 'hmac' }> = {
  SYMMETRIC_DEFAULT: { usages: ['ENCRYPT_DECRYPT'], kind: 'symmetric' },
  RSA_2048: { usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], kind: 'rsa' },
  RSA_3072: { usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], kind: 'rsa' },
  RSA_4096: { usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], kind: 'rsa' },
  ECC_NIST_P256: { usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], kind: 'ecc' },
  ECC_NIST_P384: { usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], kind: 'ecc' },
  ECC_NIST_P521: { usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], kind: 'ecc' },
  ECC_SECG_P256K1: { usages: ['SIGN_VERIFY'], kind: 'ecc' },
  HMAC_224: { usages: ['GENERATE_VERIFY_MAC'], kind: 'hmac' },
  HMAC_256: { usages: ['GENERATE_VERIFY_MAC'], kind: 'hmac' },
  HMAC_384: { usages: ['GENERATE_VERIFY_MAC'], kind: 'hmac' },
  HMAC_512: { usages: ['GENERATE_VERIFY_MAC'], kind: 'hmac' },
};

/** Services whose AWS managed key KMS creates on first reference to `alias/aws/<service>`. */
const AWS_MANAGED_SERVICES: Record<string, string> = {
  s3: 'S3',
  ebs: 'EBS',
  rds: 'RDS',
  lambda: 'Lambda',
  dynamodb: 'DynamoDB',
  sqs: 'SQS',
  sns: 'SNS',
  secretsmanager: 'Secrets Manager',
  ssm: 'SSM',
  kinesis: 'Kinesis',
  logs: 'CloudWatch Logs',
  glue: 'Glue',
};

/** The keys, aliases and grants of one account and Region. */
export class KeyRing {
  keys = new Map<string, KeyRecord>();
  aliases = new Map<string, AliasRecord>();
  grants = new Map<string, GrantRecord>();

  constructor(
    readonly accountId: string,
    readonly region: string,
  ) {}

  keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${name}`;
  }

  /** Alias names (`alias/x`) that point at KEY. */
  aliasesOf(key: KeyRecord): string[] {
    return [...this.aliases.values()].filter((a) => a.targetKeyId === key.keyId).map((a) => a.name);
  }

  addKey(init: NewKey, keyId: string = randomUUID()): KeyRecord {
    const key: KeyRecord = {
      keyId,
      arn: this.keyArn(keyId),
      creationDate: Date.now(),
      description: init.description,
      keyUsage: init.keyUsage,
      keySpec: init.keySpec,
      keyManager: init.keyManager,
      state: 'Enabled',
      policy: init.policy,
      // AWS managed keys rotate every year and that cannot be changed.
      rotationEnabled: init.keyManager === 'AWS',
      rotationPeriodInDays: init.keyManager === 'AWS' ? 365 : undefined,
      materials: init.keySpec === SYMMETRIC ? [randomBytes(32)] : [],
      tags: init.tags,
    };
    this.keys.set(keyId, key);
    return key;
  }

  /**
   * Key id, key ARN, alias name or alias ARN → key. Operations that KMS documents as taking only
   * a key id or key ARN pass allowAlias = false.
   */
  resolve(identifier: string, allowAlias = true): KeyRecord {
    const arn = /^arn:aws[a-z-]*:kms:([^:]*):([^:]*):(key|alias)\/(.+)$/.exec(identifier);
    let kind: 'key' | 'alias';
    let rest: string;
    if (arn) {
      const region = arn[1] ?? '';
      const account = arn[2] ?? '';
      const type = arn[3] === 'alias' ? 'alias' : 'key';
      const name = arn[4] ?? '';
      if (region !== this.region || account !== this.accountId) {
        throw new AwsError(
          'NotFoundException',
          `${type === 'key' ? 'Key' : 'Alias'} '${identifier}' does not exist`,
        );
      }
      kind = type;
      rest = type === 'alias' ? `alias/${name}` : name;
    } else if (identifier.startsWith('alias/')) {
      kind = 'alias';
      rest = identifier;
    } else {
      kind = 'key';
      rest = identifier;
    }
    if (kind === 'alias') {
      if (!allowAlias) {
        throw new AwsError(
          'NotFoundException',
          `Invalid keyId ${identifier}: specify a key ID or key ARN, not an alias`,
        );
      }
      const alias = this.aliases.get(rest) ?? this.awsManagedAlias(rest);
      const key = alias ? this.keys.get(alias.targetKeyId) : undefined;
      if (!key) throw new AwsError('NotFoundException', `Alias ${this.aliasArn(rest)} is not found.`);
      return key;
    }
    const key = this.keys.get(rest);
    if (!key) throw new AwsError('NotFoundException', `Key '${this.keyArn(rest)}' does not exist`);
    return key;
  }

  /** KMS creates an AWS managed key the first time anyone refers to `alias/aws/<service>`. */
  private awsManagedAlias(name: string): AliasRecord | undefined {
    const service = /^alias\/aws\/([a-z0-9-]+)$/.exec(name)?.[1];
    const label = service ? AWS_MANAGED_SERVICES[service] : undefined;
    if (!service || !label) return undefined;
    const key = this.addKey({
      keySpec: SYMMETRIC,
      keyUsage: 'ENCRYPT_DECRYPT',
      description: `Default key that protects my ${label} data when no other key is defined`,
      policy: awsManagedPolicy(service, this.accountId, this.region),
      keyManager: 'AWS',
      tags: [],
    });
    const now = Date.now();
    const alias: AliasRecord = { name, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now };
    this.aliases.set(name, alias);
    return alias;
  }

  /** Management calls on AWS managed keys are refused: AWS owns their lifecycle. */
  customerKey(identifier: string, operation: string): KeyRecord {
    const key = this.resolve(identifier, false);
    if (key.keyManager === 'AWS') {
      throw new AwsError(
        'UnsupportedOperationException',
        `${operation} is not supported on AWS managed key ${key.arn}`,
      );
    }
    return key;
  }

  /** Keys whose deletion window has passed are gone, along with their aliases and grants. */
  purgeExpired(): void {
    const now = Date.now();
    for (const key of this.keys.values()) {
      if (key.state !== 'PendingDeletion' || key.deletionDate === undefined || key.deletionDate > now)
        continue;
      this.keys.delete(key.keyId);
      for (const [name, alias] of this.aliases)
        if (alias.targetKeyId === key.keyId) this.aliases.delete(name);
      for (const [id, grant] of this.grants) if (grant.keyId === key.keyId) this.grants.delete(id);
    }
  }

  snapshot(): KmsSnapshot {
    return {
      version: 1,
      keys: [...this.keys.values()].map((k) => ({
        ...k,
        tags: k.tags.map((t) => ({ ...t })),
        materials: k.materials.map((m) => m.toString('base64')),
      })),
      aliases: [...this.aliases.values()].map((a) => ({ ...a })),
      grants: [...this.grants.values()].map((g) => ({ ...g, operations: [...g.operations] })),
    };
  }

  restore(state: unknown): void {
    const snap = state as Partial<KmsSnapshot> | undefined;
    if (snap?.version !== 1) throw new Error('KMS snapshot: unsupported format');
    this.keys = new Map(
      (snap.keys ?? []).map((k) => [
        k.keyId,
        { ...k, materials: k.materials.map((m) => Buffer.from(m, 'base64')) },
      ]),
    );
    this.aliases = new Map((snap.aliases ?? []).map((a) => [a.name, { ...a }]));
    this.grants = new Map((snap.grants ?? []).map((g) => [g.grantId, { ...g }]));
  }
}

// ---- key-state rules ----

export function requireNotPendingDeletion(key: KeyRecord): void {
  if (key.state === 'PendingDeletion')
    throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
}

export function requireEnabled(key: KeyRecord): void {
  requireNotPendingDeletion(key);
  if (key.state === 'Disabled') throw new AwsError('DisabledException', `${key.arn} is disabled.`);
}

/** An enabled symmetric encryption key, for ALGORITHM (the only one: SYMMETRIC_DEFAULT). */
export function usableSymmetricKey(
  ring: KeyRing,
  identifier: string,
  algorithm: string = SYMMETRIC,
): KeyRecord {
  const key = ring.resolve(identifier);
  requireEnabled(key);
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') {
    throw new AwsError(
      'InvalidKeyUsageException',
      `${key.arn} key usage is ${key.keyUsage} which is not valid for this operation.`,
    );
  }
  if (key.keySpec !== SYMMETRIC) {
    if (algorithm === SYMMETRIC) {
      throw new AwsError(
        'InvalidKeyUsageException',
        `${key.arn} is an asymmetric ${key.keySpec} key; this operation needs a symmetric encryption key.`,
      );
    }
    throw new AwsError(
      'UnsupportedOperationException',
      'The embedded KMS does not perform asymmetric encryption.',
    );
  }
  if (algorithm !== SYMMETRIC) {
    throw new AwsError(
      'InvalidKeyUsageException',
      `Encryption algorithm ${algorithm} is not valid for ${key.arn}.`,
    );
  }
  return key;
}

/** awsJson timestamps are epoch seconds (JSON.stringify would turn a Date into an ISO string first). */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** Marker-based paging as KMS does it (Limit 1–1000, default 100). */
export function page<T>(items: T[], b: Record<string, unknown>, field: string) {
  const limit = optionalInteger(b, 'Limit') ?? 100;
  if (limit < 1 || limit > 1000)
    throw validation('limit', limit, 'Member must have value between 1 and 1000');
  const marker = optionalString(b, 'Marker');
  let start = 0;
  if (marker !== undefined) {
    start = Number.parseInt(Buffer.from(marker, 'base64').toString('utf8'), 10);
    if (!Number.isInteger(start) || start < 0)
      throw new AwsError('InvalidMarkerException', 'The marker is not valid');
  }
  const slice = items.slice(start, start + limit);
  const truncated = start + limit < items.length;
  return truncated
    ? { [field]: slice, Truncated: true, NextMarker: Buffer.from(String(start + limit)).toString('base64') }
    : { [field]: slice, Truncated: false };
}
