/**
 * EventBridge (awsJson1_1, `X-Amz-Target: AWSEvents.<Op>`): the default bus, rules with event
 * patterns (eventbridge/rules.ts, eventbridge/patterns.ts), Lambda targets invoked asynchronously
 * (eventbridge/bus.ts), `rate(...)` schedules (eventbridge/schedules.ts), and controls that make
 * delivery as unreliable as AWS documents it.
 */
import * as eventsModel from '@aws-sdk/client-eventbridge';
import { asRecord, type Body } from '../core/input';
import { AwsJsonService } from '../core/json-protocol';
import type { OperationTable } from '../core/operations';
import { AwsError, type BusEntry, type InvokeLambda, type PutEvents } from '../core/types';
import type { AccessRequest } from '../iam/types';
import { eventBridgeAccess } from './eventbridge/access';
import {
  Bus,
  type DeliveryRecord,
  type EventEnvelope,
  type EventFilter,
  matchesFilter,
  type PutEventRecord,
} from './eventbridge/bus';
import { busName, Rules } from './eventbridge/rules';
import { Schedules } from './eventbridge/schedules';

export type { DeliveryRecord, EventEnvelope, EventFilter, PutEventRecord } from './eventbridge/bus';

export interface EventBridgeOptions {
  accountId: string;
  region: string;
  invokeLambda: InvokeLambda;
  /** Multiplies the period of `rate(...)` schedules (tests use a small value); 0 stops schedules. */
  scheduleScale?: number;
  /** Schedules do not fire until resumeSchedules() (the stack's functions are not built yet). */
  schedulesPaused?: boolean;
}

export class EventBridgeService extends AwsJsonService {
  override readonly signingName = 'events';
  private readonly rules: Rules;
  private readonly bus: Bus;
  private readonly schedules: Schedules;

  constructor(private readonly options: EventBridgeOptions) {
    super({ name: 'EventBridge', contentType: 'application/x-amz-json-1.1', model: eventsModel });
    this.rules = new Rules(options);
    this.bus = new Bus(this.rules, options);
    this.schedules = new Schedules(
      this.rules,
      this.bus,
      options.scheduleScale ?? 1,
      options.schedulesPaused === true,
    );
  }

  protected readonly operations: OperationTable<Body> = {
    PutRule: (b) => {
      const out = this.rules.putRule(b);
      this.schedules.arm(busName(b.EventBusName), String(b.Name));
      return out;
    },
    PutTargets: (b) => this.rules.putTargets(b),
    PutEvents: (b) => this.putEventsApi(b),
  };

  protected access(operation: string, input: Body): Promise<AccessRequest[]> {
    return eventBridgeAccess(operation, input, this.options);
  }

  /** The wire PutEvents: unlike in-process callers, API callers may not use the reserved `aws.` sources. */
  private putEventsApi(body: Body) {
    const entries = Array.isArray(body.Entries) ? body.Entries : [];
    if (entries.length < 1 || entries.length > 10) {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    const results = entries.map((raw) => this.bus.accept(asRecord(raw) ?? {}, false));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** In-process PutEvents for the emulated AWS services (Bedrock's job events come this way). */
  readonly putEvents: PutEvents = async (entries: BusEntry[]) => {
    for (const entry of entries) {
      const result = this.bus.accept({ ...entry }, true);
      if ('ErrorCode' in result) throw new AwsError(result.ErrorCode, result.ErrorMessage);
    }
  };

  // ---------------------------------------------------------------- controls and in-process views

  /** The next `count` events matching `filter` are accepted but never reach a rule (best-effort delivery). */
  dropNext(count: number, filter: EventFilter = {}): void {
    if (!(count > 0)) throw new Error('count must be a positive number');
    this.bus.drops.push({ remaining: count, filter });
  }

  /** Forgets pending dropNext / duplicateNext requests. */
  clearDrops(): void {
    this.bus.drops.length = 0;
    this.bus.duplicates.length = 0;
  }

  /** The next `count` events matching `filter` reach their targets twice (at-least-once delivery). */
  duplicateNext(count: number, filter: EventFilter = {}): void {
    if (!(count > 0)) throw new Error('count must be a positive number');
    this.bus.duplicates.push({ remaining: count, filter });
  }

  /** Every event put so far, dropped ones included, oldest first. */
  events(filter: EventFilter = {}): EventEnvelope[] {
    return this.bus.log.filter((r) => matchesFilter(filter, r.envelope)).map((r) => r.envelope);
  }

  /** Every event with what became of it (dropped, duplicated, matched rules). */
  history(): PutEventRecord[] {
    return [...this.bus.log];
  }

  deliveries(): DeliveryRecord[] {
    return [...this.bus.deliveries];
  }

  /** Resolves once no target invocation is running (including ones started by those invocations). */
  idle(): Promise<void> {
    return this.bus.idle();
  }

  snapshot(): unknown {
    return this.rules.snapshot();
  }

  restore(state: unknown): void {
    this.rules.restore(state);
    for (const rule of this.rules.all()) this.schedules.arm(rule.EventBusName, rule.Name);
  }

  /** Scheduled rules start firing (the embedded AWS calls this once its functions are built). */
  resumeSchedules(): void {
    this.schedules.resume();
  }

  /** Stops every schedule; deliveries already under way finish (idle() waits for them). */
  close(): void {
    this.schedules.close();
  }
}
