import {
  ensureCustomerManagedKey,
  type KeyPorts,
  LEASE_TAG,
  type LeasePorts,
  unusableReason,
} from '../../../functions/ensure-customer-managed-key/core';
import {
  type KeyPolicy,
  mergeKeyPolicy,
  newKeyPolicy,
  parseKeyPolicy,
  SID,
} from '../../../functions/ensure-customer-managed-key/policy';
import type { KeyLease } from '../../../functions/shared/aws/admission';
import type { KeyInfo } from '../../../functions/shared/aws/kms';
import {
  KeyBootstrapInProgressError,
  KeyNotUsableError,
  KeyPolicyError,
} from '../../../functions/shared/errors';

const ACCOUNT = '111122223333';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0b3d5c8e-1111-2222-3333-444455556666`;
const BUILDER = `arn:aws:iam::${ACCOUNT}:role/builder`;
const USER = `arn:aws:iam::${ACCOUNT}:role/model-user`;

const settings = {
  alias: 'alias/tunevault-test',
  stage: 'test',
  accountId: ACCOUNT,
  region: 'us-east-1',
  builderArns: [BUILDER],
  userArns: [USER],
};

function healthyKey(overrides: Partial<KeyInfo> = {}): KeyInfo {
  return {
    keyArn: KEY_ARN,
    keyId: '0b3d5c8e-1111-2222-3333-444455556666',
    keyState: 'Enabled',
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    keyManager: 'CUSTOMER',
    ...overrides,
  };
}

const foreign = {
  Sid: 'SecurityTeamAudit',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/security-audit` },
  Action: ['kms:DescribeKey', 'kms:GetKeyPolicy'],
  Resource: '*',
};
const defaultRoot = {
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: 'kms:*',
  Resource: '*',
};
const builders = {
  Sid: SID.builders,
  Effect: 'Allow',
  Principal: { AWS: [BUILDER] },
  Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:CreateGrant'],
  Resource: '*',
  Condition: { StringEquals: { 'kms:ViaService': 'bedrock.us-east-1.amazonaws.com' } },
};

