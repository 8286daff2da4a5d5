/**
 * Every request the embedded AWS serves is decided here, by a real IAM policy evaluator
 * (@cloud-copilot/iam-simulate: identity policies, resource policies, KMS's key-policy rule,
 * explicit denies, condition operators), never by hand-written matching. A decision is recorded
 * (readable at `/_tunevault/iam/decisions`); in `enforce` mode a denial becomes AWS's error, in
 * `audit` mode it is recorded and the request goes on, `off` skips evaluation.
 *
 * Licence note: iam-simulate is AGPL-3.0-or-later. It is a devDependency loaded only by the embedded
 * AWS and the tests (a contract test checks that no Lambda bundle carries it).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { getDenialReasons, runSimulation } from '@cloud-copilot/iam-simulate';
import { AwsError } from '../core/types';
import { decisionKey, identityFacts, type PolicyFacts, resourceFacts } from './decision-key';
import type { IamRegistry } from './registry';
import type { AccessRequest, Decision, DecisionResult, IamMode, Principal } from './types';

const MAX_ARN_LENGTH = 2048;

/** Who is calling, for code that runs on the caller's behalf (S3 using KMS for SSE-KMS, …). */
export interface Caller {
  principal: Principal;
  /** False for requests that reached a non-loopback bind over plain HTTP (see README: aws:SecureTransport). */
  secureTransport: boolean;
  sourceIp: string;
}

/**
 * The caller of the request being served. Services that act for the caller (S3 → KMS) read it from
 * here instead of threading it through every signature; a service acting as itself or as a role
 * (Bedrock as its service role) runs its calls inside `asCaller`.
 */
const current = new AsyncLocalStorage<Caller>();

export function currentCaller(): Caller | undefined {
  return current.getStore();
}

export function asCaller<T>(caller: Caller, fn: () => T): T {
  return current.run(caller, fn);
}

/** AWS's error code and HTTP status for an authorization failure, per service (wire protocol). */
const DENIAL: Record<string, { code: string; status: number }> = {
  s3: { code: 'AccessDenied', status: 403 },
  kms: { code: 'AccessDeniedException', status: 400 },
  bedrock: { code: 'AccessDeniedException', status: 403 },
  states: { code: 'AccessDeniedException', status: 400 },
  events: { code: 'AccessDeniedException', status: 400 },
  dynamodb: { code: 'AccessDeniedException', status: 400 },
  lambda: { code: 'AccessDeniedException', status: 403 },
  iam: { code: 'AccessDenied', status: 403 },
  sts: { code: 'AccessDenied', status: 403 },
};

const MAX_DECISIONS = 50_000;

export interface AuthorizerOptions {
  registry: IamRegistry;
  mode?: IamMode;
  region: string;
}

export class Authorizer {
  mode: IamMode;
  private readonly decisions: Decision[] = [];
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<(d: Decision) => void>();
  /**
   * Decisions by everything they depend on: principal, action, resource, condition keys (but the
   * clock), the identity policies (the registry's version) and the resource policy's text. Not used
   * when a policy reads aws:CurrentTime or aws:EpochTime. Evaluating is ~0.5–1 ms; a run asks ~100.
   */
  private readonly cache = new Map<string, { result: DecisionResult; reason?: string }>();
  private cacheVersion = -1;
  /** Evaluations answered from the cache, and those run through the evaluator. */
  readonly evaluations = { cached: 0, evaluated: 0 };
  /** Re-evaluate every cached answer and fail on a difference (TUNEVAULT_IAM_CACHE_CHECK=1). */
  private readonly checkCache = process.env.TUNEVAULT_IAM_CACHE_CHECK === '1';

  constructor(private readonly options: AuthorizerOptions) {
    this.mode = options.mode ?? 'enforce';
  }

  get registry(): IamRegistry {
    return this.options.registry;
  }

  /** The global condition keys AWS sets on every request of this principal. */
  private globalContext(caller: Caller, via: string | undefined): Record<string, string | string[]> {
    const p = caller.principal;
    const now = new Date();
    const ctx: Record<string, string | string[]> = {
      'aws:SecureTransport': String(caller.secureTransport),
      'aws:CurrentTime': now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
      'aws:RequestedRegion': this.options.region,
      'aws:ViaAWSService': String(via !== undefined),
    };
    if (p.kind === 'service') {
      ctx['aws:PrincipalServiceName'] = p.arn;
      return ctx;
    }
    ctx['aws:SourceIp'] = caller.sourceIp;
    ctx['aws:PrincipalAccount'] = p.accountId;
    ctx['aws:PrincipalType'] = p.kind === 'user' ? 'User' : 'AssumedRole';
    ctx['aws:PrincipalArn'] = p.roleArn ?? p.arn;
    if (p.userId) ctx['aws:userid'] = p.userId;
    if (p.kind === 'user') ctx['aws:username'] = p.arn.slice(p.arn.lastIndexOf('/') + 1);
    return ctx;
  }

