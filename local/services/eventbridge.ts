/**
 * EventBridge (awsJson1_1, `X-Amz-Target: AWSEvents.<Op>`): the default bus, rules with event
 * patterns, Lambda targets invoked asynchronously, and controls that make delivery as unreliable
 * as AWS documents it (dropNext: best effort; duplicateNext: at least once).
 *
 * No maintained npm package implements EventBridge pattern matching (the one candidate found,
 * `eb-patterns`, is not in the registry), so the content-filtering matcher is written here.
 */
import * as eventsModel from '@aws-sdk/client-eventbridge';
import { eventBridgeAccess } from '../iam/json-access';
import type { AccessRequest } from '../iam/types';
import { randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { jsonResponse, AwsJsonService, requireString, optionalString, paginate } from '../core/json-protocol';
import {
  AwsError,
  type BusEntry,
  type InvokeLambda,
  type LocalRequest,
  type LocalResponse,
  type PutEvents,
} from '../core/types';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const DEFAULT_BUS = 'default';
const MAX_TARGETS_PER_RULE = 5;
const PAGES = { cap: 100, invalidToken: () => new AwsError('ValidationException', 'Invalid NextToken') };

export interface EventBridgeOptions {
  accountId: string;
  region: string;
  invokeLambda: InvokeLambda;
}

/** The event as EventBridge hands it to targets. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface PutEventRecord {
  envelope: EventEnvelope;
  eventBusName: string;
  /** Removed by dropNext before rule matching. */
  dropped: boolean;
  /** Delivered twice by duplicateNext. */
  duplicated: boolean;
  matchedRules: string[];
}

export interface DeliveryRecord {
  eventId: string;
  rule: string;
  targetId: string;
  targetArn: string;
  status: 'delivered' | 'failed' | 'skipped';
  error?: string;
}

export interface EventFilter {
  source?: string;
  detailType?: string;
}

interface StoredTarget {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  RoleArn?: string;
}

interface StoredRule {
  Name: string;
  Arn: string;
  EventBusName: string;
  EventPattern?: string;
  ScheduleExpression?: string;
  State: string;
  Description?: string;
  RoleArn?: string;
  targets: StoredTarget[];
}

interface Mishap {
  remaining: number;
  filter: EventFilter;
}

type Body = Record<string, unknown>;

export class EventBridgeService extends AwsJsonService {
  override readonly signingName = 'events';

  private where() {
    return { region: this.options.region, accountId: this.options.accountId };
  }

  accessRequests(req: LocalRequest): Promise<AccessRequest[]> {
    return eventBridgeAccess(
      this.operationOf(req),
      this.readInput<Record<string, unknown>>(req),
      this.where(),
    );
  }
  private readonly rules = new Map<string, StoredRule>();
  private readonly log: PutEventRecord[] = [];
  private readonly deliveryLog: DeliveryRecord[] = [];
  private readonly drops: Mishap[] = [];
  private readonly duplicates: Mishap[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: EventBridgeOptions) {
    super(CONTENT_TYPE, eventsModel);
  }

  async handle(req: LocalRequest): Promise<LocalResponse> {
    const op = this.operationOf(req);
    const body = this.readInput<Body>(req);
    return jsonResponse(this.call(op, body), CONTENT_TYPE);
  }

  private call(op: string, body: Body): unknown {
    switch (op) {
      case 'PutRule':
        return this.putRule(body);
      case 'DescribeRule':
        return this.describeRule(this.rule(body));
      case 'ListRules':
        return this.listRules(body);
      case 'DeleteRule':
        return this.deleteRule(body);
      case 'EnableRule':
        this.rule(body).State = 'ENABLED';
        return {};
      case 'DisableRule':
        this.rule(body).State = 'DISABLED';
        return {};
      case 'PutTargets':
        return this.putTargets(body);
      case 'RemoveTargets':
        return this.removeTargets(body);
      case 'ListTargetsByRule':
        return this.listTargetsByRule(body);
      case 'PutEvents':
        return this.putEventsApi(body);
      case 'TestEventPattern':
        return this.testEventPattern(body);
      default:
        throw new AwsError('UnknownOperationException', `The embedded EventBridge does not support ${op}`);
    }
  }

