/**
 * Rules and their targets on the default bus: what PutRule and PutTargets accept, and the
 * snapshot. Only the default bus exists here; it may be named or given by ARN.
 */
import { asRecord, type Body, optionalString, requireString } from '../../core/input';
import { AwsError } from '../../core/types';
import { parsePattern } from './patterns';

export const DEFAULT_BUS = 'default';
const MAX_TARGETS_PER_RULE = 5;

export interface StoredTarget {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  RoleArn?: string;
}

export interface StoredRule {
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

function ruleKey(bus: string, name: string): string {
  return `${bus}|${name}`;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The bus a request names: only the default bus exists here; it may be named or given by ARN. */
export function busName(raw: unknown): string {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_BUS;
  const name = String(raw).replace(/^arn:aws[a-z-]*:events:[^:]*:\d{12}:event-bus\//, '');
  if (name !== DEFAULT_BUS)
    throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
  return name;
}

export class Rules {
  private readonly rules = new Map<string, StoredRule>();

  constructor(private readonly where: { region: string; accountId: string }) {}

  all(): Iterable<StoredRule> {
    return this.rules.values();
  }

  private ruleArn(bus: string, name: string): string {
    const path = bus === DEFAULT_BUS ? name : `${bus}/${name}`;
    return `arn:aws:events:${this.where.region}:${this.where.accountId}:rule/${path}`;
  }

  putRule(body: Body) {
    const name = requireString(body, 'Name');
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(name))
      throw new AwsError('ValidationException', `Invalid rule name '${name}'`);
    const bus = busName(body.EventBusName);
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

  putTargets(body: Body) {
    const rule = this.rule(body.EventBusName, requireString(body, 'Rule'));
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

  find(bus: string, name: string): StoredRule | undefined {
    return this.rules.get(ruleKey(bus, name));
  }

  private rule(rawBus: unknown, name: string): StoredRule {
    const bus = busName(rawBus);
    const rule = this.rules.get(ruleKey(bus, name));
    if (!rule)
      throw new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`);
    return rule;
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
}
