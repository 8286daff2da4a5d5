/**
 * The identities of the embedded account: the documented administrator, the roles the packaged
 * template creates (with their trust and identity policies), the sessions that assume them, and
 * the Lambda functions' resource policies. Deploy fills it from the template; authentication reads
 * credentials from it; the authorizer reads policies from it at every decision, so a test (or
 * `npm run prove:iam`) that edits a role's policy changes what is allowed at once.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Credential, NamedPolicy, PolicyDocument, PolicyStatement, Principal } from './types';

export const ADMIN_ACCESS_KEY_ID = 'test';
export const ADMIN_SECRET_ACCESS_KEY = 'test';
export const ADMIN_USER_NAME = 'tunevault-admin';

/** AdministratorAccess, as the AWS managed policy of that name states it. */
const ADMINISTRATOR_ACCESS: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

export interface Role {
  name: string;
  arn: string;
  /** `AROA…`, the unique id AWS shows in `aws:userid` of the role's sessions. */
  roleId: string;
  trustPolicy: PolicyDocument;
  policies: NamedPolicy[];
}

export interface Session {
  credential: Credential;
  principal: Principal;
}

function statements(doc: PolicyDocument): PolicyStatement[] {
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

export class IamRegistry {
  private readonly roles = new Map<string, Role>();
  /** Bumped by every change of a role or a function policy: cached decisions older than it are void. */
  version = 0;
  private readonly sessionsByKey = new Map<string, Session>();
  private readonly lambdaPolicies = new Map<string, PolicyStatement[]>();
  readonly admin: Session;

  constructor(
    readonly accountId: string,
    readonly partition = 'aws',
    /** Derives the role sessions' credentials: random per process unless kept with --state-dir. */
    readonly seed = IamRegistry.newSeed(),
  ) {
    this.admin = {
      credential: { accessKeyId: ADMIN_ACCESS_KEY_ID, secretAccessKey: ADMIN_SECRET_ACCESS_KEY },
      principal: {
        kind: 'user',
        arn: `arn:${partition}:iam::${accountId}:user/${ADMIN_USER_NAME}`,
        accountId,
        userId: `AIDA${this.derive('user-id', ADMIN_USER_NAME, 17)}`,
      },
    };
    this.sessionsByKey.set(ADMIN_ACCESS_KEY_ID, this.admin);
  }

  static newSeed(): string {
    return randomBytes(32).toString('hex');
  }

  /** LENGTH characters of ALPHABET from HMAC(seed, purpose, value) in counter mode (stable per seed). */
  private derive(
    purpose: string,
    value: string,
    length: number,
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567',
  ) {
    let out = '';
    for (let block = 0; out.length < length; block++) {
      const digest = createHmac('sha256', this.seed).update(`${purpose}\0${value}\0${block}`).digest();
      for (const byte of digest) if (out.length < length) out += alphabet[byte % alphabet.length];
    }
    return out;
  }

  // ---- roles ----

  putRole(input: {
    name: string;
    path?: string;
    trustPolicy: PolicyDocument;
    policies: NamedPolicy[];
  }): Role {
    const path = input.path ?? '/';
    const role: Role = {
      name: input.name,
      arn: `arn:${this.partition}:iam::${this.accountId}:role${path}${input.name}`,
      roleId: `AROA${this.derive('role-id', input.name, 17)}`,
      trustPolicy: input.trustPolicy,
      policies: input.policies,
    };
    this.roles.set(role.arn, role);
    this.version += 1;
    return role;
  }

  role(roleArn: string): Role | undefined {
    return this.roles.get(roleArn);
  }

  listRoles(): Role[] {
    return [...this.roles.values()];
  }

  /** The identity policies that apply to a principal (none for service principals). */
  identityPolicies(principal: Principal): { name: string; policy: PolicyDocument }[] {
    if (principal.arn === this.admin.principal.arn)
      return [{ name: 'AdministratorAccess', policy: ADMINISTRATOR_ACCESS }];
    const role = principal.roleArn ? this.roles.get(principal.roleArn) : undefined;
    return (role?.policies ?? []).map((p) => ({ name: p.name, policy: p.document }));
  }

  /**
   * The credentials of ROLE's session SESSIONNAME, as STS would hand them to Lambda, Step Functions
   * or Bedrock: stable for a seed, so `tunevault local` can print them for `serverless invoke local`.
   */
  session(roleArn: string, sessionName: string): Session {
    const role = this.roles.get(roleArn);
    if (!role) throw new Error(`no role ${roleArn} in the embedded account`);
    const id = `${roleArn}\0${sessionName}`;
    const accessKeyId = `ASIA${this.derive('access-key', id, 16)}`;
    const existing = this.sessionsByKey.get(accessKeyId);
    if (existing) return existing;
    const base64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const session: Session = {
      credential: {
        accessKeyId,
        secretAccessKey: this.derive('secret', id, 40, base64),
        sessionToken: `IQoJb3JpZ2luX2Vj${this.derive('token', id, 200, base64)}`,
      },
      principal: {
        kind: 'assumed-role',
        arn: `arn:${this.partition}:sts::${this.accountId}:assumed-role/${role.name}/${sessionName}`,
        accountId: this.accountId,
        roleArn,
        userId: `${role.roleId}:${sessionName}`,
      },
    };
    this.sessionsByKey.set(accessKeyId, session);
    return session;
  }

  lookup(accessKeyId: string): Session | undefined {
    return this.sessionsByKey.get(accessKeyId);
  }

  /** A service principal acting on its own (S3 or EventBridge invoking a function). */
  service(name: string): Principal {
    return { kind: 'service', arn: name, accountId: this.accountId };
  }

  // ---- Lambda resource policies ----

  addLambdaPermission(functionArn: string, statement: PolicyStatement): void {
    const list = this.lambdaPolicies.get(functionArn) ?? [];
    const i = list.findIndex((s) => s.Sid !== undefined && s.Sid === statement.Sid);
    if (i >= 0) list[i] = statement;
    else list.push(statement);
    this.lambdaPolicies.set(functionArn, list);
    this.version += 1;
  }

  lambdaPolicy(functionArn: string): PolicyDocument | undefined {
    const list = this.lambdaPolicies.get(functionArn);
    return list?.length ? { Version: '2012-10-17', Id: 'default', Statement: list } : undefined;
  }

  // ---- for prove:iam and the mutation tests ----

  /**
   * Removes ACTION from every statement of ROLE's identity policies (a statement left with no
   * action is dropped). Returns an undo function.
   */
  withoutAction(roleArn: string, action: string): () => void {
    const role = this.roles.get(roleArn);
    if (!role) throw new Error(`no role ${roleArn}`);
    const before = structuredClone(role.policies);
    this.version += 1;
    role.policies = role.policies.map((p) => ({
      name: p.name,
      document: {
        ...p.document,
        Statement: statements(p.document).flatMap((s) => {
          if (s.Action === undefined) return [s];
          const actions = (Array.isArray(s.Action) ? s.Action : [s.Action]).filter(
            (a) => a.toLowerCase() !== action.toLowerCase(),
          );
          return actions.length > 0 ? [{ ...s, Action: actions }] : [];
        }),
      },
    }));
    return () => {
      role.policies = before;
      this.version += 1;
    };
  }

  /** Removes a function's resource policy (no service may invoke it). Returns an undo function. */
  withoutLambdaPermissions(functionArn: string): () => void {
    const before = this.lambdaPolicies.get(functionArn);
    this.lambdaPolicies.delete(functionArn);
    this.version += 1;
    return () => {
      if (before) this.lambdaPolicies.set(functionArn, before);
      this.version += 1;
    };
  }

  /** Replaces a role's trust policy (tests of the confused-deputy guard). Returns an undo function. */
  withTrustPolicy(roleArn: string, trustPolicy: PolicyDocument): () => void {
    const role = this.roles.get(roleArn);
    if (!role) throw new Error(`no role ${roleArn}`);
    const before = role.trustPolicy;
    role.trustPolicy = trustPolicy;
    this.version += 1;
    return () => {
      role.trustPolicy = before;
      this.version += 1;
    };
  }
}

export function policyStatements(doc: PolicyDocument): PolicyStatement[] {
  return statements(doc);
}
