/**
 * Who calls, and what a call asks: the vocabulary of the embedded AWS's IAM.
 * The evaluator itself is @cloud-copilot/iam-simulate (see evaluator.ts); nothing here decides.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

export type PrincipalKind = 'user' | 'assumed-role' | 'service';

/** The identity a request is made as, once SigV4 has authenticated it (or a service acting itself). */
export interface Principal {
  kind: PrincipalKind;
  /** What AWS names the caller in errors: a user ARN, `arn:aws:sts::…:assumed-role/ROLE/SESSION`, or `s3.amazonaws.com`. */
  arn: string;
  accountId: string;
  /** For role sessions: the role's ARN (the `aws:PrincipalArn` of the session). */
  roleArn?: string;
  /** `aws:userid`: `AIDA…` for a user, `AROA…:session` for a role session. */
  userId?: string;
}

/** The documented administrator of the embedded account (the dummy credentials `test`/`test`). */
export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** One authorization question: may the caller do ACTION on RESOURCE, with these condition keys? */
export interface AccessRequest {
  action: string;
  /** An ARN, or `*` for actions that take no resource. */
  resource: string;
  /** Condition keys beyond the global ones the authorizer adds (aws:PrincipalArn, aws:SecureTransport, …). */
  context?: Record<string, string | string[]>;
  /** The resource's own policy, where AWS has one (key policy, bucket policy, Lambda policy, trust policy). */
  resourcePolicy?: PolicyDocument | string;
  /** KMS evaluates its key policy even for same-account callers (no IAM-only access). */
  resourcePolicyRequired?: boolean;
}

export type DecisionResult = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface Decision {
  at: string;
  principal: string;
  action: string;
  resource: string;
  result: DecisionResult;
  /** enforce: denials were refused; audit: recorded and let through; off: not evaluated (never recorded). */
  mode: IamMode;
  /** The service acting on the principal's behalf (kms:ViaService, or the service principal itself). */
  via?: string;
  /** Why a denial happened, in AWS's words ("because no identity-based policy allows …"). */
  reason?: string;
  /** True when the question was asked without the caller asking it (S3's ListBucket probe for 403-vs-404). */
  probe?: boolean;
}

export type IamMode = 'enforce' | 'audit' | 'off';
export const IAM_MODES: readonly IamMode[] = ['enforce', 'audit', 'off'];