  // ---------------------------------------------------------------- rules and targets

  private putRule(body: Body) {
    const name = requireString(body, 'Name');
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(name))
      throw new AwsError('ValidationException', `Invalid rule name '${name}'`);
    const bus = this.busName(body.EventBusName);
    const eventPattern = optionalString(body, 'EventPattern');
    const scheduleExpression = optionalString(body, 'ScheduleExpression');
    if (eventPattern === undefined && scheduleExpression === undefined) {
      throw new AwsError(
        'ValidationException',
        'Parameter(s) EventPattern or ScheduleExpression must be specified.',
      );
    }
    if (eventPattern !== undefined) parsePattern(eventPattern);
    const state = optionalString(body, 'State') ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED')
      throw new AwsError('ValidationException', `Invalid State '${state}'`);
    const key = ruleKey(bus, name);
    const existing = this.rules.get(key);
    const rule: StoredRule = {
      Name: name,
      Arn: this.ruleArn(bus, name),
      EventBusName: bus,
      State: state,
      targets: existing?.targets ?? [],
      ...(eventPattern !== undefined ? { EventPattern: eventPattern } : {}),
      ...(scheduleExpression !== undefined ? { ScheduleExpression: scheduleExpression } : {}),
      ...(typeof body.Description === 'string' ? { Description: body.Description } : {}),
      ...(typeof body.RoleArn === 'string' ? { RoleArn: body.RoleArn } : {}),
    };
    this.rules.set(key, rule);
    return { RuleArn: rule.Arn };
  }

  private describeRule(rule: StoredRule) {
    const { targets: _targets, ...fields } = rule;
    return { ...fields, CreatedBy: this.options.accountId };
  }

  private listRules(body: Body) {
    const bus = this.busName(body.EventBusName);
    const prefix = optionalString(body, 'NamePrefix') ?? '';
    const all = [...this.rules.values()]
      .filter((r) => r.EventBusName === bus && r.Name.startsWith(prefix))
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .map(({ targets: _targets, ...fields }) => fields);
    const page = paginate(all, body.Limit, body.NextToken, PAGES);
    return { Rules: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  private deleteRule(body: Body) {
    const bus = this.busName(body.EventBusName);
    const name = requireString(body, 'Name');
    const rule = this.rules.get(ruleKey(bus, name));
    if (!rule) return {};
    if (rule.targets.length > 0)
      throw new AwsError('ValidationException', "Rule can't be deleted since it has targets.");
    this.rules.delete(ruleKey(bus, name));
    return {};
  }

  private putTargets(body: Body) {
    const rule = this.rule({ Name: body.Rule, EventBusName: body.EventBusName });
    const targets = Array.isArray(body.Targets) ? body.Targets : [];
    if (targets.length === 0)
      throw new AwsError('ValidationException', 'Targets must contain at least one target');
    const failed: Array<{ TargetId: string; ErrorCode: string; ErrorMessage: string }> = [];
    for (const raw of targets) {
      const t = asRecord(raw) ?? {};
      const id = typeof t.Id === 'string' ? t.Id : '';
      const arn = typeof t.Arn === 'string' ? t.Arn : '';
      if (!id || !arn) throw new AwsError('ValidationException', 'Each target needs an Id and an Arn');
      const inputs = ['Input', 'InputPath', 'InputTransformer'].filter((k) => t[k] !== undefined);
      if (inputs.length > 1)
        throw new AwsError(
          'ValidationException',
          'Only one of Input, InputPath, or InputTransformer must be provided.',
        );
      if (t.InputTransformer !== undefined) {
        failed.push({
          TargetId: id,
          ErrorCode: 'ValidationException',
          ErrorMessage: 'The embedded EventBridge does not support InputTransformer',
        });
        continue;
      }
      if (typeof t.Input === 'string' && !isJson(t.Input))
        throw new AwsError('ValidationException', 'Target Input must be valid JSON text');
      const target: StoredTarget = {
        Id: id,
        Arn: arn,
        ...(typeof t.Input === 'string' ? { Input: t.Input } : {}),
        ...(typeof t.InputPath === 'string' ? { InputPath: t.InputPath } : {}),
        ...(typeof t.RoleArn === 'string' ? { RoleArn: t.RoleArn } : {}),
      };
      const at = rule.targets.findIndex((x) => x.Id === id);
      if (at >= 0) rule.targets[at] = target;
      else if (rule.targets.length >= MAX_TARGETS_PER_RULE) {
        throw new AwsError(
          'LimitExceededException',
          `The requested resource exceeds the maximum number allowed: ${MAX_TARGETS_PER_RULE} targets per rule`,
        );
      } else rule.targets.push(target);
    }
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  private removeTargets(body: Body) {
    const rule = this.rule({ Name: body.Rule, EventBusName: body.EventBusName });
    const ids = Array.isArray(body.Ids) ? body.Ids.filter((i): i is string => typeof i === 'string') : [];
    rule.targets = rule.targets.filter((t) => !ids.includes(t.Id));
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private listTargetsByRule(body: Body) {
    const rule = this.rule({ Name: body.Rule, EventBusName: body.EventBusName });
    const page = paginate(rule.targets, body.Limit, body.NextToken, PAGES);
    return { Targets: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  private testEventPattern(body: Body) {
    const pattern = parsePattern(requireString(body, 'EventPattern'));
    let event: unknown;
    try {
      event = JSON.parse(requireString(body, 'Event'));
    } catch {
      throw new AwsError('InvalidEventPatternException', 'Event is not valid JSON');
    }
    return { Result: matchesPattern(pattern, event) };
  }

  // ---------------------------------------------------------------- events

  /** The wire PutEvents: unlike in-process callers, API callers may not use the reserved `aws.` sources. */
  private putEventsApi(body: Body) {
    const entries = Array.isArray(body.Entries) ? body.Entries : [];
    if (entries.length < 1 || entries.length > 10) {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    const results = entries.map((raw) => this.accept(asRecord(raw) ?? {}, false));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** In-process PutEvents for the emulated AWS services (Bedrock's job events come this way). */
  readonly putEvents: PutEvents = async (entries: BusEntry[]) => {
    for (const entry of entries) {
      const result = this.accept({ ...entry }, true);
      if ('ErrorCode' in result) throw new AwsError(result.ErrorCode, result.ErrorMessage);
    }
  };

  private accept(
    entry: Record<string, unknown>,
    trusted: boolean,
  ): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    const source = entry.Source;
    const detailType = entry.DetailType;
    const detailText = entry.Detail;
    if (typeof source !== 'string' || source === '') return invalid('Source');
    if (typeof detailType !== 'string' || detailType === '') return invalid('DetailType');
    if (typeof detailText !== 'string') return invalid('Detail');
    let detail: unknown;
    try {
      detail = JSON.parse(detailText);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (!asRecord(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    if (!trusted && source.startsWith('aws.')) {
      return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
    }
    let bus: string;
    try {
      bus = this.busName(entry.EventBusName);
    } catch (err) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: err instanceof Error ? err.message : String(err) };
    }
    const envelope: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source,
      account: this.options.accountId,
      time: isoSeconds(toDate(entry.Time) ?? new Date()),
      region: this.options.region,
      resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
      detail,
    };
    this.route(envelope, bus);
    return { EventId: envelope.id };
  }

  private route(envelope: EventEnvelope, eventBusName: string): void {
    const record: PutEventRecord = {
      envelope,
      eventBusName,
      dropped: false,
      duplicated: false,
      matchedRules: [],
    };
    this.log.push(record);
    if (takeMishap(this.drops, envelope)) {
      record.dropped = true;
      return;
    }
    record.duplicated = takeMishap(this.duplicates, envelope);
    for (const rule of this.rules.values()) {
      if (rule.EventBusName !== eventBusName || rule.State !== 'ENABLED' || rule.EventPattern === undefined)
        continue;
      if (!matchesPattern(parsePattern(rule.EventPattern), envelope)) continue;
      record.matchedRules.push(rule.Name);
      for (const target of rule.targets) {
        for (let copy = record.duplicated ? 2 : 1; copy > 0; copy--) this.dispatch(envelope, rule, target);
      }
    }
  }

  /** Targets run after PutEvents has answered, as EventBridge invokes Lambda asynchronously. */
  private dispatch(envelope: EventEnvelope, rule: StoredRule, target: StoredTarget): void {
    const base = { eventId: envelope.id, rule: rule.Name, targetId: target.Id, targetArn: target.Arn };
    if (!/^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:/.test(target.Arn)) {
      this.deliveryLog.push({
        ...base,
        status: 'skipped',
        error: 'only Lambda targets are delivered by the embedded EventBridge',
      });
      return;
    }
    const delivery = (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        await this.options.invokeLambda(target.Arn, targetInput(target, envelope), rule.Arn);
        this.deliveryLog.push({ ...base, status: 'delivered' });
      } catch (err) {
        this.deliveryLog.push({
          ...base,
          status: 'failed',
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
      }
    })();
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  // ---------------------------------------------------------------- controls and in-process views

  /** The next `count` events matching `filter` are accepted but never reach a rule (best-effort delivery). */
  dropNext(count: number, filter: EventFilter = {}): void {
    if (!(count > 0)) throw new Error('count must be a positive number');
    this.drops.push({ remaining: count, filter });
  }

  /** Forgets pending dropNext / duplicateNext requests. */
  clearDrops(): void {
    this.drops.length = 0;
    this.duplicates.length = 0;
  }

  /** The next `count` events matching `filter` reach their targets twice (at-least-once delivery). */
  duplicateNext(count: number, filter: EventFilter = {}): void {
    if (!(count > 0)) throw new Error('count must be a positive number');
    this.duplicates.push({ remaining: count, filter });
  }

  /** Every event put so far, dropped ones included, oldest first. */
  events(filter: EventFilter = {}): EventEnvelope[] {
    return this.log.filter((r) => matchesFilter(filter, r.envelope)).map((r) => r.envelope);
  }

  /** Every event with what became of it (dropped, duplicated, matched rules). */
  history(): PutEventRecord[] {
    return [...this.log];
  }

  deliveries(): DeliveryRecord[] {
    return [...this.deliveryLog];
  }

  /** Resolves once no target invocation is running (including ones started by those invocations). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  snapshot(): unknown {
    return { version: 1, rules: [...this.rules.values()] };
  }

  restore(state: unknown): void {
    const rules = asRecord(state)?.rules;
    if (!Array.isArray(rules)) return;
    this.rules.clear();
    for (const raw of rules) {
      const r = asRecord(raw);
      if (!r || typeof r.Name !== 'string' || typeof r.EventBusName !== 'string') continue;
      const rule = { ...r, targets: Array.isArray(r.targets) ? r.targets : [] } as unknown as StoredRule;
      this.rules.set(ruleKey(rule.EventBusName, rule.Name), rule);
    }
  }

  // ---------------------------------------------------------------- plumbing

  private rule(body: Body): StoredRule {
    const bus = this.busName(body.EventBusName);
    const name = requireString(body, 'Name');
    const rule = this.rules.get(ruleKey(bus, name));
    if (!rule)
      throw new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`);
    return rule;
  }

  /** Only the default bus exists here; it may be named or given by ARN. */
  private busName(raw: unknown): string {
    if (raw === undefined || raw === null || raw === '') return DEFAULT_BUS;
    const name = String(raw).replace(/^arn:aws[a-z-]*:events:[^:]*:\d{12}:event-bus\//, '');
    if (name !== DEFAULT_BUS)
      throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return name;
  }

  private ruleArn(bus: string, name: string): string {
    const path = bus === DEFAULT_BUS ? name : `${bus}/${name}`;
    return `arn:aws:events:${this.options.region}:${this.options.accountId}:rule/${path}`;
  }
}

// ---------------------------------------------------------------- event patterns

type Pattern = Record<string, unknown>;

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
]);
const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

/** Parses and validates a pattern (InvalidEventPatternException as PutRule answers). */
export function parsePattern(text: string): Pattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badPattern('Filter is not valid JSON');
  }
  const pattern = asRecord(parsed);
  if (!pattern || Object.keys(pattern).length === 0)
    throw badPattern('Event pattern must be a non-empty JSON object');
  validateObject(pattern, '');
  return pattern;
}

function validateObject(pattern: Pattern, path: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every((v) => asRecord(v)))
        throw badPattern(`${here} needs an array of at least two patterns`);
      for (const v of value) validateObject(v as Pattern, path);
    } else if (Array.isArray(value)) {
      for (const rule of value) validateRule(rule, here);
    } else if (asRecord(value)) {
      if (Object.keys(value as Pattern).length === 0) throw badPattern(`${here} is an empty object`);
      validateObject(value as Pattern, here);
    } else {
      throw badPattern(`${here} must be an object or an array`);
    }
  }
}

function validateRule(rule: unknown, where: string): void {
  if (rule === null || ['string', 'number', 'boolean'].includes(typeof rule)) return;
  const op = asRecord(rule);
  const keys = op ? Object.keys(op) : [];
  const name = keys[0];
  if (!op || keys.length !== 1 || name === undefined || !OPERATORS.has(name)) {
    throw badPattern(`${where}: unrecognized match type ${JSON.stringify(rule)}`);
  }
  const arg = op[name];
  const stringOrIgnoreCase = (v: unknown) =>
    typeof v === 'string' || typeof asRecord(v)?.['equals-ignore-case'] === 'string';
  const ok = (() => {
    switch (name) {
      case 'prefix':
      case 'suffix':
        return stringOrIgnoreCase(arg);
      case 'equals-ignore-case':
      case 'wildcard':
      case 'cidr':
        return typeof arg === 'string';
      case 'exists':
        return typeof arg === 'boolean';
      case 'numeric':
        return validNumeric(arg);
      default: {
        // anything-but
        if (typeof arg === 'string' || typeof arg === 'number') return true;
        if (Array.isArray(arg))
          return (
            arg.length > 0 &&
            (arg.every((v) => typeof v === 'string') || arg.every((v) => typeof v === 'number'))
          );
        const inner = asRecord(arg);
        const [innerOp, innerArg] = inner ? (Object.entries(inner)[0] ?? []) : [];
        if (!inner || Object.keys(inner).length !== 1) return false;
        if (innerOp === 'prefix' || innerOp === 'suffix') return typeof innerArg === 'string';
        if (innerOp === 'equals-ignore-case' || innerOp === 'wildcard') {
          return (
            typeof innerArg === 'string' ||
            (Array.isArray(innerArg) && innerArg.every((v) => typeof v === 'string'))
          );
        }
        return false;
      }
    }
  })();
  if (!ok) throw badPattern(`${where}: invalid value for ${name}`);
}

function validNumeric(arg: unknown): boolean {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) return false;
  for (let i = 0; i < arg.length; i += 2) {
    if (typeof arg[i] !== 'string' || !NUMERIC_OPS.has(arg[i] as string) || typeof arg[i + 1] !== 'number')
      return false;
  }
  return true;
}

/** Content filtering as the EventBridge user guide specifies it (fields AND, array values OR). */
export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  const obj = asRecord(event);
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as Pattern[]).some((alt) => matchesPattern(alt, event));
    const present = obj !== undefined && Object.hasOwn(obj, key);
    const value = present ? obj[key] : undefined;
    if (Array.isArray(expected)) return matchLeaf(expected, present, value);
    const nested = expected as Pattern;
    // Arrays of objects match when any element matches the nested pattern.
    if (Array.isArray(value))
      return value.some((el) => asRecord(el) !== undefined && matchesPattern(nested, el));
    if (present && !asRecord(value)) return false;
    return matchesPattern(nested, value);
  });
}

