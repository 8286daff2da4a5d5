/**
 * Embedded AWS KMS (awsJson1_1, `X-Amz-Target: TrentService.<Op>`).
 *
 * Crypto is real: every symmetric key owns random 256-bit material and Encrypt / GenerateDataKey
 * seal with AES-256-GCM, binding the encryption context as additional authenticated data. The
 * ciphertext blob names its key, so Decrypt needs no KeyId, and a blob from one key can never open
 * under another. Asymmetric and HMAC keys exist for their metadata only.
 */
import * as kmsModel from '@aws-sdk/client-kms';
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { jsonResponse, AwsJsonService } from '../core/json-protocol';
import { AwsError, type KeyStore, type LocalRequest, type LocalResponse } from '../core/types';
import { type Authorizer, currentCaller } from '../iam/authorizer';
import { finish } from '../iam/json-access';
import type { AccessRequest } from '../iam/types';
import { encryptionContext, type KeyFacts, type KmsLookups, kmsAccessRequests, onKey } from './kms-access';

type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';
type KeyManager = 'CUSTOMER' | 'AWS';
type Body = Record<string, unknown>;
type Context = Record<string, string>;

interface KeyRecord {
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
  tags: Array<{ TagKey: string; TagValue: string }>;
}

interface AliasRecord {
  name: string;
  targetKeyId: string;
  creationDate: number;
  lastUpdatedDate: number;
}

interface GrantRecord {
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

interface KmsSnapshot {
  version: 1;
  keys: Array<Omit<KeyRecord, 'materials'> & { materials: string[] }>;
  aliases: AliasRecord[];
  grants: GrantRecord[];
}

const DAY_MS = 86_400_000;
const BLOB_VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const SYMMETRIC = 'SYMMETRIC_DEFAULT';
const KEY_SPECS: Record<string, { usages: string[]; kind: 'symmetric' | 'rsa' | 'ecc' | 'hmac' }> = {
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

const ALIAS_CHARS = /^alias\/[a-zA-Z0-9/_-]+$/;
const GRANT_OPERATIONS = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
]);

function validation(field: string, value: unknown, constraint: string): AwsError {
  const shown = value === undefined || value === null ? 'null' : `'${String(value)}'`;
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

/**
 * awsJson timestamps are epoch seconds. Built here rather than left to a Date: JSON.stringify
 * calls Date.toJSON (an ISO string) before any replacer could turn it into a number.
 */
function epochSeconds(ms: number): number {
  return ms / 1000;
}

function camel(field: string): string {
  return field.charAt(0).toLowerCase() + field.slice(1);
}

function optString(body: Body, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AwsError('SerializationException', `${field} must be a string`);
  return v;
}

function reqString(body: Body, field: string): string {
  const v = optString(body, field);
  if (v === undefined || v === '') throw validation(camel(field), v, 'Member must not be null');
  return v;
}

function optNumber(body: Body, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new AwsError('SerializationException', `${field} must be an integer`);
  }
  return v;
}

function optBlob(body: Body, field: string): Buffer | undefined {
  const v = optString(body, field);
  if (v === undefined) return undefined;
  return Buffer.from(v, 'base64');
}

function optContext(body: Body, field: string): Context | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new AwsError('SerializationException', `${field} must be a map of strings`);
  }
  const out: Context = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string')
      throw new AwsError('SerializationException', `${field}.${k} must be a string`);
    out[k] = val;
  }
  return out;
}

