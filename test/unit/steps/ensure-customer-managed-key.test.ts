import { ensureCustomerManagedKey, type KeyPorts } from '../../../functions/ensure-customer-managed-key/core';
import { SID } from '../../../functions/ensure-customer-managed-key/policy';
import type { KeyInfo } from '../../../functions/shared/aws/kms';
import { KeyNotUsableError } from '../../../functions/shared/errors';

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