function matchLeaf(rules: unknown[], present: boolean, value: unknown): boolean {
  const candidates = Array.isArray(value) ? value : [value];
  return rules.some((rule) => {
    const op = rule !== null && typeof rule === 'object' ? (rule as Record<string, unknown>) : undefined;
    if (op && 'exists' in op) return op.exists === true ? present && asRecord(value) === undefined : !present;
    if (!present) return false;
    if (!op) return candidates.some((c) => c === rule);
    return candidates.some((c) => matchOperator(op, c));
  });
}

function matchOperator(op: Record<string, unknown>, value: unknown): boolean {
  const [name, arg] = Object.entries(op)[0] ?? [];
  switch (name) {
    case 'prefix':
    case 'suffix': {
      if (typeof value !== 'string') return false;
      const ignoreCase = asRecord(arg)?.['equals-ignore-case'];
      const needle = typeof ignoreCase === 'string' ? ignoreCase.toLowerCase() : String(arg);
      const hay = typeof ignoreCase === 'string' ? value.toLowerCase() : value;
      return name === 'prefix' ? hay.startsWith(needle) : hay.endsWith(needle);
    }
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && wildcardRegExp(String(arg)).test(value);
    case 'numeric':
      return typeof value === 'number' && numericHolds(arg as unknown[], value);
    case 'cidr':
      return typeof value === 'string' && inCidr(value, String(arg));
    case 'anything-but':
      return anythingBut(arg, value);
    default:
      return false;
  }
}

