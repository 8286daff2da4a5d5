/**
 * Embedded AWS KMS (awsJson1_1, `X-Amz-Target: TrentService.<Op>`): the operations it serves, and
 * its in-process face (KeyStore) for the services that use a key for their caller — S3 for
 * SSE-KMS, Bedrock for the model key. Keys, aliases and grants are in kms/model.ts, the
 * cryptography in kms/crypto.ts, the IAM questions in kms/access.ts.
 */
import * as kmsModel from '@aws-sdk/client-kms';
import { randomBytes } from 'node:crypto';
import type { Body } from '../core/input';
import { AwsJsonService } from '../core/json-protocol';
import type { OperationTable } from '../core/operations';
import type { KeyStore, LocalRequest, LocalResponse } from '../core/types';
import { type Authorizer, currentCaller } from '../iam/authorizer';
import { finish } from '../iam/json-access';
import type { AccessRequest } from '../iam/types';
import { encryptionContext, type KeyFacts, kmsAccessRequests, onKey } from './kms/access';
import { createAlias, deleteAlias, listAliases } from './kms/aliases';
import { decrypt, encrypt, generateDataKey, keyIdOfBlob, open, seal } from './kms/crypto';
import { createGrant, grantAllows, listGrants, retireGrant, revokeGrant } from './kms/grants';
import {
  cancelDeletion,
  createKey,
  describeKey,
  getKeyPolicy,
  listKeys,
  listResourceTags,
  putKeyPolicy,
  rotationStatus,
  scheduleDeletion,
  seedKey,
  setEnabled,
  setRotation,
  tagResource,
} from './kms/keys';
import { type Context, type KeyRecord, KeyRing, type KmsSnapshot, usableSymmetricKey } from './kms/model';
import { defaultKeyPolicy } from './kms/policies';

export class KmsService extends AwsJsonService implements KeyStore {
  override readonly signingName = 'kms';
  private readonly ring: KeyRing;
  private readonly authorizer: Authorizer | undefined;

  constructor(options: { accountId: string; region: string; authorizer?: Authorizer }) {
    super({ name: 'KMS', contentType: 'application/x-amz-json-1.1', model: kmsModel });
    this.ring = new KeyRing(options.accountId, options.region);
    this.authorizer = options.authorizer;
  }

  protected readonly operations: OperationTable<Body> = {
    CreateKey: (b) => createKey(this.ring, b),
    DescribeKey: (b) => describeKey(this.ring, b),
    ListKeys: (b) => listKeys(this.ring, b),
    GetKeyPolicy: (b) => getKeyPolicy(this.ring, b),
    PutKeyPolicy: (b) => putKeyPolicy(this.ring, b),
    EnableKeyRotation: (b) => setRotation(this.ring, b, true),
    DisableKeyRotation: (b) => setRotation(this.ring, b, false),
    GetKeyRotationStatus: (b) => rotationStatus(this.ring, b),
    EnableKey: (b) => setEnabled(this.ring, b, true),
    DisableKey: (b) => setEnabled(this.ring, b, false),
    ScheduleKeyDeletion: (b) => scheduleDeletion(this.ring, b),
    CancelKeyDeletion: (b) => cancelDeletion(this.ring, b),
    TagResource: (b) => tagResource(this.ring, b),
    ListResourceTags: (b) => listResourceTags(this.ring, b),
    CreateAlias: (b) => createAlias(this.ring, b),
    DeleteAlias: (b) => deleteAlias(this.ring, b),
    ListAliases: (b) => listAliases(this.ring, b),
    Encrypt: (b) => encrypt(this.ring, b),
    Decrypt: (b) => decrypt(this.ring, b),
    GenerateDataKey: (b) => generateDataKey(this.ring, b),
    CreateGrant: (b) => createGrant(this.ring, b),
    ListGrants: (b) => listGrants(this.ring, b),
    RetireGrant: (b) => retireGrant(this.ring, b),
    RevokeGrant: (b) => revokeGrant(this.ring, b),
  };

  override handle(req: LocalRequest): Promise<LocalResponse> {
    this.ring.purgeExpired();
    return super.handle(req);
  }

  // ---- IAM (see kms/access.ts) ----

