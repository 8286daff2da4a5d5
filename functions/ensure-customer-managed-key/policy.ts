/**
 * The key policy Bedrock's guide asks for: the account root administers the key; builders may
 * encrypt (and grant to Bedrock), users may only decrypt — both only through Bedrock.
 * Merging adds what is missing and never removes or narrows anyone else's statement.
 */
import { KeyPolicyError } from '../shared/errors';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: { AWS: string | string[] } | { Service: string | string[] } | '*';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface KeyPolicy {
  Version: string;
  Id?: string;
  Statement: PolicyStatement[];
}

export const SID = {
  root: 'EnableRootAccountAdministration',
  builders: 'TuneVaultBuildersEncryptViaBedrock',
  users: 'TuneVaultUsersDecryptViaBedrock',
} as const;

export const BUILDER_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:CreateGrant'];
export const USER_ACTIONS = ['kms:Decrypt'];

export interface PolicyParties {
  accountId: string;
  region: string;
  partition?: string;
  builderArns: string[];
  userArns: string[];
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];
const rootArn = (p: PolicyParties) => `arn:${p.partition ?? 'aws'}:iam::${p.accountId}:root`;
const viaBedrock = (p: PolicyParties) => ({
  StringEquals: { 'kms:ViaService': `bedrock.${p.region}.amazonaws.com` },
});

/** The statements TuneVault needs, in the order they should appear. */
export function requiredStatements(p: PolicyParties): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    { Sid: SID.root, Effect: 'Allow', Principal: { AWS: rootArn(p) }, Action: 'kms:*', Resource: '*' },
  ];
  if (p.builderArns.length > 0) {
    statements.push({
      Sid: SID.builders,
      Effect: 'Allow',
      Principal: { AWS: [...p.builderArns] },
      Action: [...BUILDER_ACTIONS],
      Resource: '*',
      Condition: viaBedrock(p),
    });
  }
  if (p.userArns.length > 0) {
    statements.push({
      Sid: SID.users,
      Effect: 'Allow',
      Principal: { AWS: [...p.userArns] },
      Action: [...USER_ACTIONS],
      Resource: '*',
      Condition: viaBedrock(p),
    });
  }
  return statements;
}

export function newKeyPolicy(p: PolicyParties): KeyPolicy {
  return { Version: '2012-10-17', Id: 'tunevault-key-policy', Statement: requiredStatements(p) };
}

/** AWS's default key policy (and most hand-written ones) give root `kms:*` under another Sid. */
function grantsRootAdministration(s: PolicyStatement, root: string, accountId: string): boolean {
  if (s.Effect !== 'Allow' || s.Condition || s.Principal === '*' || !('AWS' in s.Principal)) return false;
  const principals = list(s.Principal.AWS);
  const actions = list(s.Action);
  return (
    (principals.includes(root) || principals.includes(accountId)) &&
    (actions.includes('kms:*') || actions.includes('*'))
  );
}

export function parseKeyPolicy(json: string): KeyPolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new KeyPolicyError(
      'The key policy is not valid JSON; fix it in KMS before TuneVault can merge its statements.',
    );
  }
  const statement = (parsed as { Statement?: unknown })?.Statement;
  if (!parsed || typeof parsed !== 'object' || statement === undefined) {
    throw new KeyPolicyError(
      'The key policy has no Statement list; fix it in KMS before TuneVault can merge its statements.',
    );
  }
  const policy = parsed as KeyPolicy;
  return {
    ...policy,
    Statement: Array.isArray(statement) ? (statement as PolicyStatement[]) : [statement as PolicyStatement],
  };
}

export interface MergeResult {
  policy: KeyPolicy;
  changed: boolean;
  /** Sids added, or `Sid(+principals/actions)` for widened ones. */
  added: string[];
}

export function mergeKeyPolicy(existing: KeyPolicy, p: PolicyParties): MergeResult {
  const statements = existing.Statement.map((s) => structuredClone(s));
  const added: string[] = [];
  for (const need of requiredStatements(p)) {
    if (need.Sid === SID.root && statements.some((s) => grantsRootAdministration(s, rootArn(p), p.accountId)))
      continue;
    const same = statements.find((s) => s.Sid === need.Sid);
    if (!same) {
      statements.push(need);
      added.push(need.Sid ?? '');
      continue;
    }
    if (same.Effect !== 'Allow' || same.Principal === '*' || !('AWS' in same.Principal)) {
      throw new KeyPolicyError(
        `Key policy statement '${need.Sid}' exists but is not an Allow for AWS principals; rename or fix it so TuneVault can manage it.`,
      );
    }
    const principals = list(same.Principal.AWS);
    const actions = list(same.Action);
    const missingPrincipals = list((need.Principal as { AWS: string | string[] }).AWS).filter(
      (a) => !principals.includes(a),
    );
    const missingActions = list(need.Action).filter((a) => !actions.includes(a));
    if (missingPrincipals.length === 0 && missingActions.length === 0) continue;
    same.Principal = { AWS: [...principals, ...missingPrincipals] };
    same.Action = [...actions, ...missingActions];
    added.push(`${need.Sid}(+${[...missingPrincipals, ...missingActions].join(',')})`);
  }
  return { policy: { ...existing, Statement: statements }, changed: added.length > 0, added };
}