function anythingBut(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return !arg.includes(value);
  const inner = asRecord(arg);
  if (!inner) return value !== arg;
  const [name, innerArg] = Object.entries(inner)[0] ?? [];
  if (typeof value !== 'string') return true;
  const list = (Array.isArray(innerArg) ? innerArg : [innerArg]).map(String);
  switch (name) {
    case 'prefix':
      return !value.startsWith(String(innerArg));
    case 'suffix':
      return !value.endsWith(String(innerArg));
    case 'equals-ignore-case':
      return !list.some((s) => s.toLowerCase() === value.toLowerCase());
    case 'wildcard':
      return !list.some((s) => wildcardRegExp(s).test(value));
    default:
      return false;
  }
}

function numericHolds(conditions: unknown[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const bound = conditions[i + 1] as number;
    const holds = {
      '=': value === bound,
      '<': value < bound,
      '<=': value <= bound,
      '>': value > bound,
      '>=': value >= bound,
    }[conditions[i] as '=' | '<' | '<=' | '>' | '>='];
    if (!holds) return false;
  }
  return true;
}

/** `*` matches any run of characters; `\*` is a literal star. */
function wildcardRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\' && pattern[i + 1] === '*') {
      source += '\\*';
      i++;
    } else if (ch === '*') source += '.*';
    else source += ch.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(ip) || !isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (a: string) => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}

