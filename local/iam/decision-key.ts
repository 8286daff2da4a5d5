/**
 * What a decision can depend on, so that the authorizer evaluates each distinct question once.
 *
 * A decision depends on the principal, the action, the policies' text, the condition keys some
 * policy reads, and the resource only through what the policies can tell of it: its resource type
 * and which of their Resource patterns it matches. The key below keeps exactly that, so that the
 * hundred objects of a hundred runs — or a hundred Bedrock jobs named in `aws:SourceArn` — ask the
 * evaluator one question each, not a hundred. `TUNEVAULT_IAM_CACHE_CHECK=1` re-evaluates every
 * cached answer and fails on a difference (the IAM e2e tests and prove:iam run with it).
 */
import {
  createValidatedPolicy,
  type ValidatedPolicy,
  type ValidationError,
  validateIdentityPolicy,
  validateResourcePolicy,
} from '@cloud-copilot/iam-policy';
import type { AccessRequest, PolicyDocument, Principal } from './types';

/** What a policy document can make a decision depend on, and the document validated once. */
export interface PolicyFacts {
  text: string;
  /** Every Resource / NotResource pattern. */
  resources: string[];
  resourceVariables: boolean;
  /** Condition keys in its Condition blocks and in ${…} policy variables, lower-cased. */
  keys: Set<string>;
  /**
   * Per condition key (lower-cased), the literal values its string and ARN operators compare with;
   * `null` when some other operator (numeric, date, IP, Null, case-insensitive, a ${…} value) reads it.
   */
  compared: Map<string, string[] | null>;
  clock: boolean;
  sessions: boolean;
  validated: ValidatedPolicy;
}

/** Operators whose answer for a value follows from equality and wildcard matching with each policy value. */
const MATCHING_OPERATORS = new Set([
  'stringequals',
  'stringnotequals',
  'stringlike',
  'stringnotlike',
  'arnequals',
  'arnnotequals',
  'arnlike',
  'arnnotlike',
]);

function baseOperator(operator: string): string {
  return operator
    .toLowerCase()
    .replace(/^for(any|all)value:/, '')
    .replace(/ifexists$/, '');
}

function factsOf(doc: unknown, text: string, validate: (p: unknown) => ValidationError[]): PolicyFacts {
  const keys = new Set<string>();
  const compared = new Map<string, string[] | null>();
  for (const m of text.matchAll(/\$\{([^}]+)\}/g)) {
    const k = (m[1] ?? '').toLowerCase();
    keys.add(k);
    compared.set(k, null);
  }
  const statements = (doc as { Statement?: unknown }).Statement;
  const resources: string[] = [];
  for (const st of Array.isArray(statements) ? statements : [statements]) {
    const r = st as { Resource?: string | string[]; NotResource?: string | string[] } | undefined;
    for (const pattern of [r?.Resource ?? [], r?.NotResource ?? []].flat()) resources.push(pattern);
    const condition = (st as { Condition?: Record<string, Record<string, unknown>> } | undefined)?.Condition;
    for (const [operator, block] of Object.entries(condition ?? {})) {
      for (const [k, raw] of Object.entries(block ?? {})) {
        const key = k.toLowerCase();
        keys.add(key);
        const values = [raw].flat();
        const literal =
          MATCHING_OPERATORS.has(baseOperator(operator)) &&
          values.every((v) => typeof v === 'string' && !v.includes('${'));
        const before = compared.get(key);
        if (!literal || before === null) compared.set(key, null);
        else compared.set(key, [...(before ?? []), ...(values as string[])]);
      }
    }
  }
  return {
    text,
    resources,
    resourceVariables: resources.some((r) => r.includes('${')),
    keys,
    compared,
    clock: keys.has('aws:currenttime') || keys.has('aws:epochtime'),
    sessions: text.includes(':assumed-role/') || keys.has('aws:userid') || keys.has('aws:sourceidentity'),
    validated: createValidatedPolicy(doc, validate),
  };
}

const identityFactsCache = new WeakMap<object, PolicyFacts>();
export function identityFacts(doc: PolicyDocument): PolicyFacts {
  let f = identityFactsCache.get(doc);
  if (!f) {
    f = factsOf(doc, JSON.stringify(doc), validateIdentityPolicy);
    identityFactsCache.set(doc, f);
  }
  return f;
}

