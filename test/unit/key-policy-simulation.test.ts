/**
 * README promise "The key policy means what it says": what the key policy TuneVault writes actually
 * permits, decided by a real IAM policy evaluator (@cloud-copilot/iam-simulate), not by reading the
 * JSON: builders encrypt and users decrypt, only through Bedrock; nobody else gets in; the account
 * keeps administering the key. Also after a merge into a policy whose TuneVault statements someone
 * narrowed, widened or stripped of the kms:ViaService condition.
 */
import {
  anonymousPrincipal,
  runSimulation,
  type Simulation,
  type SimulationRequestPrincipal,
} from '@cloud-copilot/iam-simulate';
import {
  type KeyPolicy,
  mergeKeyPolicy,
  newKeyPolicy,
  type PolicyParties,
  type PolicyStatement,
  SID,
} from '../../functions/ensure-customer-managed-key/policy';

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const REGION = 'us-east-1';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const BUILDER = `arn:aws:iam::${ACCOUNT}:role/ml-engineers`;
const USER = `arn:aws:iam::${ACCOUNT}:role/chat-app`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/key-admins`;
const STRANGER = `arn:aws:iam::${OTHER_ACCOUNT}:role/ml-engineers`;

const VIA_BEDROCK = { 'kms:ViaService': `bedrock.${REGION}.amazonaws.com` };
const VIA_S3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
const DIRECT = {};

const BUILDER_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant'];
const ADMIN_ACTIONS = [
  'kms:PutKeyPolicy',
  'kms:ScheduleKeyDeletion',
  'kms:EnableKeyRotation',
  'kms:DisableKey',
];

const parties: PolicyParties = {
  accountId: ACCOUNT,
  region: REGION,
  builderArns: [BUILDER],
  userArns: [USER],
};

/** An identity policy that allows every KMS action on every key (what an admin role would have). */
const allKms = {
  name: 'AllKms',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] },
};

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

async function decide(
  keyPolicy: KeyPolicy,
  principal: SimulationRequestPrincipal,
  action: string,
  context: Record<string, string>,
  identityPolicies: Simulation['identityPolicies'] = [],
): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource: KEY_ARN, accountId: ACCOUNT },
        contextVariables: context,
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: keyPolicy,
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation error: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

/** AWS's default key policy, plus a statement someone else added for their own service role. */
const existingPolicy: KeyPolicy = {
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: ROOT },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      Sid: 'ReportingReadsThroughS3',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/reporting` },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: VIA_S3 },
    },
  ],
};

const VIA = { StringEquals: VIA_BEDROCK };
const buildersStatement = (over: Partial<PolicyStatement>): PolicyStatement => ({
  Sid: SID.builders,
  Effect: 'Allow',
  Principal: { AWS: [BUILDER] },
  Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:CreateGrant'],
  Resource: '*',
  Condition: VIA,
  ...over,
});
const usersStatement = (over: Partial<PolicyStatement>): PolicyStatement => ({
  Sid: SID.users,
  Effect: 'Allow',
  Principal: { AWS: [USER] },
  Action: ['kms:Decrypt'],
  Resource: '*',
  Condition: VIA,
  ...over,
});
const withTuneVault = (...statements: PolicyStatement[]): KeyPolicy => ({
  ...existingPolicy,
  Statement: [...existingPolicy.Statement, ...statements],
});

