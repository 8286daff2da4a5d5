/**
 * Find or create the one customer managed key that encrypts every custom model, and make sure
 * its policy lets builders encrypt and users decrypt through Bedrock. Reuse is the normal case:
 * a healthy key with a complete policy is left untouched.
 */
import type { KeyInfo } from '../shared/aws/kms';
import { KeyNotUsableError, KeyPolicyError } from '../shared/errors';
import type { KeyResult } from '../shared/types';
import { mergeKeyPolicy, newKeyPolicy, type PolicyParties, parseKeyPolicy } from './policy';

export interface KeyPorts {
  describeKey(keyIdOrAlias: string): Promise<KeyInfo | undefined>;
  createKey(input: { description: string; policy: string; tags: Record<string, string> }): Promise<KeyInfo>;
  createAlias(alias: string, keyId: string): Promise<'created' | 'exists'>;
  getKeyPolicy(keyId: string): Promise<string>;
  putKeyPolicy(keyId: string, policy: string): Promise<void>;
  isRotationEnabled(keyId: string): Promise<boolean>;
  enableRotation(keyId: string): Promise<void>;
  tagKey(keyId: string, tags: Record<string, string>): Promise<void>;
  scheduleDeletion(keyId: string, pendingWindowInDays: number): Promise<void>;
}

export interface KeySettings extends PolicyParties {
  alias: string;
  /** A key chosen by ARN is used as is (never created), but must be usable. */
  keyArn?: string;
  stage: string;
}

/** Shortest window KMS allows: an orphan key from a lost race is gone within a week. */
export const ORPHAN_DELETION_WINDOW_DAYS = 7;

export function unusableReason(key: KeyInfo): string | undefined {
  if (key.keyState === 'PendingDeletion')
    return 'is pending deletion; cancel the deletion (CancelKeyDeletion) and enable it';
  if (key.keyState === 'PendingReplicaDeletion') return 'is pending replica deletion';
  if (key.keyState === 'Disabled') return 'is disabled; enable it (EnableKey)';
  if (key.keyState !== 'Enabled') return `is in state ${key.keyState}, not Enabled`;
  if (key.keySpec !== 'SYMMETRIC_DEFAULT')
    return `is asymmetric (${key.keySpec}); Bedrock needs a symmetric key`;
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') return `has usage ${key.keyUsage}; Bedrock needs ENCRYPT_DECRYPT`;
  if (key.keyManager !== 'CUSTOMER') return 'is AWS managed; a custom model needs a customer managed key';
  return undefined;
}

function assertUsable(key: KeyInfo, name: string): void {
  const reason = unusableReason(key);
  if (reason) throw new KeyNotUsableError(`KMS key ${key.keyArn} (${name}) ${reason}.`);
}

async function resolveOrCreate(s: KeySettings, ports: KeyPorts): Promise<{ key: KeyInfo; created: boolean }> {
  if (s.keyArn) {
    const key = await ports.describeKey(s.keyArn);
    if (!key)
      throw new KeyNotUsableError(
        `KMS key ${s.keyArn} (configured keyArn) does not exist or is not visible to this account.`,
      );
    return { key, created: false };
  }
  const existing = await ports.describeKey(s.alias);
  if (existing) return { key: existing, created: false };

  const fresh = await ports.createKey({
    description: `TuneVault (${s.stage}): encrypts Bedrock custom models`,
    policy: JSON.stringify(newKeyPolicy(s)),
    tags: { 'tunevault:stage': s.stage, 'tunevault:alias': s.alias },
  });
  await ports.enableRotation(fresh.keyId);
  if ((await ports.createAlias(s.alias, fresh.keyId)) === 'created') return { key: fresh, created: true };

  // Another run created the alias between our lookup and CreateAlias: use its key, retire ours.
  const winner = await ports.describeKey(s.alias);
  if (!winner) throw new KeyNotUsableError(`Alias ${s.alias} exists but resolves to no key.`);
  await ports.tagKey(fresh.keyId, {
    'tunevault:orphan': 'true',
    'tunevault:orphan-reason': 'lost alias race',
  });
  await ports.scheduleDeletion(fresh.keyId, ORPHAN_DELETION_WINDOW_DAYS);
  return { key: winner, created: false };
}

/**
 * The function may change only keys TuneVault created for this stage (tagged tunevault:stage) and
 * the configured keyArn: an AccessDenied on a change is a key the stack may not touch, said so.
 */
async function changeKey(
  s: KeySettings,
  key: KeyInfo,
  what: string,
  change: () => Promise<void>,
): Promise<void> {
  try {
    await change();
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AccessDeniedException')) throw err;
    throw new KeyPolicyError(
      `KMS key ${key.keyArn} (${s.keyArn ? 'configured keyArn' : s.alias}) needs ${what}, which this stack may do only on keys it created (tag tunevault:stage=${s.stage}) or the configured keyArn: ${err.message}. Make the change yourself, tag the key, or deploy with --param="keyArn=${key.keyArn}".`,
    );
  }
}

export async function ensureCustomerManagedKey(s: KeySettings, ports: KeyPorts): Promise<KeyResult> {
  const { key, created } = await resolveOrCreate(s, ports);
  assertUsable(key, s.keyArn ? 'configured keyArn' : s.alias);

  if (!created && !(await ports.isRotationEnabled(key.keyId)))
    await changeKey(s, key, 'automatic rotation enabled', () => ports.enableRotation(key.keyId));

  const merged = mergeKeyPolicy(parseKeyPolicy(await ports.getKeyPolicy(key.keyId)), s);
  if (merged.changed)
    await changeKey(s, key, `the statements ${merged.added.join(', ')} in its key policy`, () =>
      ports.putKeyPolicy(key.keyId, JSON.stringify(merged.policy)),
    );

  return {
    keyArn: key.keyArn,
    keyId: key.keyId,
    ...(s.keyArn ? {} : { alias: s.alias }),
    created,
    policyChanged: merged.changed,
    statementsAdded: merged.added,
  };
}