function fakePorts(key: KeyInfo | undefined, policy: object) {
  const calls = {
    putKeyPolicy: [] as string[],
    createKey: 0,
    enableRotation: 0,
    createAlias: 0,
    scheduleDeletion: [] as string[],
  };
  const ports: KeyPorts = {
    describeKey: async () => key,
    createKey: async () => {
      calls.createKey += 1;
      return healthyKey({ keyId: 'new-key', keyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/new-key` });
    },
    createAlias: async () => {
      calls.createAlias += 1;
      return 'created';
    },
    getKeyPolicy: async () => JSON.stringify(policy),
    putKeyPolicy: async (_id, p) => {
      calls.putKeyPolicy.push(p);
    },
    isRotationEnabled: async () => true,
    enableRotation: async () => {
      calls.enableRotation += 1;
    },
    tagKey: async () => undefined,
    scheduleDeletion: async (id) => {
      calls.scheduleDeletion.push(id);
    },
    findKeysTagged: async () => [],
  };
  return { ports, calls };
}

describe('ensureCustomerManagedKey', () => {
  it('adds exactly the missing user statement to a reused key and keeps a foreign statement', async () => {
    const { ports, calls } = fakePorts(healthyKey(), {
      Version: '2012-10-17',
      Statement: [defaultRoot, foreign, builders],
    });

    const result = await ensureCustomerManagedKey(settings, ports);

    expect(result).toMatchObject({
      keyArn: KEY_ARN,
      created: false,
      policyChanged: true,
      statementsAdded: [SID.users],
    });
    expect(calls.putKeyPolicy).toHaveLength(1);
    const written = JSON.parse(calls.putKeyPolicy[0] as string) as { Statement: { Sid: string }[] };
    expect(written.Statement.map((s) => s.Sid)).toEqual([
      defaultRoot.Sid,
      foreign.Sid,
      SID.builders,
      SID.users,
    ]);
    expect(written.Statement[1]).toEqual(foreign);
    expect(written.Statement[3]).toEqual({
      Sid: SID.users,
      Effect: 'Allow',
      Principal: { AWS: [USER] },
      Action: ['kms:Decrypt'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': 'bedrock.us-east-1.amazonaws.com' } },
    });
    expect(calls.createKey).toBe(0);
  });

  it('leaves a key with a complete policy untouched', async () => {
    const complete = {
      Version: '2012-10-17',
      Statement: [
        defaultRoot,
        builders,
        { ...builders, Sid: SID.users, Principal: { AWS: [USER] }, Action: ['kms:Decrypt'] },
      ],
    };
    const { ports, calls } = fakePorts(healthyKey(), complete);
    const result = await ensureCustomerManagedKey(settings, ports);
    expect(result.policyChanged).toBe(false);
    expect(calls.putKeyPolicy).toHaveLength(0);
    expect(calls.enableRotation).toBe(0);
  });

  it.each([
    ['disabled', { keyState: 'Disabled' }, /disabled/],
    ['pending deletion', { keyState: 'PendingDeletion' }, /pending deletion/],
    ['asymmetric', { keySpec: 'RSA_2048' }, /asymmetric/],
    ['AWS managed', { keyManager: 'AWS' }, /AWS managed/],
  ])('refuses a %s key with KeyNotUsableError', async (_label, overrides, reason) => {
    const { ports, calls } = fakePorts(healthyKey(overrides), { Statement: [defaultRoot] });
    const attempt = ensureCustomerManagedKey(settings, ports);
    await expect(attempt).rejects.toBeInstanceOf(KeyNotUsableError);
    await expect(attempt).rejects.toThrow(reason);
    expect(calls.putKeyPolicy).toHaveLength(0);
  });

  it('creates, rotates and aliases a key when the alias does not exist yet', async () => {
    const { ports, calls } = fakePorts(undefined, { Statement: [] });
    ports.getKeyPolicy = async () =>
      JSON.stringify({ Version: '2012-10-17', Statement: [defaultRoot, builders] });
    const result = await ensureCustomerManagedKey({ ...settings, userArns: [] }, ports);
    expect(result.created).toBe(true);
    expect(calls).toMatchObject({ createKey: 1, enableRotation: 1, createAlias: 1 });
  });

  it('on a lost alias race uses the winner and schedules its own key for deletion in 7 days', async () => {
    let lookups = 0;
    const { ports, calls } = fakePorts(undefined, { Statement: [defaultRoot, builders] });
    ports.describeKey = async () => (lookups++ === 0 ? undefined : healthyKey());
    ports.createAlias = async () => 'exists';
    const windows: number[] = [];
    ports.scheduleDeletion = async (id, days) => {
      calls.scheduleDeletion.push(id);
      windows.push(days);
    };
    const result = await ensureCustomerManagedKey({ ...settings, userArns: [] }, ports);
    expect(result.keyArn).toBe(KEY_ARN);
    expect(calls.scheduleDeletion).toEqual(['new-key']);
    expect(windows).toEqual([7]);
  });
});

describe('ensureCustomerManagedKey: resolution and usability', () => {
  it('uses a configured keyArn as is (no alias lookup, no creation) and reports no alias', async () => {
    const { ports, calls } = fakePorts(healthyKey(), { Statement: [defaultRoot, builders] });
    const asked: string[] = [];
    ports.describeKey = async (id) => {
      asked.push(id);
      return healthyKey();
    };
    const result = await ensureCustomerManagedKey({ ...settings, keyArn: KEY_ARN, userArns: [] }, ports);
    expect(asked).toEqual([KEY_ARN]);
    expect(result).toEqual({
      keyArn: KEY_ARN,
      keyId: '0b3d5c8e-1111-2222-3333-444455556666',
      created: false,
      policyChanged: false,
      statementsAdded: [],
    });
    expect(calls.createKey).toBe(0);
  });

  it('refuses a configured keyArn that does not exist, naming it', async () => {
    const { ports } = fakePorts(undefined, { Statement: [] });
    const attempt = ensureCustomerManagedKey({ ...settings, keyArn: KEY_ARN }, ports);
    await expect(attempt).rejects.toBeInstanceOf(KeyNotUsableError);
    await expect(attempt).rejects.toThrow(
      `KMS key ${KEY_ARN} (configured keyArn) does not exist or is not visible to this account.`,
    );
  });

  it('names the configured keyArn, not the alias, when that key is unusable', async () => {
    const { ports } = fakePorts(healthyKey({ keyState: 'Disabled' }), { Statement: [] });
    await expect(ensureCustomerManagedKey({ ...settings, keyArn: KEY_ARN }, ports)).rejects.toThrow(
      `KMS key ${KEY_ARN} (configured keyArn) is disabled; enable it (EnableKey).`,
    );
  });

  it.each([
    [
      { keyState: 'PendingDeletion' },
      'is pending deletion; cancel the deletion (CancelKeyDeletion) and enable it',
    ],
    [{ keyState: 'PendingReplicaDeletion' }, 'is pending replica deletion'],
    [{ keyState: 'Disabled' }, 'is disabled; enable it (EnableKey)'],
    [{ keyState: 'PendingImport' }, 'is in state PendingImport, not Enabled'],
    [{ keySpec: 'HMAC_256' }, 'is asymmetric (HMAC_256); Bedrock needs a symmetric key'],
    [{ keyUsage: 'GENERATE_VERIFY_MAC' }, 'has usage GENERATE_VERIFY_MAC; Bedrock needs ENCRYPT_DECRYPT'],
    [{ keyManager: 'AWS' }, 'is AWS managed; a custom model needs a customer managed key'],
    [{}, undefined],
  ])('unusableReason(%o) is %s', (overrides, reason) => {
    expect(unusableReason(healthyKey(overrides as Partial<KeyInfo>))).toBe(reason);
  });

  it('the message names the key and the alias it was found under', async () => {
    const { ports } = fakePorts(healthyKey({ keyManager: 'AWS' }), { Statement: [] });
    await expect(ensureCustomerManagedKey(settings, ports)).rejects.toThrow(
      `KMS key ${KEY_ARN} (alias/tunevault-test) is AWS managed; a custom model needs a customer managed key.`,
    );
  });

  it('turns rotation on for a reused key that has it off, and only then', async () => {
    const { ports, calls } = fakePorts(healthyKey(), { Statement: [defaultRoot, builders] });
    ports.isRotationEnabled = async () => false;
    await ensureCustomerManagedKey({ ...settings, userArns: [] }, ports);
    expect(calls.enableRotation).toBe(1);
  });

  it('creates the key with a description, the full policy and tags naming the stage and alias', async () => {
    const { ports } = fakePorts(undefined, { Statement: [] });
    const created: { description: string; policy: string; tags: Record<string, string> }[] = [];
    ports.createKey = async (i) => {
      created.push(i);
      return healthyKey({ keyId: 'new-key' });
    };
    ports.isRotationEnabled = async () => {
      throw new Error('a key just created has rotation turned on by this run; no need to ask');
    };
    ports.getKeyPolicy = async () => created[0]?.policy ?? '';
    const result = await ensureCustomerManagedKey(settings, ports);
    expect(created).toEqual([
      {
        description: 'TuneVault (test): encrypts Bedrock custom models',
        policy: JSON.stringify(newKeyPolicy(settings)),
        tags: { 'tunevault:stage': 'test', 'tunevault:alias': 'alias/tunevault-test' },
      },
    ]);
    expect(result).toMatchObject({ created: true, alias: 'alias/tunevault-test', policyChanged: false });
  });

  it('tags the orphan of a lost alias race before scheduling its deletion', async () => {
    let lookups = 0;
    const { ports } = fakePorts(undefined, { Statement: [defaultRoot, builders] });
    ports.describeKey = async () => (lookups++ === 0 ? undefined : healthyKey());
    ports.createAlias = async () => 'exists';
    const steps: string[] = [];
    ports.tagKey = async (id, tags) => {
      steps.push(`tag ${id} ${JSON.stringify(tags)}`);
    };
    ports.scheduleDeletion = async (id, days) => {
      steps.push(`delete ${id} in ${days}`);
    };
    const result = await ensureCustomerManagedKey({ ...settings, userArns: [] }, ports);
    expect(steps).toEqual([
      'tag new-key {"tunevault:orphan":"true","tunevault:orphan-reason":"lost alias race"}',
      'delete new-key in 7',
    ]);
    expect(result.created).toBe(false);
  });

  it('fails clearly when the alias exists but resolves to no key after a lost race', async () => {
    const { ports } = fakePorts(undefined, { Statement: [] });
    ports.createAlias = async () => 'exists';
    const attempt = ensureCustomerManagedKey(settings, ports);
    await expect(attempt).rejects.toBeInstanceOf(KeyNotUsableError);
    await expect(attempt).rejects.toThrow('Alias alias/tunevault-test exists but resolves to no key.');
  });
});

describe('key policy: parse and merge edge cases', () => {
  it.each([
    [
      'not JSON',
      '{',
      'The key policy is not valid JSON; fix it in KMS before TuneVault can merge its statements.',
    ],
    [
      'null',
      'null',
      'The key policy has no Statement list; fix it in KMS before TuneVault can merge its statements.',
    ],
    [
      'a number',
      '3',
      'The key policy has no Statement list; fix it in KMS before TuneVault can merge its statements.',
    ],
    [
      'no Statement',
      '{"Version":"2012-10-17"}',
      'The key policy has no Statement list; fix it in KMS before TuneVault can merge its statements.',
    ],
  ])('refuses a policy that is %s with KeyPolicyError', (_label, json, message) => {
    expect(() => parseKeyPolicy(json)).toThrow(new KeyPolicyError(message));
    expect(() => parseKeyPolicy(json)).toThrow(KeyPolicyError);
  });

  it('reads a single Statement object as a list of one', () => {
    expect(parseKeyPolicy(JSON.stringify({ Version: '2012-10-17', Statement: defaultRoot }))).toEqual({
      Version: '2012-10-17',
      Statement: [defaultRoot],
    });
  });

  it.each([
    ['the root ARN with kms:*', { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*' }],
    ['the bare account id', { Principal: { AWS: ACCOUNT }, Action: ['kms:*'] }],
    ['Action "*"', { Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:root`] }, Action: '*' }],
  ])('recognizes root administration granted under another Sid: %s', (_label, over) => {
    const policy = { Version: '2012-10-17', Statement: [{ ...defaultRoot, ...over }] } as KeyPolicy;
    expect(mergeKeyPolicy(policy, { ...settings, builderArns: [], userArns: [] })).toEqual({
      policy,
      changed: false,
      added: [],
    });
  });

  it.each([
    ['a Deny', { Effect: 'Deny' }],
    ['a condition', { Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }],
    ['a * principal', { Principal: '*' }],
    ['a service principal', { Principal: { Service: 'kms.amazonaws.com' } }],
    ['only some kms actions', { Action: ['kms:Describe*'] }],
    ['another account', { Principal: { AWS: 'arn:aws:iam::444455556666:root' } }],
  ])('adds its own root statement when the existing one is %s', (_label, over) => {
    const policy = { Version: '2012-10-17', Statement: [{ ...defaultRoot, ...over }] } as KeyPolicy;
    const merged = mergeKeyPolicy(policy, { ...settings, builderArns: [], userArns: [] });
    expect(merged.added).toEqual([SID.root]);
    expect(merged.policy.Statement[1]).toEqual({
      Sid: SID.root,
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*',
    });
  });

  it('writes the root of the configured partition', () => {
    expect(newKeyPolicy({ ...settings, partition: 'aws-cn' }).Statement[0]?.Principal).toEqual({
      AWS: `arn:aws-cn:iam::${ACCOUNT}:root`,
    });
  });

  it('needs only the root statement when no builders or users are configured', () => {
    expect(newKeyPolicy({ ...settings, builderArns: [], userArns: [] })).toEqual({
      Version: '2012-10-17',
      Id: 'tunevault-key-policy',
      Statement: [
        {
          Sid: SID.root,
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    });
  });

  it.each([
    ['a Deny', { Effect: 'Deny' }],
    ['a * principal', { Principal: '*' }],
    ['a service principal', { Principal: { Service: 'bedrock.amazonaws.com' } }],
    ['NotAction', { NotAction: 'kms:Encrypt' }],
    ['NotPrincipal', { NotPrincipal: { AWS: BUILDER } }],
  ])('refuses to manage a statement under its own Sid that is %s', (_label, over) => {
    const policy = { Version: '2012-10-17', Statement: [defaultRoot, { ...builders, ...over }] } as KeyPolicy;
    expect(() => mergeKeyPolicy(policy, settings)).toThrow(
      new KeyPolicyError(
        `Key policy statement '${SID.builders}' exists but is not an Allow for AWS principals; rename or fix it so TuneVault can manage it.`,
      ),
    );
  });

  it('leaves the input policy object unchanged', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [defaultRoot, { ...builders, Action: 'kms:Decrypt' }],
    } as KeyPolicy;
    const copy = structuredClone(policy);
    mergeKeyPolicy(policy, settings);
    expect(policy).toEqual(copy);
  });
});