/** Context order must not matter (KMS treats it as a map), so the AAD is built from sorted pairs. */
function canonicalContext(context: Context | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

function parseTags(raw: unknown): Array<{ TagKey: string; TagValue: string }> {
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

export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}

function validatePolicy(policy: string): void {
  if (policy.length > 32_768) {
    throw new AwsError('MalformedPolicyDocumentException', 'The key policy exceeds the 32 KB limit');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw new AwsError('MalformedPolicyDocumentException', 'The key policy is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new AwsError('MalformedPolicyDocumentException', 'The key policy must be a JSON object');
  }
  const statement = (doc as Body)['Statement'];
  const statements = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  if (statements.length === 0) {
    throw new AwsError('MalformedPolicyDocumentException', 'The key policy has no Statement');
  }
  for (const s of statements) {
    if (typeof s !== 'object' || s === null) {
      throw new AwsError('MalformedPolicyDocumentException', 'Each policy statement must be a JSON object');
    }
    const st = s as Body;
    if (st['Effect'] !== 'Allow' && st['Effect'] !== 'Deny') {
      throw new AwsError(
        'MalformedPolicyDocumentException',
        'Each policy statement needs Effect Allow or Deny',
      );
    }
    if (st['Principal'] === undefined && st['NotPrincipal'] === undefined) {
      throw new AwsError(
        'MalformedPolicyDocumentException',
        'Policy contains a statement with no principal (key policies must name a Principal)',
      );
    }
    if (st['Action'] === undefined && st['NotAction'] === undefined) {
      throw new AwsError('MalformedPolicyDocumentException', 'Policy contains a statement with no Action');
    }
  }
}

export class KmsService extends AwsJsonService implements KeyStore {
  override readonly signingName = 'kms';
  private readonly accountId: string;
  private readonly region: string;
  private keys = new Map<string, KeyRecord>();
  private aliases = new Map<string, AliasRecord>();
  private grants = new Map<string, GrantRecord>();

  private readonly authorizer: Authorizer | undefined;

  constructor(options: { accountId: string; region: string; authorizer?: Authorizer }) {
    super('application/x-amz-json-1.1', kmsModel);
    this.accountId = options.accountId;
    this.region = options.region;
    this.authorizer = options.authorizer;
  }

  // ---- IAM (see kms-access.ts) ----

  private readonly lookups: KmsLookups = {
    accountId: '',
    region: '',
    key: (identifier) => {
      try {
        return this.facts(this.resolve(identifier));
      } catch {
        return undefined;
      }
    },
    keyOfCiphertext: (blob) => {
      if (blob.length < 2) return undefined;
      const key = this.keys.get(blob.subarray(2, 2 + blob.readUInt8(1)).toString('ascii'));
      return key ? this.facts(key) : undefined;
    },
    aliasArn: (name) => this.aliasArn(name),
    defaultPolicy: '',
  };

  private facts(key: KeyRecord): KeyFacts {
    return {
      arn: key.arn,
      policy: key.policy,
      tags: key.tags,
      aliases: [...this.aliases.values()].filter((a) => a.targetKeyId === key.keyId).map((a) => a.name),
      keySpec: key.keySpec,
      keyUsage: key.keyUsage,
    };
  }

  accessRequests(req: LocalRequest): Promise<AccessRequest[]> {
    this.purgeExpired();
    const lookups = {
      ...this.lookups,
      accountId: this.accountId,
      region: this.region,
      defaultPolicy: defaultKeyPolicy(this.accountId),
    };
    const operation = this.operationOf(req);
    return finish('kms', operation, kmsAccessRequests(operation, this.readInput<Body>(req), lookups));
  }

  /**
   * A use of KEY by another service for the current caller (S3 for SSE-KMS, Bedrock for the model
   * key): decided as the caller, with kms:ViaService set to that service (KMS developer guide,
   * "kms:ViaService"). A grant to the service principal itself also allows it (KMS "Grants").
   */
  private async authorizeUse(
    action: string,
    key: KeyRecord,
    context: Context | undefined,
    via: string | undefined,
    identifier?: string,
  ): Promise<void> {
    const caller = currentCaller();
    if (!caller || !this.authorizer) return;
    const operation = action.slice('kms:'.length);
    if (
      caller.principal.kind === 'service' &&
      this.grantAllows(key, caller.principal.arn, operation, context)
    )
      return;
    const extra: Record<string, string | string[]> = { ...encryptionContext(context) };
    if (via) extra['kms:ViaService'] = `${via}.${this.region}.amazonaws.com`;
    const lookups = { accountId: this.accountId };
    await this.authorizer.require(caller, 'kms', [
      onKey(action, this.facts(key), lookups, extra, identifier),
    ]);
  }

  private grantAllows(
    key: KeyRecord,
    grantee: string,
    operation: string,
    context: Context | undefined,
  ): boolean {
    for (const g of this.grants.values()) {
      if (g.keyId !== key.keyId || g.granteePrincipal !== grantee || !g.operations.includes(operation))
        continue;
      const subset = g.constraints?.EncryptionContextSubset;
      const equals = g.constraints?.EncryptionContextEquals;
      const ctx = context ?? {};
      if (subset && !Object.entries(subset).every(([k, v]) => ctx[k] === v)) continue;
      if (
        equals &&
        JSON.stringify(Object.entries(equals).sort()) !== JSON.stringify(Object.entries(ctx).sort())
      )
        continue;
      return true;
    }
    return false;
  }

  /** CreateGrant for the current caller through another service (Bedrock grants itself the model key). */
  async createGrantVia(
    keyIdOrAlias: string,
    grant: { grantee: string; operations: string[]; name: string; retiringPrincipal?: string },
    via: string,
  ): Promise<{ grantId: string }> {
    this.purgeExpired();
    const key = this.resolve(keyIdOrAlias);
    const caller = currentCaller();
    if (caller && this.authorizer) {
      const lookups = { accountId: this.accountId };
      await this.authorizer.require(caller, 'kms', [
        onKey(
          'kms:CreateGrant',
          this.facts(key),
          lookups,
          {
            'kms:ViaService': `${via}.${this.region}.amazonaws.com`,
            'kms:GrantOperations': grant.operations,
            'kms:GranteePrincipal': grant.grantee,
            'kms:GrantIsForAWSResource': 'true',
          },
          keyIdOrAlias,
        ),
      ]);
    }
    const out = this.createGrant({
      KeyId: key.keyId,
      GranteePrincipal: grant.grantee,
      Operations: grant.operations,
      Name: grant.name,
      ...(grant.retiringPrincipal ? { RetiringPrincipal: grant.retiringPrincipal } : {}),
    });
    return { grantId: out.GrantId };
  }

  async handle(req: LocalRequest): Promise<LocalResponse> {
    const op = this.operationOf(req);
    const body = this.readInput<Body>(req);
    this.purgeExpired();
    // Own properties only: a target such as `TrentService.constructor` must not reach Object.prototype.
    const handler = Object.hasOwn(this.operations, op) ? this.operations[op] : undefined;
    if (!handler)
      throw new AwsError('UnknownOperationException', `The embedded KMS does not implement ${op}`);
    return jsonResponse(handler(body));
  }

  // ---- KeyStore (in-process face for S3 SSE-KMS and Bedrock) ----

  async describe(keyIdOrAlias: string, via?: string) {
    this.purgeExpired();
    const key = this.resolve(keyIdOrAlias);
    if (via) await this.authorizeUse('kms:DescribeKey', key, undefined, via, keyIdOrAlias);
    return {
      keyArn: key.arn,
      keyId: key.keyId,
      keyState: key.state,
      keySpec: key.keySpec,
      keyUsage: key.keyUsage,
      keyManager: key.keyManager,
    };
  }

  async generateDataKey(keyIdOrAlias: string, context?: Record<string, string>, via?: string) {
    this.purgeExpired();
    const key = this.usableSymmetricKey(keyIdOrAlias);
    await this.authorizeUse('kms:GenerateDataKey', key, context, via, keyIdOrAlias);
    const plaintext = randomBytes(32);
    return { keyArn: key.arn, plaintext, ciphertextBlob: this.seal(key, plaintext, context) };
  }

  async decrypt(ciphertextBlob: Buffer, context?: Record<string, string>, via?: string) {
    this.purgeExpired();
    const { key, plaintext } = this.open(ciphertextBlob, context, undefined);
    await this.authorizeUse('kms:Decrypt', key, context, via);
    return { keyArn: key.arn, plaintext };
  }

  // ---- state ----

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

  // ---- operations ----

  private readonly operations: Record<string, (body: Body) => unknown> = {
    CreateKey: (b) => this.createKey(b),
    DescribeKey: (b) => ({ KeyMetadata: this.metadata(this.resolve(reqString(b, 'KeyId'))) }),
    ListKeys: (b) => this.listKeys(b),
    UpdateKeyDescription: (b) => {
      const key = this.customerKey(reqString(b, 'KeyId'), 'UpdateKeyDescription');
      this.requireNotPendingDeletion(key);
      key.description = optString(b, 'Description') ?? '';
      return {};
    },
    ListAliases: (b) => this.listAliases(b),
    CreateAlias: (b) => this.createAlias(b),
    UpdateAlias: (b) => this.updateAlias(b),
    DeleteAlias: (b) => this.deleteAlias(b),
    GetKeyPolicy: (b) => {
      const key = this.resolve(reqString(b, 'KeyId'), false);
      this.checkPolicyName(b);
      return { Policy: key.policy, PolicyName: 'default' };
    },
    PutKeyPolicy: (b) => {
      const key = this.customerKey(reqString(b, 'KeyId'), 'PutKeyPolicy');
      this.checkPolicyName(b);
      const policy = reqString(b, 'Policy');
      validatePolicy(policy);
      key.policy = policy;
      return {};
    },
    ListKeyPolicies: (b) => {
      this.resolve(reqString(b, 'KeyId'), false);
      return { PolicyNames: ['default'], Truncated: false };
    },
    EnableKeyRotation: (b) => this.setRotation(b, true),
    DisableKeyRotation: (b) => this.setRotation(b, false),
    GetKeyRotationStatus: (b) => this.rotationStatus(b),
    RotateKeyOnDemand: (b) => this.rotateOnDemand(b),
    EnableKey: (b) => this.setEnabled(b, true),
    DisableKey: (b) => this.setEnabled(b, false),
    ScheduleKeyDeletion: (b) => this.scheduleDeletion(b),
    CancelKeyDeletion: (b) => this.cancelDeletion(b),
    TagResource: (b) => this.tagResource(b),
    UntagResource: (b) => this.untagResource(b),
    ListResourceTags: (b) => {
      const key = this.resolve(reqString(b, 'KeyId'), false);
      return { Tags: key.tags.map((t) => ({ ...t })), Truncated: false };
    },
    Encrypt: (b) => this.encrypt(b),
    Decrypt: (b) => this.decryptOp(b),
    ReEncrypt: (b) => this.reEncrypt(b),
    GenerateDataKey: (b) => this.generateDataKeyOp(b, true),
    GenerateDataKeyWithoutPlaintext: (b) => this.generateDataKeyOp(b, false),
    GenerateRandom: (b) => {
      const n = optNumber(b, 'NumberOfBytes') ?? 32;
      if (n < 1 || n > 1024)
        throw validation('numberOfBytes', n, 'Member must have value between 1 and 1024');
      return { Plaintext: randomBytes(n).toString('base64') };
    },
    CreateGrant: (b) => this.createGrant(b),
    ListGrants: (b) => this.listGrants(b),
    RetireGrant: (b) => this.retireGrant(b),
    RevokeGrant: (b) => this.revokeGrant(b),
  };

  private createKey(b: Body) {
    const keySpec = optString(b, 'KeySpec') ?? optString(b, 'CustomerMasterKeySpec') ?? SYMMETRIC;
    const spec = KEY_SPECS[keySpec];
    if (!spec) {
      throw validation(
        'keySpec',
        keySpec,
        `Member must satisfy enum value set: [${Object.keys(KEY_SPECS).join(', ')}]`,
      );
    }
    const keyUsage = optString(b, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
    if (!spec.usages.includes(keyUsage)) {
      throw new AwsError(
        'ValidationException',
        `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}. Valid: ${spec.usages.join(', ')}`,
      );
    }
    const origin = optString(b, 'Origin') ?? 'AWS_KMS';
    if (origin !== 'AWS_KMS') {
      throw new AwsError(
        'UnsupportedOperationException',
        `The embedded KMS only creates keys with Origin AWS_KMS`,
      );
    }
    if (b['MultiRegion'] === true) {
      throw new AwsError(
        'UnsupportedOperationException',
        'The embedded KMS does not create multi-Region keys',
      );
    }
    const policy = optString(b, 'Policy');
    if (policy !== undefined) validatePolicy(policy);
    const description = optString(b, 'Description') ?? '';
    if (description.length > 8192)
      throw validation('description', '…', 'Member must have length less than or equal to 8192');
    const key = this.addKey({
      keySpec,
      keyUsage,
      description,
      policy: policy ?? defaultKeyPolicy(this.accountId),
      keyManager: 'CUSTOMER',
      tags: parseTags(b['Tags']),
    });
    return { KeyMetadata: this.metadata(key) };
  }

  /**
   * A fixture: an enabled, rotating, customer managed symmetric key with the key id the caller
   * names. KMS always makes its own key ids; this exists so fixed sample events (events/*.json)
   * can name a real key. Idempotent: a key that exists already is left as it is.
   */
  seedKey(keyId: string, description: string): { keyArn: string; created: boolean } {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(keyId))
      throw new AwsError('ValidationException', `'${keyId}' is not a key id (a UUID)`);
    const existing = this.keys.get(keyId);
    if (existing) return { keyArn: existing.arn, created: false };
    const key = this.addKey(
      {
        keySpec: SYMMETRIC,
        keyUsage: 'ENCRYPT_DECRYPT',
        description,
        policy: defaultKeyPolicy(this.accountId),
        keyManager: 'CUSTOMER',
        tags: [{ TagKey: 'tunevault:fixture', TagValue: 'events' }],
      },
      keyId,
    );
    key.rotationEnabled = true;
    key.rotationPeriodInDays = 365;
    return { keyArn: key.arn, created: true };
  }

  private addKey(
    init: {
      keySpec: string;
      keyUsage: string;
      description: string;
      policy: string;
      keyManager: KeyManager;
      tags: Array<{ TagKey: string; TagValue: string }>;
    },
    keyId: string = randomUUID(),
  ): KeyRecord {
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

  private metadata(key: KeyRecord) {
    const spec = KEY_SPECS[key.keySpec];
    const md: Record<string, unknown> = {
      AWSAccountId: this.accountId,
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
    if (key.keyUsage === 'SIGN_VERIFY') md['SigningAlgorithms'] = this.signingAlgorithms(key.keySpec);
    if (key.keyUsage === 'KEY_AGREEMENT') md['KeyAgreementAlgorithms'] = ['ECDH'];
    if (key.keyUsage === 'GENERATE_VERIFY_MAC') md['MacAlgorithms'] = [`HMAC_SHA_${key.keySpec.slice(5)}`];
    return md;
  }

  private signingAlgorithms(keySpec: string): string[] {
    if (keySpec.startsWith('RSA_')) {
      return ['SHA_256', 'SHA_384', 'SHA_512'].flatMap((h) => [`RSASSA_PSS_${h}`, `RSASSA_PKCS1_V1_5_${h}`]);
    }
    if (keySpec === 'ECC_NIST_P384') return ['ECDSA_SHA_384'];
    if (keySpec === 'ECC_NIST_P521') return ['ECDSA_SHA_512'];
    return ['ECDSA_SHA_256'];
  }

  private listKeys(b: Body) {
    const all = [...this.keys.values()].map((k) => ({ KeyId: k.keyId, KeyArn: k.arn }));
    return this.page(all, b, 'Keys');
  }

  /** Marker-based paging as KMS does it (Limit 1–1000, default 100). */
  private page<T>(items: T[], b: Body, field: string) {
    const limit = optNumber(b, 'Limit') ?? 100;
    if (limit < 1 || limit > 1000)
      throw validation('limit', limit, 'Member must have value between 1 and 1000');
    const marker = optString(b, 'Marker');
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

  // ---- aliases ----

  private validateAliasName(name: string): void {
    if (!name.startsWith('alias/')) {
      throw new AwsError(
        'ValidationException',
        'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
      );
    }
    if (name.length > 256)
      throw validation('aliasName', name, 'Member must have length less than or equal to 256');
    if (!ALIAS_CHARS.test(name)) {
      throw new AwsError('ValidationException', `${name} contains invalid characters for an alias`);
    }
    if (name.startsWith('alias/aws/')) {
      // Real KMS answers with an authorization failure: the prefix is reserved for AWS managed keys.
      throw new AwsError(
        'NotAuthorizedException',
        `The alias/aws/ prefix is reserved for AWS managed keys: cannot create, update or delete ${name}`,
      );
    }
  }

  private aliasTarget(targetKeyId: string): KeyRecord {
    if (targetKeyId.startsWith('alias/') || /^arn:aws:kms:[^:]*:[^:]*:alias\//.test(targetKeyId)) {
      throw new AwsError('ValidationException', 'TargetKeyId must be a key ID or key ARN, not an alias');
    }
    const key = this.resolve(targetKeyId, false);
    if (key.keyManager === 'AWS') {
      throw new AwsError('NotAuthorizedException', `You cannot associate an alias with an AWS managed key`);
    }
    this.requireNotPendingDeletion(key);
    return key;
  }

  private createAlias(b: Body) {
    const name = reqString(b, 'AliasName');
    this.validateAliasName(name);
    const key = this.aliasTarget(reqString(b, 'TargetKeyId'));
    if (this.aliases.has(name)) {
      throw new AwsError(
        'AlreadyExistsException',
        `An alias with the name ${this.aliasArn(name)} already exists`,
      );
    }
    const now = Date.now();
    this.aliases.set(name, { name, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now });
    return {};
  }

  private updateAlias(b: Body) {
    const name = reqString(b, 'AliasName');
    this.validateAliasName(name);
    const alias = this.aliases.get(name);
    if (!alias) throw new AwsError('NotFoundException', `Alias ${this.aliasArn(name)} is not found.`);
    const key = this.aliasTarget(reqString(b, 'TargetKeyId'));
    const current = this.keys.get(alias.targetKeyId);
    // KMS only lets an alias move between keys of the same type and usage.
    if (current && (current.keySpec !== key.keySpec || current.keyUsage !== key.keyUsage)) {
      throw new AwsError(
        'ValidationException',
        `The new target key must have the same key spec and key usage as ${current.arn}`,
      );
    }
    alias.targetKeyId = key.keyId;
    alias.lastUpdatedDate = Date.now();
    return {};
  }

  private deleteAlias(b: Body) {
    const name = reqString(b, 'AliasName');
    this.validateAliasName(name);
    if (!this.aliases.delete(name))
      throw new AwsError('NotFoundException', `Alias ${this.aliasArn(name)} is not found.`);
    return {};
  }

  private listAliases(b: Body) {
    const keyId = optString(b, 'KeyId');
    let target: string | undefined;
    if (keyId !== undefined) target = this.resolve(keyId, false).keyId;
    const all = [...this.aliases.values()]
      .filter((a) => target === undefined || a.targetKeyId === target)
      .sort((x, y) => (x.name < y.name ? -1 : 1))
      .map((a) => ({
        AliasName: a.name,
        AliasArn: this.aliasArn(a.name),
        TargetKeyId: a.targetKeyId,
        CreationDate: epochSeconds(a.creationDate),
        LastUpdatedDate: epochSeconds(a.lastUpdatedDate),
      }));
    return this.page(all, b, 'Aliases');
  }

  // ---- key lifecycle ----

  private checkPolicyName(b: Body): void {
    const name = optString(b, 'PolicyName') ?? 'default';
    if (name !== 'default')
      throw new AwsError('ValidationException', `PolicyName must be 'default', got '${name}'`);
  }

  private setRotation(b: Body, enabled: boolean) {
    const key = this.customerKey(reqString(b, 'KeyId'), enabled ? 'EnableKeyRotation' : 'DisableKeyRotation');
    if (key.keySpec !== SYMMETRIC) {
      throw new AwsError(
        'UnsupportedOperationException',
        `${key.arn} key spec ${key.keySpec} does not support rotation`,
      );
    }
    this.requireEnabled(key);
    if (enabled) {
      const period = optNumber(b, 'RotationPeriodInDays') ?? key.rotationPeriodInDays ?? 365;
      if (period < 90 || period > 2560) {
        throw validation('rotationPeriodInDays', period, 'Member must have value between 90 and 2560');
      }
      key.rotationPeriodInDays = period;
    }
    key.rotationEnabled = enabled;
    return {};
  }

  private rotationStatus(b: Body) {
    const key = this.resolve(reqString(b, 'KeyId'), false);
    if (key.keySpec !== SYMMETRIC) {
      throw new AwsError(
        'UnsupportedOperationException',
        `${key.arn} key spec ${key.keySpec} does not support rotation`,
      );
    }
    const out: Record<string, unknown> = { KeyId: key.arn, KeyRotationEnabled: key.rotationEnabled };
    if (key.rotationEnabled && key.rotationPeriodInDays !== undefined) {
      out['RotationPeriodInDays'] = key.rotationPeriodInDays;
      out['NextRotationDate'] = epochSeconds(key.creationDate + key.rotationPeriodInDays * DAY_MS);
    }
    return out;
  }

  private rotateOnDemand(b: Body) {
    const key = this.customerKey(reqString(b, 'KeyId'), 'RotateKeyOnDemand');
    if (key.keySpec !== SYMMETRIC) {
      throw new AwsError(
        'UnsupportedOperationException',
        `${key.arn} key spec ${key.keySpec} does not support rotation`,
      );
    }
    this.requireEnabled(key);
    if (key.materials.length >= 0xffff) throw new AwsError('LimitExceededException', 'Too many rotations');
    key.materials.push(randomBytes(32));
    return { KeyId: key.arn };
  }

  private setEnabled(b: Body, enabled: boolean) {
    const key = this.customerKey(reqString(b, 'KeyId'), enabled ? 'EnableKey' : 'DisableKey');
    this.requireNotPendingDeletion(key);
    key.state = enabled ? 'Enabled' : 'Disabled';
    return {};
  }

  private scheduleDeletion(b: Body) {
    const key = this.customerKey(reqString(b, 'KeyId'), 'ScheduleKeyDeletion');
    const days = optNumber(b, 'PendingWindowInDays') ?? 30;
    if (days < 7)
      throw validation('pendingWindowInDays', days, 'Member must have value greater than or equal to 7');
    if (days > 30)
      throw validation('pendingWindowInDays', days, 'Member must have value less than or equal to 30');
    this.requireNotPendingDeletion(key);
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

  private cancelDeletion(b: Body) {
    const key = this.customerKey(reqString(b, 'KeyId'), 'CancelKeyDeletion');
    if (key.state !== 'PendingDeletion') {
      throw new AwsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
    }
    // KMS brings a cancelled key back disabled, so nobody uses it by surprise.
    key.state = 'Disabled';
    key.deletionDate = undefined;
    key.pendingWindowInDays = undefined;
    return { KeyId: key.arn };
  }

  private tagResource(b: Body) {
    const key = this.customerKey(reqString(b, 'KeyId'), 'TagResource');
    this.requireNotPendingDeletion(key);
    const tags = parseTags(b['Tags']);
    for (const tag of tags) {
      const existing = key.tags.find((t) => t.TagKey === tag.TagKey);
      if (existing) existing.TagValue = tag.TagValue;
      else key.tags.push(tag);
    }
    if (key.tags.length > 50)
      throw new AwsError('LimitExceededException', 'A KMS key can have at most 50 tags');
    return {};
  }

  private untagResource(b: Body) {
    const key = this.customerKey(reqString(b, 'KeyId'), 'UntagResource');
    this.requireNotPendingDeletion(key);
    const raw = b['TagKeys'];
    if (!Array.isArray(raw)) throw validation('tagKeys', undefined, 'Member must not be null');
    const drop = new Set(raw.map(String));
    key.tags = key.tags.filter((t) => !drop.has(t.TagKey));
    return {};
  }

  // ---- crypto ----

  private encrypt(b: Body) {
    const plaintext = optBlob(b, 'Plaintext');
    if (!plaintext || plaintext.length === 0) {
      throw validation('plaintext', undefined, 'Member must have length greater than or equal to 1');
    }
    if (plaintext.length > 4096)
      throw validation('plaintext', '…', 'Member must have length less than or equal to 4096');
    const algorithm = optString(b, 'EncryptionAlgorithm') ?? SYMMETRIC;
    const key = this.usableSymmetricKey(reqString(b, 'KeyId'), algorithm);
    const blob = this.seal(key, plaintext, optContext(b, 'EncryptionContext'));
    return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: SYMMETRIC };
  }

  private decryptOp(b: Body) {
    const blob = optBlob(b, 'CiphertextBlob');
    if (!blob || blob.length === 0) throw validation('ciphertextBlob', undefined, 'Member must not be null');
    const algorithm = optString(b, 'EncryptionAlgorithm') ?? SYMMETRIC;
    if (algorithm !== SYMMETRIC) {
      throw new AwsError(
        'InvalidKeyUsageException',
        `Encryption algorithm ${algorithm} does not match the ciphertext`,
      );
    }
    const { key, plaintext } = this.open(blob, optContext(b, 'EncryptionContext'), optString(b, 'KeyId'));
    return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: SYMMETRIC };
  }

  private reEncrypt(b: Body) {
    const blob = optBlob(b, 'CiphertextBlob');
    if (!blob || blob.length === 0) throw validation('ciphertextBlob', undefined, 'Member must not be null');
    const source = this.open(blob, optContext(b, 'SourceEncryptionContext'), optString(b, 'SourceKeyId'));
    const destination = this.usableSymmetricKey(
      reqString(b, 'DestinationKeyId'),
      optString(b, 'DestinationEncryptionAlgorithm') ?? SYMMETRIC,
    );
    const sealed = this.seal(destination, source.plaintext, optContext(b, 'DestinationEncryptionContext'));
    return {
      CiphertextBlob: sealed.toString('base64'),
      SourceKeyId: source.key.arn,
      KeyId: destination.arn,
      SourceEncryptionAlgorithm: SYMMETRIC,
      DestinationEncryptionAlgorithm: SYMMETRIC,
    };
  }

  private generateDataKeyOp(b: Body, withPlaintext: boolean) {
    const spec = optString(b, 'KeySpec');
    const bytes = optNumber(b, 'NumberOfBytes');
    if (spec !== undefined && bytes !== undefined) {
      throw new AwsError(
        'ValidationException',
        'Please specify either number of bytes or key spec, not both.',
      );
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
    const key = this.usableSymmetricKey(reqString(b, 'KeyId'));
    const plaintext = randomBytes(length);
    const blob = this.seal(key, plaintext, optContext(b, 'EncryptionContext'));
    return withPlaintext
      ? { CiphertextBlob: blob.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: key.arn }
      : { CiphertextBlob: blob.toString('base64'), KeyId: key.arn };
  }

  /** Blob: version | id length | key id | material index (u16) | IV | GCM tag | ciphertext. */
  private seal(key: KeyRecord, plaintext: Buffer, context: Context | undefined): Buffer {
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

  private open(blob: Buffer, context: Context | undefined, requestedKeyId: string | undefined) {
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
      const requested = this.resolve(requestedKeyId);
      if (requested.keyId !== keyId) {
        throw new AwsError(
          'IncorrectKeyException',
          'The key ID in the request does not identify a CMK that can perform this operation.',
        );
      }
    }
    const key = this.keys.get(keyId);
    if (!key) {
      throw new AwsError(
        'AccessDeniedException',
        'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
      );
    }
    this.requireEnabled(key);
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

  // ---- grants ----

  private createGrant(b: Body) {
    const key = this.resolve(reqString(b, 'KeyId'), false);
    this.requireNotPendingDeletion(key);
    const grantee = optString(b, 'GranteePrincipal') ?? optString(b, 'GranteeServicePrincipal');
    if (!grantee) throw validation('granteePrincipal', undefined, 'Member must not be null');
    const ops = b['Operations'];
    if (!Array.isArray(ops) || ops.length === 0)
      throw validation('operations', undefined, 'Member must not be null');
    for (const op of ops) {
      if (typeof op !== 'string' || !GRANT_OPERATIONS.has(op)) {
        throw validation(
          'operations',
          op,
          `Member must satisfy enum value set: [${[...GRANT_OPERATIONS].join(', ')}]`,
        );
      }
    }
    const name = optString(b, 'Name');
    const constraints = b['Constraints'] as GrantRecord['constraints'] | undefined;
    // Same name and parameters on the same key: KMS returns the existing grant (idempotent retry).
    if (name !== undefined) {
      for (const g of this.grants.values()) {
        if (
          g.keyId === key.keyId &&
          g.name === name &&
          g.granteePrincipal === grantee &&
          JSON.stringify(g.operations) === JSON.stringify(ops) &&
          JSON.stringify(g.constraints) === JSON.stringify(constraints)
        ) {
          return { GrantId: g.grantId, GrantToken: g.grantToken };
        }
      }
    }
    const grant: GrantRecord = {
      grantId: randomBytes(32).toString('hex'),
      grantToken: randomBytes(96).toString('base64url'),
      keyId: key.keyId,
      name,
      creationDate: Date.now(),
      granteePrincipal: grantee,
      retiringPrincipal: optString(b, 'RetiringPrincipal') ?? optString(b, 'RetiringServicePrincipal'),
      operations: ops as string[],
      constraints,
    };
    this.grants.set(grant.grantId, grant);
    return { GrantId: grant.grantId, GrantToken: grant.grantToken };
  }

  private listGrants(b: Body) {
    const key = this.resolve(reqString(b, 'KeyId'), false);
    const grantId = optString(b, 'GrantId');
    const grantee = optString(b, 'GranteePrincipal');
    const all = [...this.grants.values()]
      .filter((g) => g.keyId === key.keyId)
      .filter((g) => grantId === undefined || g.grantId === grantId)
      .filter((g) => grantee === undefined || g.granteePrincipal === grantee)
      .map((g) => {
        const entry: Record<string, unknown> = {
          KeyId: key.arn,
          GrantId: g.grantId,
          CreationDate: epochSeconds(g.creationDate),
          GranteePrincipal: g.granteePrincipal,
          IssuingAccount: `arn:aws:iam::${this.accountId}:root`,
          Operations: g.operations,
        };
        if (g.name !== undefined) entry['Name'] = g.name;
        if (g.retiringPrincipal !== undefined) entry['RetiringPrincipal'] = g.retiringPrincipal;
        if (g.constraints !== undefined) entry['Constraints'] = g.constraints;
        return entry;
      });
    return this.page(all, b, 'Grants');
  }

  private retireGrant(b: Body) {
    const token = optString(b, 'GrantToken');
    if (token !== undefined) {
      const grant = [...this.grants.values()].find((g) => g.grantToken === token);
      if (!grant) throw new AwsError('InvalidGrantTokenException', 'The grant token is not valid.');
      this.grants.delete(grant.grantId);
      return {};
    }
    const keyId = optString(b, 'KeyId');
    const grantId = optString(b, 'GrantId');
    if (keyId === undefined || grantId === undefined) {
      throw new AwsError('ValidationException', 'Specify a GrantToken, or both KeyId and GrantId.');
    }
    this.dropGrant(keyId, grantId);
    return {};
  }

  private revokeGrant(b: Body) {
    this.dropGrant(reqString(b, 'KeyId'), reqString(b, 'GrantId'));
    return {};
  }

  private dropGrant(keyIdOrArn: string, grantId: string): void {
    const key = this.resolve(keyIdOrArn, false);
    const grant = this.grants.get(grantId);
    if (!grant || grant.keyId !== key.keyId) {
      throw new AwsError('NotFoundException', `Grant ID ${grantId} not found for key ${key.arn}`);
    }
    this.grants.delete(grantId);
  }

  // ---- resolution and key-state rules ----

  private keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  private aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${name}`;
  }

  /**
   * Key id, key ARN, alias name or alias ARN → key. Operations that KMS documents as taking only
   * a key id or key ARN pass allowAlias = false.
   */
  private resolve(identifier: string, allowAlias = true): KeyRecord {
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
      policy: this.awsManagedPolicy(service),
      keyManager: 'AWS',
      tags: [],
    });
    const now = Date.now();
    const alias: AliasRecord = { name, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now };
    this.aliases.set(name, alias);
    return alias;
  }

  private awsManagedPolicy(service: string): string {
    return JSON.stringify(
      {
        Version: '2012-10-17',
        Id: `auto-${service}-2`,
        Statement: [
          {
            Sid: `Allow access through ${service} for all principals in the account that are authorized to use it`,
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: [
              'kms:Encrypt',
              'kms:Decrypt',
              'kms:ReEncrypt*',
              'kms:GenerateDataKey*',
              'kms:DescribeKey',
            ],
            Resource: '*',
            Condition: {
              StringEquals: {
                'kms:CallerAccount': this.accountId,
                'kms:ViaService': `${service}.${this.region}.amazonaws.com`,
              },
            },
          },
          {
            Sid: 'Allow direct access to key metadata to the account',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${this.accountId}:root` },
            Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
            Resource: '*',
          },
        ],
      },
      null,
      2,
    );
  }

  /** Management calls on AWS managed keys are refused: AWS owns their lifecycle. */
  private customerKey(identifier: string, operation: string): KeyRecord {
    const key = this.resolve(identifier, false);
    if (key.keyManager === 'AWS') {
      throw new AwsError(
        'UnsupportedOperationException',
        `${operation} is not supported on AWS managed key ${key.arn}`,
      );
    }
    return key;
  }

  private requireNotPendingDeletion(key: KeyRecord): void {
    if (key.state === 'PendingDeletion')
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
  }

  private requireEnabled(key: KeyRecord): void {
    this.requireNotPendingDeletion(key);
    if (key.state === 'Disabled') throw new AwsError('DisabledException', `${key.arn} is disabled.`);
  }

  private usableSymmetricKey(identifier: string, algorithm: string = SYMMETRIC): KeyRecord {
    const key = this.resolve(identifier);
    this.requireEnabled(key);
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

  /** Keys whose deletion window has passed are gone, along with their aliases and grants. */
  private purgeExpired(): void {
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
}
