/** KMS as the workflow needs it: find, create and police one customer managed key. */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  type KMSClient,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { kmsClient } from './clients';
import { isAwsError, orUndefined } from './errors';

export interface KeyInfo {
  keyArn: string;
  keyId: string;
  keyState: string;
  keySpec: string;
  keyUsage: string;
  keyManager: string;
}

/** Missing fields read as 'Unknown', which the usability check then refuses. */
function toKeyInfo(m: KeyMetadata): KeyInfo | undefined {
  if (!m.Arn || !m.KeyId) return undefined;
  return {
    keyArn: m.Arn,
    keyId: m.KeyId,
    keyState: m.KeyState ?? 'Unknown',
    keySpec: m.KeySpec ?? 'Unknown',
    keyUsage: m.KeyUsage ?? 'Unknown',
    keyManager: m.KeyManager ?? 'Unknown',
  };
}

export class KmsGateway {
  constructor(private readonly kms: KMSClient = kmsClient()) {}

  /** Resolves a key id, key ARN or alias; undefined when nothing answers to it. */
  async describeKey(keyIdOrAlias: string): Promise<KeyInfo | undefined> {
    const out = await orUndefined(
      this.kms.send(new DescribeKeyCommand({ KeyId: keyIdOrAlias })),
      'NotFoundException',
    );
    return out?.KeyMetadata ? toKeyInfo(out.KeyMetadata) : undefined;
  }

  async createKey(input: {
    description: string;
    policy: string;
    tags: Record<string, string>;
  }): Promise<KeyInfo> {
    const out = await this.kms.send(
      new CreateKeyCommand({
        Description: input.description,
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Policy: input.policy,
        Tags: Object.entries(input.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      }),
    );
    const key = out.KeyMetadata ? toKeyInfo(out.KeyMetadata) : undefined;
    if (!key) throw new Error('CreateKey returned no key metadata');
    return key;
  }

  /** 'exists' when another caller created the alias first. */
  async createAlias(alias: string, keyId: string): Promise<'created' | 'exists'> {
    try {
      await this.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
      return 'created';
    } catch (err) {
      if (isAwsError(err, 'AlreadyExistsException')) return 'exists';
      throw err;
    }
  }

  async getKeyPolicy(keyId: string): Promise<string> {
    const out = await this.kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }));
    return out.Policy ?? '';
  }

  async putKeyPolicy(keyId: string, policy: string): Promise<void> {
    await this.kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy }));
  }

  async isRotationEnabled(keyId: string): Promise<boolean> {
    const out = await this.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    return out.KeyRotationEnabled === true;
  }

  async enableRotation(keyId: string): Promise<void> {
    await this.kms.send(new EnableKeyRotationCommand({ KeyId: keyId }));
  }

  async tagKey(keyId: string, tags: Record<string, string>): Promise<void> {
    await this.kms.send(
      new TagResourceCommand({
        KeyId: keyId,
        Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      }),
    );
  }

  /**
   * Keys of this account and region carrying the tag: ListKeys, then ListResourceTags per key.
   * Only the rare recovery of a bootstrap holder that died before recording its key uses it;
   * the scan stops after `maxKeys` keys.
   */
  async findKeysTagged(tagKey: string, tagValue: string, maxKeys = 2_000): Promise<KeyInfo[]> {
    const found: KeyInfo[] = [];
    let marker: string | undefined;
    let seen = 0;
    do {
      const page = await this.kms.send(
        new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) }),
      );
      for (const k of page.Keys ?? []) {
        if (!k.KeyId || ++seen > maxKeys) continue;
        const tags = await orUndefined(
          this.kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId })),
          'NotFoundException',
          'AccessDeniedException',
        );
        if (!tags?.Tags?.some((t) => t.TagKey === tagKey && t.TagValue === tagValue)) continue;
        const key = await this.describeKey(k.KeyId);
        if (key) found.push(key);
      }
      marker = page.Truncated && seen < maxKeys ? page.NextMarker : undefined;
    } while (marker);
    return found;
  }

  async scheduleDeletion(keyId: string, pendingWindowInDays: number): Promise<void> {
    await this.kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: pendingWindowInDays }),
    );
  }
}