  /** Evaluates one request. Never throws for a denial: see `require`. */
  async decide(caller: Caller, req: AccessRequest, options: { probe?: boolean } = {}): Promise<Decision> {
    const via =
      typeof req.context?.['kms:ViaService'] === 'string' ? String(req.context['kms:ViaService']) : undefined;
    const principal = caller.principal;
    let result: DecisionResult = 'Allowed';
    let reason: string | undefined;
    if (this.mode !== 'off') {
      // No AWS resource name is this long (IAM takes ARNs of at most 2,048 characters); the
      // identifier came from the request, which AWS refuses before authorizing it — and a
      // multi-megabyte ARN would stall the evaluator's pattern matching.
      if (req.resource.length > MAX_ARN_LENGTH)
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: a resource identifier of ${req.resource.length} characters for ${req.action} failed to satisfy constraint: Member must have length less than or equal to ${MAX_ARN_LENGTH}`,
        );
      ({ result, reason } = await this.evaluate(caller, req, via));
    }
    const decision: Decision = {
      at: new Date().toISOString(),
      principal: principal.arn,
      action: req.action,
      resource: req.resource,
      result,
      mode: this.mode,
      ...(via ? { via } : principal.kind === 'service' ? { via: principal.arn } : {}),
      ...(reason ? { reason } : {}),
      ...(options.probe ? { probe: true } : {}),
    };
    if (this.mode !== 'off') this.record(decision);
    return decision;
  }

  private async evaluate(
    caller: Caller,
    req: AccessRequest,
    via: string | undefined,
  ): Promise<{ result: DecisionResult; reason?: string }> {
    const principal = caller.principal;
    const registry = this.options.registry;
    if (this.cacheVersion !== registry.version) {
      this.cache.clear();
      this.cacheVersion = registry.version;
    }
    const identity = registry
      .identityPolicies(principal)
      .map((p) => ({ name: p.name, facts: identityFacts(p.policy) }));
    const resource = req.resourcePolicy === undefined ? undefined : resourceFacts(req.resourcePolicy);
    const context = { ...this.globalContext(caller, via), ...(req.context ?? {}) };
    const key = decisionKey(
      principal,
      req,
      context,
      identity.map((p) => p.facts),
      resource,
    );
    const hit = key === undefined ? undefined : this.cache.get(key);
    if (hit && !this.checkCache) {
      this.evaluations.cached += 1;
      return hit;
    }
    this.evaluations.evaluated += 1;
    const answer = await this.simulate(principal, req, context, identity, resource);
    if (hit && (hit.result !== answer.result || hit.reason !== answer.reason))
      throw new Error(
        `IAM decision cache: ${req.action} on ${req.resource} for ${principal.arn} was answered ${hit.result} from the cache but evaluates ${answer.result} (key ${key})`,
      );
    if (key !== undefined) {
      if (this.cache.size > 20_000) this.cache.clear();
      this.cache.set(key, answer);
    }
    return answer;
  }

  private async simulate(
    principal: Principal,
    req: AccessRequest,
    context: Record<string, string | string[]>,
    identity: { name: string; facts: PolicyFacts }[],
    resource: PolicyFacts | undefined,
  ): Promise<{ result: DecisionResult; reason?: string }> {
    const registry = this.options.registry;
    const simulation = await runSimulation(
      {
        request: {
          principal: principal.arn,
          action: req.action,
          resource: { resource: req.resource, accountId: registry.accountId },
          contextVariables: context,
        },
        identityPolicies: identity.map((p) => ({ name: p.name, policy: p.facts.validated })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resource ? { resourcePolicy: resource.validated } : {}),
      },
      {},
    );
    if (simulation.resultType === 'error') {
      // A resource no ARN of the action's resource types matches came from the request itself
      // (an identifier that is empty or not an ARN): AWS answers that with a ValidationException.
      if (/no\.resource\.types|multiple\.resource\.types/.test(JSON.stringify(simulation.errors)))
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: '${req.resource.slice(0, 200)}' is not a valid identifier for ${req.action}`,
        );
      // Anything else the evaluator cannot even pose is a bug in the embedded AWS's action map.
      throw new Error(
        `IAM evaluation of ${req.action} on ${req.resource} failed: ${JSON.stringify(simulation.errors)}`,
      );
    }
    const result = simulation.overallResult as DecisionResult;
    const answer: { result: DecisionResult; reason?: string } = { result };
    if (result !== 'Allowed') {
      const analysis = simulation.resultType === 'single' ? simulation.result.analysis : undefined;
      answer.reason = denialReason(req, result, analysis ? getDenialReasons(analysis) : [], principal);
    }
    return answer;
  }

  /** True when allowed — or when not enforcing (audit records the denial and lets it through). */
  async allows(caller: Caller, req: AccessRequest, options: { probe?: boolean } = {}): Promise<boolean> {
    const d = await this.decide(caller, req, options);
    return d.result === 'Allowed' || this.mode !== 'enforce';
  }

  /**
   * Decides each request in turn; the first denial (in enforce mode) throws AWS's error for
   * SERVICE with AWS's message shape.
   */
  async require(caller: Caller, service: string, reqs: AccessRequest[]): Promise<void> {
    for (const req of reqs) {
      const d = await this.decide(caller, req);
      if (d.result !== 'Allowed' && this.mode === 'enforce') throw accessDenied(service, caller.principal, d);
    }
  }

  private record(d: Decision): void {
    this.decisions.push(d);
    if (this.decisions.length > MAX_DECISIONS)
      this.decisions.splice(0, this.decisions.length - MAX_DECISIONS);
    const key = `${d.principal}\0${d.action}\0${d.result}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    for (const l of this.listeners) l(d);
  }

  onDecision(listener: (d: Decision) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The most recent decisions, newest last; `deniedOnly` keeps the refusals. */
  recent(options: { limit?: number; deniedOnly?: boolean } = {}): Decision[] {
    const list = options.deniedOnly ? this.decisions.filter((d) => d.result !== 'Allowed') : this.decisions;
    return list.slice(-(options.limit ?? 1000));
  }

  /** Counts per principal, action and result since start. */
  summary(): { principal: string; action: string; result: DecisionResult; count: number }[] {
    return [...this.counts.entries()].map(([k, count]) => {
      const [principal = '', action = '', result = 'Allowed'] = k.split('\0');
      return { principal, action, result: result as DecisionResult, count };
    });
  }

  clear(): void {
    this.decisions.length = 0;
    this.counts.clear();
  }
}

type DenialReasons = ReturnType<typeof getDenialReasons>;

/** AWS's phrasing of why (IAM user guide, "Troubleshoot access denied error messages"). */
function denialReason(
  req: AccessRequest,
  result: DecisionResult,
  reasons: DenialReasons,
  principal: Principal,
): string {
  const explicit = reasons.find((r) => r.denialType === 'Explicit');
  if (result === 'ExplicitlyDenied' || explicit) {
    const kind = explicit?.policyType === 'resource' ? 'a resource-based policy' : 'an identity-based policy';
    return `with an explicit deny in ${kind}`;
  }
  const identityBlocked = reasons.some((r) => r.policyType === 'identity');
  const resourceBlocked = reasons.some((r) => r.policyType === 'resource');
  // A service principal has no identity policies: only a resource policy can let it in.
  if (principal.kind === 'service' || (!identityBlocked && (resourceBlocked || req.resourcePolicyRequired)))
    return `because no resource-based policy allows the ${req.action} action`;
  return `because no identity-based policy allows the ${req.action} action`;
}

/** `User: <arn> is not authorized to perform: <action> on resource: <arn> <reason>` in SERVICE's protocol. */
export function accessDenied(service: string, principal: Principal, d: Decision): AwsError {
  const { code, status } = DENIAL[service] ?? { code: 'AccessDeniedException', status: 400 };
  const resource = service === 's3' ? `"${d.resource}"` : d.resource;
  const who = principal.kind === 'service' ? `Service: ${principal.arn}` : `User: ${principal.arn}`;
  return new AwsError(
    code,
    `${who} is not authorized to perform: ${d.action} on resource: ${resource} ${d.reason ?? ''}`.trim(),
    status,
  );
}