/** Policies that already hold TuneVault's statements, changed by someone since. */
const drifted: [string, KeyPolicy, string[]][] = [
  [
    'narrowed (builders lost GenerateDataKey and CreateGrant; users lost the configured user)',
    withTuneVault(
      buildersStatement({ Action: ['kms:Decrypt', 'kms:DescribeKey'] }),
      usersStatement({ Principal: { AWS: [ADMIN] } }),
    ),
    [`${SID.builders}(+kms:GenerateDataKey,kms:CreateGrant)`, `${SID.users}(+${USER})`],
  ],
  [
    'widened (users may Encrypt and ReEncrypt, builders kms:*)',
    withTuneVault(
      buildersStatement({ Action: 'kms:*' }),
      usersStatement({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*'] }),
    ),
    [
      `${SID.builders}(+kms:Decrypt,kms:GenerateDataKey,kms:DescribeKey,kms:CreateGrant)`,
      `${SID.builders}(-kms:*)`,
      `${SID.users}(-kms:Encrypt,kms:ReEncrypt*)`,
    ],
  ],
  [
    'stripped of kms:ViaService (users: no condition; builders: through S3 instead of Bedrock)',
    withTuneVault(
      buildersStatement({ Condition: { StringEquals: VIA_S3 } }),
      (({ Condition: _none, ...rest }) => rest)(usersStatement({})),
    ),
    [
      `${SID.builders}(kms:ViaService=bedrock.${REGION}.amazonaws.com)`,
      `${SID.users}(kms:ViaService=bedrock.${REGION}.amazonaws.com)`,
    ],
  ],
];

const policies: [string, KeyPolicy][] = [
  ['the policy of a key TuneVault creates (newKeyPolicy)', newKeyPolicy(parties)],
  ['an existing default key policy after mergeKeyPolicy', mergeKeyPolicy(existingPolicy, parties).policy],
  ...drifted.map(([name, policy]): [string, KeyPolicy] => [
    `a policy whose TuneVault statements were ${name}, after mergeKeyPolicy`,
    mergeKeyPolicy(policy, parties).policy,
  ]),
];

describe.each(policies)('%s, evaluated by iam-simulate', (_name, policy) => {
  it.each(BUILDER_ACTIONS)('a builder may %s via Bedrock', async (action) => {
    expect(await decide(policy, BUILDER, action, VIA_BEDROCK)).toBe('Allowed');
  });

  it.each(BUILDER_ACTIONS)('a builder may not %s directly or via S3', async (action) => {
    expect(await decide(policy, BUILDER, action, DIRECT)).not.toBe('Allowed');
    expect(await decide(policy, BUILDER, action, VIA_S3)).not.toBe('Allowed');
  });

  it('a builder may not Encrypt or ReEncrypt, even via Bedrock', async () => {
    expect(await decide(policy, BUILDER, 'kms:Encrypt', VIA_BEDROCK)).not.toBe('Allowed');
    expect(await decide(policy, BUILDER, 'kms:ReEncryptFrom', VIA_BEDROCK)).not.toBe('Allowed');
  });

  it('a user may Decrypt via Bedrock and nothing else', async () => {
    expect(await decide(policy, USER, 'kms:Decrypt', VIA_BEDROCK)).toBe('Allowed');
    for (const action of ['kms:GenerateDataKey', 'kms:CreateGrant', 'kms:Encrypt', 'kms:DescribeKey'])
      expect(await decide(policy, USER, action, VIA_BEDROCK)).not.toBe('Allowed');
  });

  it('a user may not Decrypt directly or via S3', async () => {
    expect(await decide(policy, USER, 'kms:Decrypt', DIRECT)).not.toBe('Allowed');
    expect(await decide(policy, USER, 'kms:Decrypt', VIA_S3)).not.toBe('Allowed');
  });

  it("another account's principal is denied, even with its own kms:* identity policy", async () => {
    for (const action of [...BUILDER_ACTIONS, 'kms:PutKeyPolicy']) {
      expect(await decide(policy, STRANGER, action, VIA_BEDROCK)).not.toBe('Allowed');
      expect(await decide(policy, STRANGER, action, VIA_BEDROCK, [allKms])).not.toBe('Allowed');
    }
  });

  it('an anonymous caller is denied', async () => {
    for (const action of [...BUILDER_ACTIONS, 'kms:PutKeyPolicy'])
      expect(await decide(policy, anonymousPrincipal, action, VIA_BEDROCK)).not.toBe('Allowed');
  });

  it.each(ADMIN_ACTIONS)('the account keeps administration: %s through IAM delegation', async (action) => {
    // The root statement delegates to IAM: an identity policy in the account decides.
    expect(await decide(policy, ROOT, action, DIRECT, [allKms])).toBe('Allowed');
    expect(await decide(policy, ADMIN, action, DIRECT, [allKms])).toBe('Allowed');
    // Without one, an account principal that the key policy does not name gets nothing.
    expect(await decide(policy, ADMIN, action, DIRECT)).not.toBe('Allowed');
  });

  it('has no Allow for a * principal', () => {
    for (const s of policy.Statement) {
      if (s.Effect !== 'Allow') continue;
      expect(s.Principal).not.toBe('*');
      const aws = 'AWS' in (s.Principal as object) ? (s.Principal as { AWS: string | string[] }).AWS : [];
      expect([aws].flat()).not.toContain('*');
    }
  });
});

describe('the evaluator is not vacuous', () => {
  it('without the kms:ViaService condition, the same statements would let a builder use the key directly', async () => {
    const loose = newKeyPolicy(parties);
    for (const s of loose.Statement) delete s.Condition;
    expect(await decide(loose, BUILDER, 'kms:Decrypt', DIRECT)).toBe('Allowed');
    expect(await decide(loose, USER, 'kms:Decrypt', VIA_S3)).toBe('Allowed');
  });

  it('a * principal would let another account in', async () => {
    const open = newKeyPolicy(parties);
    open.Statement.push({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' });
    expect(await decide(open, STRANGER, 'kms:Decrypt', DIRECT, [allKms])).toBe('Allowed');
  });
});

describe('merging keeps what others granted', () => {
  it('the existing reporting role keeps its S3 decrypt and gains no Bedrock access', async () => {
    const merged = mergeKeyPolicy(existingPolicy, parties).policy;
    const reporting = `arn:aws:iam::${ACCOUNT}:role/reporting`;
    expect(await decide(merged, reporting, 'kms:Decrypt', VIA_S3)).toBe('Allowed');
    expect(await decide(merged, reporting, 'kms:GenerateDataKey', VIA_BEDROCK)).not.toBe('Allowed');
  });
});

describe('README "The key policy means what it says": merging into a policy that already holds TuneVault statements', () => {
  it.each(drifted)('%s: reports changed: true and says what it changed', (_name, policy, changes) => {
    const merged = mergeKeyPolicy(policy, parties);
    expect(merged.changed).toBe(true);
    expect(merged.added).toEqual(changes);
  });

  it.each(drifted)(
    '%s: the drifted policy itself breaks the promise (the cases are not vacuous)',
    async (_name, policy) => {
      const broken = await Promise.all([
        decide(policy, BUILDER, 'kms:GenerateDataKey', VIA_BEDROCK),
        decide(policy, USER, 'kms:Decrypt', VIA_BEDROCK),
        decide(policy, USER, 'kms:Encrypt', VIA_BEDROCK),
        decide(policy, USER, 'kms:Decrypt', DIRECT),
        decide(policy, BUILDER, 'kms:Decrypt', VIA_S3),
      ]);
      expect(broken).not.toEqual([
        'Allowed',
        'Allowed',
        'ImplicitlyDenied',
        'ImplicitlyDenied',
        'ImplicitlyDenied',
      ]);
    },
  );

  it('keeps a principal someone added to a TuneVault statement, and the statements of others untouched', () => {
    const [, narrowed] = drifted[0]!;
    const merged = mergeKeyPolicy(narrowed, parties).policy;
    const users = merged.Statement.find((s) => s.Sid === SID.users);
    expect(users?.Principal).toEqual({ AWS: [ADMIN, USER] });
    expect(merged.Statement.slice(0, 2)).toEqual(existingPolicy.Statement);
  });

  it('keeps a narrowing condition someone added next to kms:ViaService', () => {
    const extra = { StringEquals: { ...VIA_BEDROCK, 'aws:PrincipalTag/team': 'ml' } };
    const policy = withTuneVault(buildersStatement({ Condition: extra }), usersStatement({}));
    const merged = mergeKeyPolicy(policy, parties);
    expect(merged.changed).toBe(false);
    expect(merged.policy.Statement.find((s) => s.Sid === SID.builders)?.Condition).toEqual(extra);
  });

  it('merging the merged policy again changes nothing', () => {
    for (const [, policy] of drifted) {
      const once = mergeKeyPolicy(policy, parties).policy;
      expect(mergeKeyPolicy(once, parties)).toEqual({ policy: once, changed: false, added: [] });
    }
  });
});
