/**
 * Find or create the one customer managed key that encrypts every custom model, and make sure
 * its policy lets builders encrypt and users decrypt through Bedrock. Reuse is the normal case:
 * a healthy key with a complete policy is left untouched.
 *
 * The first runs of a fresh stack all find no alias. One of them takes the bootstrap lease (a
 * conditional write with a TTL in the admission table) and creates the key, its rotation and the
 * alias; the others wait for the alias with capped backoff and reuse the key. A holder that died
 * mid-way leaves its lease to expire and its key recorded in it (or tagged with its lease token):
 * the next holder adopts that key when it is usable, else retires it (tagged, scheduled for
 * deletion). If two runs still both create a key (a holder slower than its lease), the alias race
 * decides, as a last resort, and the loser retires its key.
 */
import type { KeyLease, LeaseAcquisition } from '../shared/aws/admission';
import type { KeyInfo } from '../shared/aws/kms';
import { KeyBootstrapInProgressError, KeyNotUsableError, KeyPolicyError } from '../shared/errors';
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
  /** Keys carrying this tag (a dead holder that never recorded its key id). */
  findKeysTagged(tagKey: string, tagValue: string): Promise<KeyInfo[]>;
}

/** The bootstrap lease and the clock it is measured with. */
export interface LeasePorts {
  getLease(name: string): Promise<KeyLease | undefined>;
  acquireLease(name: string, holder: string, leaseUntil: number, now: number): Promise<LeaseAcquisition>;
  recordLeaseKey(name: string, holder: string, keyId: string): Promise<boolean>;
  abandonLease(name: string, holder: string): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<boolean>;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Unique per attempt: whose lease it is, and the tag on the key it creates. */
  newHolderToken(): string;
  /** Time left in this invocation; waiting stops well before it. */
  remainingMs(): number;
}

export interface KeySettings extends PolicyParties {
  alias: string;
  /** A key chosen by ARN is used as is (never created), but must be usable. */
  keyArn?: string;
  stage: string;
  /** `lease` (default) serializes the bootstrap; `alias-race` is the earlier path, kept for comparison. */
  bootstrap?: 'lease' | 'alias-race';
  /** How long a holder may take before others consider it dead. */
  leaseMs?: number;
}

/** Shortest window KMS allows: an orphan key from a lost race is gone within a week. */
export const ORPHAN_DELETION_WINDOW_DAYS = 7;
export const LEASE_TAG = 'tunevault:bootstrap-lease';
const DEFAULT_LEASE_MS = 60_000;
/**
 * Waiters look for the alias after 50 ms, then twice as late each time, at most every 250 ms: the
 * bootstrap takes a second or two, and a longer step makes the other first runs of a burst find
 * the alias up to that much after it exists. 100 waiters then ask DescribeKey about 400 times a
 * second, below its request quota (the KMS developer guide's throttling example: 1,000 a second);
 * a throttled call is retried by the SDK.
 */
const FIRST_WAIT_MS = 50;
const MAX_WAIT_MS = 250;
/** Stop waiting this long before the invocation's end, to report KeyBootstrapInProgressError cleanly. */
const WAIT_MARGIN_MS = 3_000;

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

interface Resolved {
  key: KeyInfo;
  created: boolean;
  adopted?: boolean;
}

async function resolveOrCreate(s: KeySettings, ports: KeyPorts, lease?: LeasePorts): Promise<Resolved> {
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
  if (lease && s.bootstrap !== 'alias-race') return bootstrapUnderLease(s, ports, lease);
  return createAndAlias(s, ports);
}

function keyTags(s: KeySettings, holder?: string): Record<string, string> {
  return {
    'tunevault:stage': s.stage,
    'tunevault:alias': s.alias,
    ...(holder ? { [LEASE_TAG]: holder } : {}),
  };
}

/** Creates, rotates and aliases a key; on a lost alias race uses the winner and retires its own. */
async function createAndAlias(
  s: KeySettings,
  ports: KeyPorts,
  onCreated?: (key: KeyInfo) => Promise<unknown>,
  holder?: string,
): Promise<Resolved> {
  const fresh = await ports.createKey({
    description: `TuneVault (${s.stage}): encrypts Bedrock custom models`,
    policy: JSON.stringify(newKeyPolicy(s)),
    tags: keyTags(s, holder),
  });
  // Recording the key (for a successor, should this holder die) and enabling its rotation are
  // independent; both come before the alias, which is what the other first runs wait for.
  await Promise.all([onCreated?.(fresh), ports.enableRotation(fresh.keyId)]);
  if ((await ports.createAlias(s.alias, fresh.keyId)) === 'created') return { key: fresh, created: true };

  // Another run created the alias between our lookup and CreateAlias: use its key, retire ours
  // (unless the alias is ours already: a successor adopted our key while we were slow).
  const winner = await ports.describeKey(s.alias);
  if (!winner) throw new KeyNotUsableError(`Alias ${s.alias} exists but resolves to no key.`);
  if (winner.keyId === fresh.keyId) return { key: fresh, created: true };
  await retire(fresh, 'lost alias race', ports);
  return { key: winner, created: false };
}

