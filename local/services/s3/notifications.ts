/**
 * Bucket notifications: the NotificationConfiguration document, and delivery of S3 event messages
 * (event structure 2.1) to Lambda destinations. Delivery is asynchronous and at-least-once as on AWS:
 * the request that caused an event never waits for it, failures are logged, and `redeliver` replays
 * an object's last ObjectCreated messages so idempotency can be exercised.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { InvokeLambda } from '../../core/types';
import { invalidArgument, noSuchKey } from './errors';
import { child, childText, children, malformedXml, type XmlElement, type XmlFields } from './xml';

const DESTINATIONS = {
  CloudFunctionConfiguration: 'CloudFunction',
  QueueConfiguration: 'Queue',
  TopicConfiguration: 'Topic',
} as const;
type ConfigElement = keyof typeof DESTINATIONS;

export interface NotificationRule {
  id: string;
  element: ConfigElement;
  arn: string;
  /** As configured, e.g. `s3:ObjectCreated:*`. */
  events: string[];
  prefix?: string;
  suffix?: string;
}

export interface NotificationConfig {
  rules: NotificationRule[];
  eventBridge: boolean;
}

export const emptyNotificationConfig = (): NotificationConfig => ({ rules: [], eventBridge: false });

const EVENT_TYPE =
  /^s3:(ObjectCreated|ObjectRemoved|ObjectRestore|ReducedRedundancyLostObject|Replication|LifecycleExpiration|LifecycleTransition|IntelligentTiering|ObjectTagging|ObjectAcl)(:[A-Za-z*]+)*$/;

/** Whether configured event type `pattern` (maybe ending in `:*`) covers `type`. */
function covers(pattern: string, type: string): boolean {
  return pattern === type || (pattern.endsWith(':*') && type.startsWith(pattern.slice(0, -1)));
}

function overlaps(a: NotificationRule, b: NotificationRule): boolean {
  const sameEvent = a.events.some((x) => b.events.some((y) => covers(x, y) || covers(y, x)));
  const prefixesMeet =
    !a.prefix || !b.prefix || a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
  const suffixesMeet = !a.suffix || !b.suffix || a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
  return sameEvent && prefixesMeet && suffixesMeet;
}

function parseRule(el: XmlElement, element: ConfigElement): NotificationRule {
  const arn = childText(el, DESTINATIONS[element]);
  const events = children(el, 'Event').map((e) => e.text.trim());
  if (!arn || events.length === 0) throw malformedXml();
  if (!/^arn:aws[a-z-]*:(lambda|sqs|sns):/.test(arn)) {
    throw invalidArgument('Unable to validate the following destination configurations', arn, 'Invalid ARN');
  }
  for (const event of events) {
    if (!EVENT_TYPE.test(event))
      throw invalidArgument('The event is not supported for notifications', event, event);
  }
  const rule: NotificationRule = {
    id: childText(el, 'Id') || Buffer.from(randomUUID()).toString('base64'),
    element,
    arn,
    events,
  };
  const key = child(el, 'Filter') && child(child(el, 'Filter') as XmlElement, 'S3Key');
  for (const filter of key ? children(key, 'FilterRule') : []) {
    const name = childText(filter, 'Name')?.toLowerCase();
    const value = childText(filter, 'Value') ?? '';
    if (name !== 'prefix' && name !== 'suffix') {
      throw invalidArgument(
        'filter rule name must be either prefix or suffix',
        'FilterRule.Name',
        name ?? '',
      );
    }
    if (rule[name] !== undefined) {
      throw invalidArgument(
        `Cannot specify more than one ${name} rule in a filter.`,
        'FilterRule.Name',
        name,
      );
    }
    rule[name] = value;
  }
  return rule;
}

export function parseNotificationConfig(root: XmlElement): NotificationConfig {
  const rules = (Object.keys(DESTINATIONS) as ConfigElement[]).flatMap((element) =>
    children(root, element).map((el) => parseRule(el, element)),
  );
  rules.forEach((rule, i) => {
    if (rules.slice(i + 1).some((other) => overlaps(rule, other))) {
      throw invalidArgument(
        'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
        'Event',
        rule.events.join(','),
      );
    }
  });
  return { rules, eventBridge: child(root, 'EventBridgeConfiguration') !== undefined };
}