  private facts(key: KeyRecord): KeyFacts {
    return {
      arn: key.arn,
      policy: key.policy,
      tags: key.tags,
      aliases: this.ring.aliasesOf(key),
      keySpec: key.keySpec,
      keyUsage: key.keyUsage,
    };
  }

  protected access(operation: string, input: Body): Promise<AccessRequest[]> {
    this.ring.purgeExpired();
    const { accountId, region } = this.ring;
    const lookups = {
      accountId,
      region,
      defaultPolicy: defaultKeyPolicy(accountId),
      key: (identifier: string) => {
        try {
          return this.facts(this.ring.resolve(identifier));
        } catch {
          return undefined;
        }
      },
      keyOfCiphertext: (blob: Buffer) => {
        const key = this.ring.keys.get(keyIdOfBlob(blob) ?? '');
        return key ? this.facts(key) : undefined;
      },
      aliasArn: (name: string) => this.ring.aliasArn(name),
    };
    return finish('kms', operation, kmsAccessRequests(operation, input, lookups));
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
      grantAllows(this.ring, key, caller.principal.arn, operation, context)
    )
      return;
    const extra: Record<string, string | string[]> = { ...encryptionContext(context) };
    if (via) extra['kms:ViaService'] = this.viaService(via);
    await this.authorizer.require(caller, 'kms', [
      onKey(action, this.facts(key), { accountId: this.ring.accountId }, extra, identifier),
    ]);
  }

  private viaService(via: string): string {
    return `${via}.${this.ring.region}.amazonaws.com`;
  }

  // ---- KeyStore (in-process face for S3 SSE-KMS and Bedrock) ----

  async describe(keyIdOrAlias: string, via?: string) {
    this.ring.purgeExpired();
    const key = this.ring.resolve(keyIdOrAlias);
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
    this.ring.purgeExpired();
    const key = usableSymmetricKey(this.ring, keyIdOrAlias);
    await this.authorizeUse('kms:GenerateDataKey', key, context, via, keyIdOrAlias);
    const plaintext = randomBytes(32);
    return { keyArn: key.arn, plaintext, ciphertextBlob: seal(key, plaintext, context) };
  }

  async decrypt(ciphertextBlob: Buffer, context?: Record<string, string>, via?: string) {
    this.ring.purgeExpired();
    const { key, plaintext } = open(this.ring, ciphertextBlob, context, undefined);
    await this.authorizeUse('kms:Decrypt', key, context, via);
    return { keyArn: key.arn, plaintext };
  }

  /** CreateGrant for the current caller through another service (Bedrock grants itself the model key). */
  async createGrantVia(
    keyIdOrAlias: string,
    grant: { grantee: string; operations: string[]; name: string; retiringPrincipal?: string },
    via: string,
  ): Promise<{ grantId: string }> {
    this.ring.purgeExpired();
    const key = this.ring.resolve(keyIdOrAlias);
    const caller = currentCaller();
    if (caller && this.authorizer) {
      const extra = {
        'kms:ViaService': this.viaService(via),
        'kms:GrantOperations': grant.operations,
        'kms:GranteePrincipal': grant.grantee,
        'kms:GrantIsForAWSResource': 'true',
      };
      await this.authorizer.require(caller, 'kms', [
        onKey('kms:CreateGrant', this.facts(key), { accountId: this.ring.accountId }, extra, keyIdOrAlias),
      ]);
    }
    const out = createGrant(this.ring, {
      KeyId: key.keyId,
      GranteePrincipal: grant.grantee,
      Operations: grant.operations,
      Name: grant.name,
      ...(grant.retiringPrincipal ? { RetiringPrincipal: grant.retiringPrincipal } : {}),
    });
    return { grantId: out.GrantId };
  }

  /** A fixture key with the key id the caller names (see kms/keys.ts seedKey). */
  seedKey(keyId: string, description: string): { keyArn: string; created: boolean } {
    return seedKey(this.ring, keyId, description);
  }

  // ---- state ----

  snapshot(): KmsSnapshot {
    return this.ring.snapshot();
  }

  restore(state: unknown): void {
    this.ring.restore(state);
  }
}