async function retire(key: KeyInfo, reason: string, ports: KeyPorts): Promise<void> {
  await ports.tagKey(key.keyId, { 'tunevault:orphan': 'true', 'tunevault:orphan-reason': reason });
  if (key.keyState !== 'PendingDeletion')
    await ports.scheduleDeletion(key.keyId, ORPHAN_DELETION_WINDOW_DAYS);
}

async function bootstrapUnderLease(s: KeySettings, ports: KeyPorts, lease: LeasePorts): Promise<Resolved> {
  const name = `kms-key:${s.alias}`;
  const holder = lease.newHolderToken();
  const leaseMs = s.leaseMs ?? DEFAULT_LEASE_MS;
  const deadline = lease.now() + Math.max(1_000, lease.remainingMs() - WAIT_MARGIN_MS);
  let wait = FIRST_WAIT_MS;
  for (;;) {
    const now = lease.now();
    // A live lease is read, not written against: the other first runs of a burst wait without a
    // conditional write each (one failed write per run, on the one item, is what a burst would cost).
    const seen = await lease.getLease(name);
    const got =
      seen && seen.leaseUntil >= now
        ? ({ acquired: false, current: seen } as const)
        : await lease.acquireLease(name, holder, now + leaseMs, now);
    if (got.acquired) return holdLease(s, ports, lease, name, holder, got.previous);

    // Another run is bootstrapping: wait for its alias until its lease runs out, then take over.
    const until = got.current?.leaseUntil ?? now;
    do {
      if (lease.now() >= deadline) {
        throw new KeyBootstrapInProgressError(
          `Another run is creating the key for ${s.alias} (its lease ends ${new Date(until).toISOString()}); this step is retried.`,
        );
      }
      await lease.sleep(Math.min(wait, Math.max(1, deadline - lease.now())));
      wait = Math.min(wait * 2, MAX_WAIT_MS);
      const key = await ports.describeKey(s.alias);
      if (key) return { key, created: false };
    } while (lease.now() <= until);
  }
}

async function holdLease(
  s: KeySettings,
  ports: KeyPorts,
  lease: LeasePorts,
  name: string,
  holder: string,
  previous: KeyLease | undefined,
): Promise<Resolved> {
  try {
    // The previous holder may have finished between our alias lookup and the lease.
    const existing = await ports.describeKey(s.alias);
    const resolved =
      existing !== undefined
        ? { key: existing, created: false }
        : ((await adoptFromDeadHolder(s, ports, previous)) ??
          (await createAndAlias(s, ports, (k) => lease.recordLeaseKey(name, holder, k.keyId), holder)));
    await lease.releaseLease(name, holder);
    return resolved;
  } catch (err) {
    // Leave the lease (and the key recorded in it) to the next run at once instead of at its TTL.
    await lease.abandonLease(name, holder).catch(() => undefined);
    throw err;
  }
}

/**
 * The lease's previous holder died (or failed) mid-way: its key, if it made one, is adopted when
 * usable — aliased by us, so the stack still ends with exactly one key — and retired otherwise.
 */
async function adoptFromDeadHolder(
  s: KeySettings,
  ports: KeyPorts,
  previous: KeyLease | undefined,
): Promise<Resolved | undefined> {
  if (!previous) return undefined;
  const left = previous.keyId
    ? [await ports.describeKey(previous.keyId)].filter((k): k is KeyInfo => k !== undefined)
    : await ports.findKeysTagged(LEASE_TAG, previous.holder);
  let adopted: KeyInfo | undefined;
  for (const key of left) {
    if (!adopted && unusableReason(key) === undefined) {
      adopted = key;
      continue;
    }
    await retire(key, 'bootstrap holder died', ports);
  }
  if (!adopted) return undefined;
  await ports.enableRotation(adopted.keyId);
  if ((await ports.createAlias(s.alias, adopted.keyId)) === 'created')
    return { key: adopted, created: true, adopted: true };
  const winner = await ports.describeKey(s.alias);
  if (!winner) throw new KeyNotUsableError(`Alias ${s.alias} exists but resolves to no key.`);
  if (winner.keyId !== adopted.keyId) await retire(adopted, 'lost alias race', ports);
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

export async function ensureCustomerManagedKey(
  s: KeySettings,
  ports: KeyPorts,
  lease?: LeasePorts,
): Promise<KeyResult> {
  const { key, created, adopted } = await resolveOrCreate(s, ports, lease);
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
    ...(adopted ? { adopted } : {}),
    policyChanged: merged.changed,
    statementsAdded: merged.added,
  };
}