export function notificationXml(config: NotificationConfig): XmlFields {
  const doc: XmlFields = {};
  for (const element of Object.keys(DESTINATIONS) as ConfigElement[]) {
    const rules = config.rules.filter((r) => r.element === element);
    if (rules.length === 0) continue;
    doc[element] = rules.map((r) => {
      // S3 answers the rule names capitalised, whatever case they were sent in.
      const filterRules = (['prefix', 'suffix'] as const).flatMap((name) =>
        r[name] === undefined ? [] : [{ Name: name === 'prefix' ? 'Prefix' : 'Suffix', Value: r[name] }],
      );
      return {
        Id: r.id,
        [DESTINATIONS[element]]: r.arn,
        Event: r.events,
        Filter: filterRules.length > 0 ? { S3Key: { FilterRule: filterRules } } : undefined,
      };
    });
  }
  if (config.eventBridge) doc['EventBridgeConfiguration'] = {};
  return doc;
}

/**
 * A key as S3 event messages carry it: form-style URL encoding (space → `+`, so a literal `+` is
 * `%2B`), with `/` and `*-._` left as they are.
 */
export function encodeEventKey(key: string): string {
  return Array.from(Buffer.from(key, 'utf8'), (byte) => {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9/*\-._]/.test(c)) return c;
    if (c === ' ') return '+';
    return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/**
 * Filter values are written URL-encoded (a space as `+`, as the S3 guide asks); compare them decoded
 * with the raw key, so a value written with a plain space still matches.
 */
function filterValue(value: string | undefined): string {
  if (!value) return '';
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

export type ObjectEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Post'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload'
  | 'ObjectRemoved:Delete'
  | 'ObjectRemoved:DeleteMarkerCreated';

export interface ObjectEvent {
  eventName: ObjectEventName;
  bucket: { name: string; region: string; notification: NotificationConfig };
  key: string;
  size?: number;
  /** Quoted, as in the ETag header; the message carries it bare. */
  etag?: string;
  versionId?: string;
  requestId: string;
  sourceIp: string;
  principalId: string;
}

/** What the host sees of each ObjectCreated, with the messages that went to Lambda destinations. */
export interface ObjectCreatedNotice {
  bucket: string;
  key: string;
  eventName: ObjectEventName;
  size: number;
  etag: string;
  versionId?: string;
  deliveries: Delivery[];
}
export type ObjectCreatedListener = (notice: ObjectCreatedNotice) => void;

/** The bucket ARN an S3 event record names: the aws:SourceArn of S3's invocation. */
function bucketArnOfEvent(event: unknown): string {
  const records = (event as { Records?: { s3?: { bucket?: { arn?: string } } }[] }).Records;
  return records?.[0]?.s3?.bucket?.arn ?? '';
}

export interface Delivery {
  functionArn: string;
  event: unknown;
}

export interface NotifierState {
  sequence: string;
  lastCreated: Array<[string, Delivery[]]>;
}

export class Notifier {
  private readonly pending = new Set<Promise<void>>();
  private readonly lastCreated = new Map<string, Delivery[]>();
  private readonly listeners: ObjectCreatedListener[] = [];
  private sequence = 0n;
  private readonly ownerId: string;

  constructor(
    accountId: string,
    private readonly invokeLambda: InvokeLambda | undefined,
  ) {
    this.ownerId = `A${createHash('sha256').update(accountId).digest('hex').slice(0, 13).toUpperCase()}`;
  }

  /** Hex, strictly increasing across restarts because it starts from the clock. */
  private nextSequencer(): string {
    const clock = BigInt(Date.now()) << 16n;
    this.sequence = clock > this.sequence ? clock : this.sequence + 1n;
    return this.sequence.toString(16).toUpperCase().padStart(18, '0');
  }

  publish(e: ObjectEvent): void {
    const object: Record<string, unknown> = { key: encodeEventKey(e.key) };
    if (e.size !== undefined) object['size'] = e.size;
    if (e.etag !== undefined) object['eTag'] = e.etag.replace(/"/g, '');
    if (e.versionId !== undefined && e.versionId !== 'null') object['versionId'] = e.versionId;
    object['sequencer'] = this.nextSequencer();
    const eventTime = new Date().toISOString();
    const record = (configurationId: string) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: e.bucket.region,
      eventTime,
      eventName: e.eventName,
      userIdentity: { principalId: e.principalId },
      requestParameters: { sourceIPAddress: e.sourceIp },
      responseElements: { 'x-amz-request-id': e.requestId, 'x-amz-id-2': randomBytes(48).toString('base64') },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId,
        bucket: {
          name: e.bucket.name,
          ownerIdentity: { principalId: this.ownerId },
          arn: `arn:aws:s3:::${e.bucket.name}`,
        },
        object: { ...object },
      },
    });
    const deliveries = e.bucket.notification.rules
      .filter(
        (r) =>
          r.element === 'CloudFunctionConfiguration' &&
          r.events.some((p) => covers(p, `s3:${e.eventName}`)) &&
          e.key.startsWith(filterValue(r.prefix)) &&
          e.key.endsWith(filterValue(r.suffix)),
      )
      .map((r) => ({ functionArn: r.arn, event: { Records: [record(r.id)] } }));
    for (const d of deliveries) this.deliver(d);
    if (!e.eventName.startsWith('ObjectCreated:')) return;
    this.lastCreated.set(this.objectId(e.bucket.name, e.key), deliveries);
    const notice: ObjectCreatedNotice = {
      bucket: e.bucket.name,
      key: e.key,
      eventName: e.eventName,
      size: e.size ?? 0,
      etag: e.etag ?? '',
      deliveries,
    };
    if (e.versionId !== undefined && e.versionId !== 'null') notice.versionId = e.versionId;
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch (err) {
        console.error('[embedded s3] ObjectCreated listener failed:', err);
      }
    }
  }

  private objectId(bucket: string, key: string): string {
    return `${bucket}/${key}`;
  }

  /** Runs after the current request has been answered; S3 would not hold the PUT for its Lambda. */
  private deliver(d: Delivery): Promise<void> {
    const invoke = this.invokeLambda;
    if (!invoke) return Promise.resolve();
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      // A copy each time, so a handler that edits its event cannot change what a redelivery sends.
      .then(() => invoke(d.functionArn, structuredClone(d.event), bucketArnOfEvent(d.event)))
      .then(
        () => undefined,
        (err: unknown) => console.error(`[embedded s3] notification to ${d.functionArn} failed:`, err),
      )
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
    return run;
  }

  /** Sends the object's last ObjectCreated messages again, `times` over; answers how many went out. */
  async redeliver(bucket: string, key: string, times: number): Promise<number> {
    if (!Number.isInteger(times) || times < 0)
      throw invalidArgument('times must be a whole number of 0 or more');
    const deliveries = this.lastCreated.get(this.objectId(bucket, key));
    if (!deliveries) throw noSuchKey(key);
    const runs: Promise<void>[] = [];
    for (let i = 0; i < times; i++) for (const d of deliveries) runs.push(this.deliver(d));
    await Promise.all(runs);
    return runs.length;
  }

  onObjectCreated(listener: ObjectCreatedListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Resolves once every delivery started so far has settled. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  forgetBucket(bucket: string): void {
    for (const id of this.lastCreated.keys()) if (id.startsWith(`${bucket}/`)) this.lastCreated.delete(id);
  }

  snapshot(): NotifierState {
    return { sequence: this.sequence.toString(), lastCreated: [...this.lastCreated] };
  }

  restore(state: NotifierState | undefined): void {
    this.lastCreated.clear();
    for (const [id, deliveries] of state?.lastCreated ?? []) this.lastCreated.set(id, deliveries);
    this.sequence = BigInt(state?.sequence ?? '0');
  }
}
