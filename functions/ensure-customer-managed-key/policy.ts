/**
 * The key policy Bedrock's guide asks for: the account root administers the key; builders may
 * encrypt (and grant to Bedrock), users may only decrypt — both only through Bedrock.
 * Merging adds what is missing and never removes or narrows anyone else's statement; TuneVault's
 * own statements (by Sid) are brought back to exactly what they promise.
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
  /**
   * What changed, by Sid: a Sid alone for an added statement; `Sid(+principals/actions)` for a
   * narrowed one made whole, `Sid(-actions)` for a widened one brought back, and
   * `Sid(kms:ViaService=…)` where the condition was missing or named another service.
   */
  added: string[];
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Brings one of TuneVault's own statements (found by Sid) to what the promise says, and returns
 * what changed. Principals are only added: a role someone put there keeps its access (remove
 * it by hand). The actions become exactly the required ones, since anything more would let
 * users encrypt or builders do what the guide does not ask; the `kms:ViaService` condition is
 * set, so the grant holds only through Bedrock (other conditions only narrow it and are kept).
 */
function reconcile(same: PolicyStatement, need: PolicyStatement): string[] {
  const loose = same as PolicyStatement & Record<string, unknown>;
  if (
    same.Effect !== 'Allow' ||
    same.Principal === '*' ||
    !('AWS' in same.Principal) ||
    loose.NotAction !== undefined ||
    loose.NotPrincipal !== undefined ||
    loose.NotResource !== undefined
  ) {
    throw new KeyPolicyError(
      `Key policy statement '${need.Sid}' exists but is not an Allow for AWS principals; rename or fix it so TuneVault can manage it.`,
    );
  }
  const changes: string[] = [];
  const principals = list(same.Principal.AWS);
  const actions = list(same.Action);
  const wanted = list(need.Action);
  const missingPrincipals = list((need.Principal as { AWS: string | string[] }).AWS).filter(
    (a) => !principals.includes(a),
  );
  const missingActions = wanted.filter((a) => !actions.includes(a));
  const extraActions = actions.filter((a) => !wanted.includes(a));
  if (missingPrincipals.length > 0 || missingActions.length > 0) {
    changes.push(`+${[...missingPrincipals, ...missingActions].join(',')}`);
    same.Principal = { AWS: [...principals, ...missingPrincipals] };
  }
  if (extraActions.length > 0) changes.push(`-${extraActions.join(',')}`);
  if (!sameList(actions, wanted)) same.Action = [...wanted];
  const via = need.Condition?.StringEquals?.['kms:ViaService'];
  const equals = same.Condition?.StringEquals ?? {};
  if (via !== undefined && equals['kms:ViaService'] !== via) {
    same.Condition = { ...same.Condition, StringEquals: { ...equals, 'kms:ViaService': via } };
    changes.push(`kms:ViaService=${via}`);
  }
  return changes.map((c) => `${need.Sid}(${c})`);
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
    added.push(...reconcile(same, need));
  }
  return { policy: { ...existing, Statement: statements }, changed: added.length > 0, added };
}