const resourceFactsCache = new Map<string, PolicyFacts>();
export function resourceFacts(p: PolicyDocument | string): PolicyFacts {
  const text = typeof p === 'string' ? p : JSON.stringify(p);
  let f = resourceFactsCache.get(text);
  if (!f) {
    if (resourceFactsCache.size > 5_000) resourceFactsCache.clear();
    f = factsOf(typeof p === 'string' ? (JSON.parse(p) as unknown) : p, text, validateResourcePolicy);
    resourceFactsCache.set(text, f);
  }
  return f;
}

/**
 * The resource as far as a resource type can tell: an S3 object ARN by its bucket (every key of a
 * bucket is of the `object` resource type — Service Authorization Reference, Amazon S3, "Resource
 * types"), any other ARN without its last name (`key/1234…` → `key/*`).
 */
export function shapeOf(arn: string): string {
  const s3Object = /^(arn:[^:]+:s3:::[^/]+\/)./s.exec(arn);
  if (s3Object) return `${s3Object[1]}*`;
  const cut = Math.max(arn.lastIndexOf('/'), arn.lastIndexOf(':'));
  return cut < 0 ? arn : `${arn.slice(0, cut + 1)}*`;
}

const globs = new Map<string, RegExp>();
function globRegex(pattern: string): RegExp {
  let re = globs.get(pattern);
  if (!re) {
    if (globs.size > 10_000) globs.clear();
    re = new RegExp(
      `^${pattern
        .replace(/[.+^$()|[\]{}\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      's',
    );
    globs.set(pattern, re);
  }
  return re;
}

/** IAM's Resource and StringLike wildcards: `*` any run of characters, `?` one character. */
export function globMatches(pattern: string, value: string): boolean {
  return globRegex(pattern).test(value);
}

/** ArnLike: each of the six colon-separated parts matched on its own (IAM User Guide, "ARN condition operators"). */
function arnPartsMatch(pattern: string, value: string): boolean {
  const split = (a: string) => {
    const parts = a.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const v = split(value);
  if (!p || !v) return false;
  return p.every((part, i) => globMatches(part, v[i] ?? ''));
}

/** A request value by how it compares with each policy value: equal, wildcard match, ARN match. */
function valueClass(policyValues: string[], value: string): string {
  let out = '';
  for (const v of policyValues)
    out += `${v === value ? 1 : 0}${globMatches(v, value) ? 1 : 0}${arnPartsMatch(v, value) ? 1 : 0}`;
  return out;
}

/**
 * The cache key of a decision, or undefined when it must always be evaluated (a policy reads the
 * clock). FACTS are the identity policies' then the resource policy's.
 */
export function decisionKey(
  principal: Principal,
  req: AccessRequest,
  context: Record<string, string | string[]>,
  identity: PolicyFacts[],
  resource: PolicyFacts | undefined,
): string | undefined {
  const all = resource ? [...identity, resource] : identity;
  if (all.some((f) => f.clock)) return undefined;
  const read = (k: string) => all.some((f) => f.keys.has(k));
  /** The values policies compare key K with, or null when some policy reads it another way. */
  const comparedWith = (k: string): string[] | null => {
    const values: string[] = [];
    for (const f of all) {
      const c = f.compared.get(k);
      if (c === null) return null;
      if (c) values.push(...c);
    }
    return values;
  };
  const conditions: [string, string | string[]][] = [];
  for (const k of Object.keys(context).sort()) {
    const lower = k.toLowerCase();
    if (!read(lower)) continue;
    const value = context[k] as string | string[];
    const against = comparedWith(lower);
    conditions.push([
      k,
      against === null
        ? value
        : Array.isArray(value)
          ? value.map((v) => valueClass(against, v))
          : `~${valueClass(against, value)}`,
    ]);
  }
  return JSON.stringify([
    // The session only matters to a policy that names sessions or reads aws:userid.
    all.some((f) => f.sessions) ? principal.arn : (principal.roleArn ?? principal.arn),
    req.action,
    // Policies with ${…} in a Resource keep the exact ARN.
    ...(all.some((f) => f.resourceVariables)
      ? [req.resource]
      : [
          shapeOf(req.resource),
          [...new Set(all.flatMap((f) => f.resources))].map((r) => globMatches(r, req.resource)),
        ]),
    conditions,
    resource?.text ?? '',
    req.resourcePolicyRequired === true,
  ]);
}