/** KMS and the lease table in memory, with AWS's answers (AlreadyExists on a taken alias, conditional lease). */
function bootstrapWorld(opts: { leaseMs?: number; remainingMs?: number } = {}) {
  const keys = new Map<string, KeyInfo>();
  const tags = new Map<string, Record<string, string>>();
  const aliases = new Map<string, string>();
  const leases = new Map<string, KeyLease>();
  const calls = {
    createKey: 0,
    scheduleDeletion: [] as string[],
    findKeysTagged: 0,
    getLease: 0,
    acquireLease: 0,
  };
  let n = 0;
  const yieldNow = () => new Promise((r) => setImmediate(r));
  const kms: KeyPorts = {
    describeKey: async (id) => {
      await yieldNow();
      return keys.get(aliases.get(id) ?? id);
    },
    createKey: async (input) => {
      await yieldNow();
      calls.createKey += 1;
      const keyId = `key-${++n}`;
      const key = healthyKey({ keyId, keyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${keyId}` });
      keys.set(keyId, key);
      tags.set(keyId, { ...input.tags });
      return key;
    },
    createAlias: async (alias, keyId) => {
      await yieldNow();
      if (aliases.has(alias)) return 'exists';
      aliases.set(alias, keyId);
      return 'created';
    },
    getKeyPolicy: async () => JSON.stringify({ Version: '2012-10-17', Statement: [defaultRoot] }),
    putKeyPolicy: async () => undefined,
    isRotationEnabled: async () => true,
    enableRotation: async () => undefined,
    tagKey: async (id, t) => {
      tags.set(id, { ...tags.get(id), ...t });
    },
    scheduleDeletion: async (id) => {
      calls.scheduleDeletion.push(id);
      const key = keys.get(id);
      if (key) keys.set(id, { ...key, keyState: 'PendingDeletion' });
    },
    findKeysTagged: async (k, v) => {
      calls.findKeysTagged += 1;
      return [...keys.values()].filter((key) => tags.get(key.keyId)?.[k] === v);
    },
  };
  let holders = 0;
  const lease = (): LeasePorts => {
    const started = Date.now();
    return {
      getLease: async (name) => {
        await yieldNow();
        calls.getLease += 1;
        const current = leases.get(name);
        return current ? { ...current } : undefined;
      },
      acquireLease: async (name, holder, leaseUntil, now) => {
        await yieldNow();
        calls.acquireLease += 1;
        const current = leases.get(name);
        if (current && current.leaseUntil >= now) return { acquired: false, current: { ...current } };
        leases.set(name, { holder, leaseUntil });
        return current ? { acquired: true, previous: current } : { acquired: true };
      },
      recordLeaseKey: async (name, holder, keyId) => {
        const l = leases.get(name);
        if (l?.holder !== holder) return false;
        l.keyId = keyId;
        return true;
      },
      abandonLease: async (name, holder) => {
        const l = leases.get(name);
        if (l?.holder !== holder) return false;
        l.leaseUntil = 0;
        l.abandoned = true;
        return true;
      },
      releaseLease: async (name, holder) => leases.get(name)?.holder === holder && leases.delete(name),
      now: () => Date.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      newHolderToken: () => `holder-${++holders}`,
      remainingMs: () => (opts.remainingMs ?? 30_000) - (Date.now() - started),
    };
  };
  const s = { ...settings, userArns: [], bootstrap: 'lease' as const, leaseMs: opts.leaseMs ?? 60_000 };
  return { keys, tags, aliases, leases, calls, kms, lease, s };
}

describe('key bootstrap under the lease', () => {
  it('20 first runs at once: exactly one CreateKey, every run gets that key, no orphan', async () => {
    const w = bootstrapWorld();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => ensureCustomerManagedKey(w.s, w.kms, w.lease())),
    );
    expect(w.calls.createKey).toBe(1);
    expect(new Set(results.map((r) => r.keyArn)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(w.calls.scheduleDeletion).toEqual([]);
    expect(w.aliases.get(settings.alias)).toBe('key-1');
    expect(w.tags.get('key-1')).toMatchObject({ 'tunevault:alias': settings.alias, [LEASE_TAG]: 'holder-1' });
    expect(w.leases.size).toBe(0); // released
  });

  it('a run that finds a live lease waits for the alias without writing to the lease', async () => {
    const w = bootstrapWorld();
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'busy', leaseUntil: Date.now() + 60_000 });
    const waiting = ensureCustomerManagedKey(w.s, w.kms, w.lease());
    // The holder finishes: its key and alias appear, its lease goes.
    const made = await w.kms.createKey({ description: 'x', policy: '{}', tags: {} });
    await w.kms.createAlias(settings.alias, made.keyId);
    w.leases.delete(`kms-key:${settings.alias}`);
    const result = await waiting;
    expect(result).toMatchObject({ keyId: made.keyId, created: false });
    expect(w.calls.getLease).toBe(1);
    expect(w.calls.acquireLease).toBe(0);
  });

  it('adopts the key a holder that died had recorded: no second CreateKey', async () => {
    const w = bootstrapWorld();
    await w.kms.createKey({ description: 'x', policy: '{}', tags: { 'tunevault:alias': settings.alias } });
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'dead', leaseUntil: Date.now() - 1, keyId: 'key-1' });
    const result = await ensureCustomerManagedKey(w.s, w.kms, w.lease());
    expect(result).toMatchObject({ keyId: 'key-1', created: true, adopted: true });
    expect(w.calls.createKey).toBe(1); // only the dead holder's
    expect(w.aliases.get(settings.alias)).toBe('key-1');
  });

  it('finds by its lease tag the key of a holder that died before recording it, and adopts it', async () => {
    const w = bootstrapWorld();
    await w.kms.createKey({ description: 'x', policy: '{}', tags: { [LEASE_TAG]: 'dead' } });
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'dead', leaseUntil: Date.now() - 1 });
    const result = await ensureCustomerManagedKey(w.s, w.kms, w.lease());
    expect(w.calls.findKeysTagged).toBe(1);
    expect(result).toMatchObject({ keyId: 'key-1', adopted: true });
  });

  it('retires (tags, schedules for deletion) a dead holder’s unusable key and creates a good one', async () => {
    const w = bootstrapWorld();
    await w.kms.createKey({ description: 'x', policy: '{}', tags: {} });
    w.keys.set('key-1', healthyKey({ keyId: 'key-1', keyState: 'Disabled' }));
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'dead', leaseUntil: Date.now() - 1, keyId: 'key-1' });
    const result = await ensureCustomerManagedKey(w.s, w.kms, w.lease());
    expect(result).toMatchObject({ keyId: 'key-2', created: true });
    expect(result.adopted).toBeUndefined();
    expect(w.tags.get('key-1')).toMatchObject({
      'tunevault:orphan': 'true',
      'tunevault:orphan-reason': 'bootstrap holder died',
    });
    expect(w.calls.scheduleDeletion).toEqual(['key-1']);
  });

  it('waits for a live holder until its lease ends, then takes over (a dead holder blocks only its TTL)', async () => {
    const w = bootstrapWorld({ leaseMs: 300 });
    const until = Date.now() + 300;
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'stuck', leaseUntil: until });
    const result = await ensureCustomerManagedKey(w.s, w.kms, w.lease());
    expect(Date.now()).toBeGreaterThan(until);
    expect(result).toMatchObject({ created: true });
    expect(w.calls.findKeysTagged).toBe(1); // it looked for a key the stuck holder might have made
  });

  it('a holder that fails gives the lease up at once; the next run adopts its key without waiting for the TTL', async () => {
    const w = bootstrapWorld({ leaseMs: 60_000 });
    const failing = { ...w.kms, createAlias: async () => Promise.reject(new Error('network down')) };
    await expect(ensureCustomerManagedKey(w.s, failing, w.lease())).rejects.toThrow('network down');
    expect(w.leases.get(`kms-key:${settings.alias}`)).toMatchObject({ keyId: 'key-1', abandoned: true });
    const started = Date.now();
    const result = await ensureCustomerManagedKey(w.s, w.kms, w.lease());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ keyId: 'key-1', adopted: true });
    expect(w.calls.createKey).toBe(1);
  });

  it('stops waiting before its invocation ends with KeyBootstrapInProgressError (the ASL retries it)', async () => {
    const w = bootstrapWorld({ remainingMs: 3_500 });
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'busy', leaseUntil: Date.now() + 60_000 });
    const attempt = ensureCustomerManagedKey(w.s, w.kms, w.lease());
    await expect(attempt).rejects.toBeInstanceOf(KeyBootstrapInProgressError);
    expect(w.calls.createKey).toBe(0);
  });
});

describe("key bootstrap under the lease: adopting a dead holder's key", () => {
  const arnOf = (keyId: string) => `arn:aws:kms:us-east-1:${ACCOUNT}:key/${keyId}`;
  /** A lease left by a holder that died after recording its key `key-dead`. */
  function deadHolderWorld() {
    const w = bootstrapWorld();
    w.keys.set('key-dead', healthyKey({ keyId: 'key-dead', keyArn: arnOf('key-dead') }));
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'dead', leaseUntil: 1, keyId: 'key-dead' });
    return w;
  }

  it('adopts the recorded key and aliases it: one key, none created, none retired', async () => {
    const w = deadHolderWorld();
    const result = await ensureCustomerManagedKey(w.s, w.kms, w.lease());
    expect(result).toMatchObject({ keyId: 'key-dead', created: true, adopted: true });
    expect(w.aliases.get(settings.alias)).toBe('key-dead');
    expect(w.calls.createKey).toBe(0);
    expect(w.calls.scheduleDeletion).toEqual([]);
  });

  it('when another run aliased its own key meanwhile, uses that one and retires the adopted key as an orphan', async () => {
    const w = deadHolderWorld();
    w.keys.set('key-winner', healthyKey({ keyId: 'key-winner', keyArn: arnOf('key-winner') }));
    const createAlias = w.kms.createAlias;
    const kms: KeyPorts = {
      ...w.kms,
      createAlias: async (alias, keyId) => {
        w.aliases.set(alias, 'key-winner'); // the other run got there first
        return createAlias(alias, keyId);
      },
    };
    const result = await ensureCustomerManagedKey(w.s, kms, w.lease());
    expect(result).toMatchObject({ keyArn: arnOf('key-winner'), created: false });
    expect(result).not.toHaveProperty('adopted', true);
    expect(w.calls.scheduleDeletion).toEqual(['key-dead']);
    expect(w.tags.get('key-dead')).toMatchObject({
      'tunevault:orphan': 'true',
      'tunevault:orphan-reason': 'lost alias race',
    });
  });

  it('fails clearly when the alias exists after the adoption but resolves to no key', async () => {
    const w = deadHolderWorld();
    const kms: KeyPorts = { ...w.kms, createAlias: async () => 'exists' };
    const attempt = ensureCustomerManagedKey(w.s, kms, w.lease());
    await expect(attempt).rejects.toBeInstanceOf(KeyNotUsableError);
    await expect(attempt).rejects.toThrow(`Alias ${settings.alias} exists but resolves to no key.`);
  });
});

describe('a reused key the stack may not change', () => {
  const denied = () =>
    Object.assign(new Error('User is not authorized to perform kms:EnableKeyRotation'), {
      name: 'AccessDeniedException',
    });

  it('an AccessDenied on turning rotation on becomes KeyPolicyError saying what to do', async () => {
    const { ports } = fakePorts(healthyKey(), { Statement: [defaultRoot, builders] });
    ports.isRotationEnabled = async () => false;
    ports.enableRotation = async () => {
      throw denied();
    };
    const attempt = ensureCustomerManagedKey({ ...settings, userArns: [] }, ports);
    await expect(attempt).rejects.toBeInstanceOf(KeyPolicyError);
    await expect(attempt).rejects.toThrow(
      `KMS key ${KEY_ARN} (alias/tunevault-test) needs automatic rotation enabled, which this stack may do only on keys it created (tag tunevault:stage=test) or the configured keyArn: User is not authorized to perform kms:EnableKeyRotation. Make the change yourself, tag the key, or deploy with --param="keyArn=${KEY_ARN}".`,
    );
  });

  it('an AccessDenied on the key policy names every statement it would add', async () => {
    const { ports } = fakePorts(healthyKey(), { Statement: [defaultRoot] });
    ports.putKeyPolicy = async () => {
      throw denied();
    };
    await expect(ensureCustomerManagedKey(settings, ports)).rejects.toThrow(
      `needs the statements ${SID.builders}, ${SID.users} in its key policy, which this stack may do only`,
    );
  });

  it('names the configured keyArn, and keeps any other error as it is', async () => {
    const { ports } = fakePorts(healthyKey(), { Statement: [defaultRoot] });
    ports.putKeyPolicy = async () => {
      throw denied();
    };
    await expect(ensureCustomerManagedKey({ ...settings, keyArn: KEY_ARN }, ports)).rejects.toThrow(
      `KMS key ${KEY_ARN} (configured keyArn) needs the statements`,
    );
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    ports.putKeyPolicy = async () => {
      throw throttled;
    };
    await expect(ensureCustomerManagedKey({ ...settings, keyArn: KEY_ARN }, ports)).rejects.toBe(throttled);
  });
});

describe('key bootstrap: the paths between the usual ones', () => {
  const arnOf = (keyId: string) => `arn:aws:kms:us-east-1:${ACCOUNT}:key/${keyId}`;

  it("tags each key it creates under a lease with 'tunevault:bootstrap-lease', the tag a successor searches for", () => {
    expect(LEASE_TAG).toBe('tunevault:bootstrap-lease');
  });

  it('without lease ports, creates and aliases the key directly (the alias race decides)', async () => {
    const w = bootstrapWorld();
    const result = await ensureCustomerManagedKey(w.s, w.kms);
    expect(result).toMatchObject({ keyId: 'key-1', created: true });
    expect(w.aliases.get(settings.alias)).toBe('key-1');
    expect(w.leases.size).toBe(0);
  });

  it('creates a key when the one a dead holder recorded no longer exists', async () => {
    const w = bootstrapWorld();
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'dead', leaseUntil: 1, keyId: 'key-gone' });
    const result = await ensureCustomerManagedKey(w.s, w.kms, w.lease());
    expect(result).toMatchObject({ keyId: 'key-1', created: true });
    expect(w.calls.scheduleDeletion).toEqual([]);
  });

  it("with bootstrap 'alias-race', ignores the lease ports and lets the alias race decide", async () => {
    const w = bootstrapWorld();
    const result = await ensureCustomerManagedKey({ ...w.s, bootstrap: 'alias-race' }, w.kms, w.lease());
    expect(result).toMatchObject({ keyId: 'key-1', created: true });
    expect(w.calls.getLease + w.calls.acquireLease).toBe(0);
  });

  it('keeps its own key when the alias it lost to points at that very key (a successor adopted it)', async () => {
    const w = bootstrapWorld();
    const kms: KeyPorts = {
      ...w.kms,
      createAlias: async (alias, keyId) => {
        w.aliases.set(alias, keyId); // a successor aliased our key while we were slow
        return 'exists';
      },
    };
    const result = await ensureCustomerManagedKey(w.s, kms);
    expect(result).toMatchObject({ keyId: 'key-1', created: true });
    expect(w.calls.scheduleDeletion).toEqual([]);
  });

  it("does not schedule the deletion of a dead holder's key that is already pending deletion, but still tags it", async () => {
    const w = bootstrapWorld();
    w.keys.set(
      'key-dead',
      healthyKey({ keyId: 'key-dead', keyArn: arnOf('key-dead'), keyState: 'PendingDeletion' }),
    );
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'dead', leaseUntil: 1, keyId: 'key-dead' });
    const result = await ensureCustomerManagedKey(w.s, w.kms, w.lease());
    expect(result).toMatchObject({ keyId: 'key-1', created: true });
    expect(w.calls.scheduleDeletion).toEqual([]);
    expect(w.tags.get('key-dead')).toMatchObject({ 'tunevault:orphan': 'true' });
  });

  it('keeps an adopted key when the alias already points at it', async () => {
    const w = bootstrapWorld();
    w.keys.set('key-dead', healthyKey({ keyId: 'key-dead', keyArn: arnOf('key-dead') }));
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'dead', leaseUntil: 1, keyId: 'key-dead' });
    const kms: KeyPorts = {
      ...w.kms,
      createAlias: async (alias, keyId) => {
        w.aliases.set(alias, keyId); // another successor aliased the same adopted key
        return 'exists';
      },
    };
    const result = await ensureCustomerManagedKey(w.s, kms, w.lease());
    expect(result).toMatchObject({ keyId: 'key-dead', created: false });
    expect(w.calls.scheduleDeletion).toEqual([]);
  });

  it('uses the key a holder finished between the alias lookup and taking the lease, creating none', async () => {
    const w = bootstrapWorld();
    w.keys.set('key-done', healthyKey({ keyId: 'key-done', keyArn: arnOf('key-done') }));
    let lookups = 0;
    const kms: KeyPorts = {
      ...w.kms,
      describeKey: async (id) => {
        if (id !== settings.alias) return w.kms.describeKey(id);
        lookups += 1;
        return lookups === 1 ? undefined : w.keys.get('key-done'); // the first lookup is before the lease
      },
    };
    const result = await ensureCustomerManagedKey(w.s, kms, w.lease());
    expect(result).toMatchObject({ keyId: 'key-done', created: false });
    expect(w.calls.createKey).toBe(0);
    expect(w.leases.size).toBe(0);
  });
});

describe('key policy: a TuneVault statement edited by hand', () => {
  const withBuilders = (statement: Record<string, unknown>) =>
    ({ Version: '2012-10-17', Statement: [defaultRoot, statement] }) as unknown as KeyPolicy;

  it('gets back every action when its Action was removed', () => {
    const { Action: _removed, ...noAction } = builders;
    const merged = mergeKeyPolicy(withBuilders(noAction), { ...settings, userArns: [] });
    expect(merged.changed).toBe(true);
    expect(merged.added).toEqual([`${SID.builders}(+${builders.Action.join(',')})`]);
    expect(merged.policy.Statement.find((s) => s.Sid === SID.builders)?.Action).toEqual(builders.Action);
  });

  it('gets exactly the required actions back when one was swapped for another (same count)', () => {
    const swapped = { ...builders, Action: [...builders.Action.slice(0, 3), 'kms:Encrypt'] };
    const merged = mergeKeyPolicy(withBuilders(swapped), { ...settings, userArns: [] });
    expect(merged.added).toEqual([`${SID.builders}(+kms:CreateGrant)`, `${SID.builders}(-kms:Encrypt)`]);
    expect(merged.policy.Statement.find((s) => s.Sid === SID.builders)?.Action).toEqual(builders.Action);
  });

  it('is refused, not merged, when it carries a NotResource', () => {
    expect(() =>
      mergeKeyPolicy(withBuilders({ ...builders, NotResource: 'arn:aws:kms:*:*:key/other' }), {
        ...settings,
        userArns: [],
      }),
    ).toThrow(`Key policy statement '${SID.builders}' exists but is not an Allow for AWS principals`);
  });
});

describe('key bootstrap under the lease: the wait, on a virtual clock', () => {
  /** bootstrapWorld's lease ports with time that moves only when the code sleeps. */
  function clocked(w: ReturnType<typeof bootstrapWorld>, remainingMs: number) {
    const t0 = 1_000_000;
    let t = t0;
    const sleeps: number[] = [];
    const lease: LeasePorts = {
      ...w.lease(),
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
      remainingMs: () => remainingMs - (t - t0),
    };
    return { lease, sleeps, t0 };
  }

  it('backs off 50 ms doubling to 250 ms, and gives up 3 s before its invocation ends', async () => {
    const w = bootstrapWorld();
    const c = clocked(w, 5_000);
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'busy', leaseUntil: c.t0 + 60_000 });
    const attempt = ensureCustomerManagedKey(w.s, w.kms, c.lease);
    await expect(attempt).rejects.toBeInstanceOf(KeyBootstrapInProgressError);
    await expect(attempt).rejects.toThrow(
      `Another run is creating the key for ${settings.alias} (its lease ends ${new Date(c.t0 + 60_000).toISOString()}); this step is retried.`,
    );
    // Deadline: 5 s left - 3 s margin = 2 s, the last sleep cut to end on it.
    expect(c.sleeps).toEqual([50, 100, 200, 250, 250, 250, 250, 250, 250, 150]);
  });

  it('waits at least 1 s even when the invocation has less than the margin left', async () => {
    const w = bootstrapWorld();
    const c = clocked(w, 2_000);
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'busy', leaseUntil: c.t0 + 60_000 });
    await expect(ensureCustomerManagedKey(w.s, w.kms, c.lease)).rejects.toBeInstanceOf(
      KeyBootstrapInProgressError,
    );
    expect(c.sleeps.reduce((a, b) => a + b, 0)).toBe(1_000);
  });

  it('reads the lease again only once its end has passed, then takes it over', async () => {
    const w = bootstrapWorld();
    const c = clocked(w, 30_000);
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'stuck', leaseUntil: c.t0 + 350 });
    const result = await ensureCustomerManagedKey(w.s, w.kms, c.lease);
    expect(result).toMatchObject({ created: true });
    // Still live at exactly its end (350 ms): one more sleep before the second read.
    expect(c.sleeps).toEqual([50, 100, 200, 250]);
    expect(w.calls.getLease).toBe(2);
    expect(w.calls.acquireLease).toBe(1);
  });

  it('a lease that ends at this very moment is still live: waited on, not written against', async () => {
    const w = bootstrapWorld();
    const c = clocked(w, 30_000);
    w.leases.set(`kms-key:${settings.alias}`, { holder: 'stuck', leaseUntil: c.t0 });
    await ensureCustomerManagedKey(w.s, w.kms, c.lease);
    expect(c.sleeps).toEqual([50]);
    expect(w.calls.acquireLease).toBe(1);
  });
});