function badPattern(reason: string): AwsError {
  return new AwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`);
}

// ---------------------------------------------------------------- helpers

function targetInput(target: StoredTarget, envelope: EventEnvelope): unknown {
  if (target.Input !== undefined) return JSON.parse(target.Input);
  if (target.InputPath !== undefined) return selectPath(envelope, target.InputPath);
  return envelope;
}

/** The simple JSONPath subset InputPath uses: `$`, `$.a.b`, `$.a[0]`. */
function selectPath(root: unknown, path: string): unknown {
  if (path === '$') return root;
  const segments = path.replace(/^\$\.?/, '').match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let current: unknown = root;
  for (const seg of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = seg.startsWith('[') ? Number(seg.slice(1, -1)) : seg;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function takeMishap(list: Mishap[], envelope: EventEnvelope): boolean {
  const i = list.findIndex((m) => matchesFilter(m.filter, envelope));
  if (i < 0) return false;
  const mishap = list[i] as Mishap;
  mishap.remaining -= 1;
  if (mishap.remaining <= 0) list.splice(i, 1);
  return true;
}

function matchesFilter(filter: EventFilter, envelope: EventEnvelope): boolean {
  return (
    (filter.source === undefined || filter.source === envelope.source) &&
    (filter.detailType === undefined || filter.detailType === envelope['detail-type'])
  );
}

function invalid(field: string) {
  return {
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
  };
}

function ruleKey(bus: string, name: string): string {
  return `${bus}|${name}`;
}

/** EventBridge times are second-precision ISO 8601 (`2023-08-11T12:34:56Z`). */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** awsJson sends timestamps as epoch seconds; in-process callers pass Dates. */
function toDate(v: unknown): Date | undefined {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v * 1000);
  if (typeof v === 'string' && v !== '') {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
