/**
 * The default bus at work: an accepted event is matched against the enabled rules and delivered
 * to their Lambda targets asynchronously, after PutEvents has answered. Delivery can be made as
 * unreliable as AWS documents it: dropNext (best effort), duplicateNext (at least once).
 */
import { randomUUID } from 'node:crypto';
import { asRecord } from '../../core/input';
import type { InvokeLambda } from '../../core/types';
import { matchesPattern, parsePattern } from './patterns';
import { busName, type Rules, type StoredRule, type StoredTarget } from './rules';

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

export type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

interface Mishap {
  remaining: number;
  filter: EventFilter;
}

function invalid(field: string): EntryResult {
  return {
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
  };
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

export function matchesFilter(filter: EventFilter, envelope: EventEnvelope): boolean {
  return (
    (filter.source === undefined || filter.source === envelope.source) &&
    (filter.detailType === undefined || filter.detailType === envelope['detail-type'])
  );
}

function takeMishap(list: Mishap[], envelope: EventEnvelope): boolean {
  const i = list.findIndex((m) => matchesFilter(m.filter, envelope));
  if (i < 0) return false;
  const mishap = list[i] as Mishap;
  mishap.remaining -= 1;
  if (mishap.remaining <= 0) list.splice(i, 1);
  return true;
}

export class Bus {
  readonly log: PutEventRecord[] = [];
  readonly deliveries: DeliveryRecord[] = [];
  readonly drops: Mishap[] = [];
  readonly duplicates: Mishap[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly rules: Rules,
    private readonly options: { region: string; accountId: string; invokeLambda: InvokeLambda },
  ) {}

  /** One PutEvents entry. TRUSTED callers (the emulated AWS services) may use the reserved `aws.` sources. */
  accept(entry: Record<string, unknown>, trusted: boolean): EntryResult {
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
      bus = busName(entry.EventBusName);
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
    for (const rule of this.rules.all()) {
      if (rule.EventBusName !== eventBusName || rule.State !== 'ENABLED' || rule.EventPattern === undefined)
        continue;
      if (!matchesPattern(parsePattern(rule.EventPattern), envelope)) continue;
      record.matchedRules.push(rule.Name);
      for (const target of rule.targets) {
        for (let copy = record.duplicated ? 2 : 1; copy > 0; copy--) this.dispatch(envelope, rule, target);
      }
    }
  }

  /** A scheduled rule's tick: the "Scheduled Event" to each of its targets. */
  scheduled(rule: StoredRule): void {
    const envelope: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.options.accountId,
      time: isoSeconds(new Date()),
      region: this.options.region,
      resources: [rule.Arn],
      detail: {},
    };
    for (const target of rule.targets) this.dispatch(envelope, rule, target);
  }

  /** Targets run after PutEvents has answered, as EventBridge invokes Lambda asynchronously. */
  private dispatch(envelope: EventEnvelope, rule: StoredRule, target: StoredTarget): void {
    const base = { eventId: envelope.id, rule: rule.Name, targetId: target.Id, targetArn: target.Arn };
    if (!/^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:/.test(target.Arn)) {
      this.deliveries.push({
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
        this.deliveries.push({ ...base, status: 'delivered' });
      } catch (err) {
        this.deliveries.push({
          ...base,
          status: 'failed',
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
      }
    })();
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  /** Resolves once no target invocation is running (including ones started by those invocations). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
