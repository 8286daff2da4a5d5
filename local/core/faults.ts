/** Fault injection: the next N calls of a service operation fail with a named AWS error, or wait. */
import { AwsError } from './types';

export interface FaultSpec {
  service: string;
  operation: string;
  /** How many calls to affect. */
  count: number;
  /** AWS error code to answer with; omit for a pure delay. */
  error?: string;
  message?: string;
  status?: number;
  delayMs?: number;
  /**
   * In process only: the call waits until this settles, then for `delayMs`. A process that "died"
   * mid-call stays dead until the scenario says so, however slow the machine.
   */
  until?: Promise<unknown>;
}

const DEFAULT_STATUS: Record<string, number> = {
  ThrottlingException: 400,
  ServiceQuotaExceededException: 400,
  InternalServerException: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  KMSInternalException: 500,
  InternalError: 500,
  SlowDown: 503,
};

/**
 * Where a service's model gives an error another status than the table above (the `httpError`
 * of the Smithy models the SDK ships): Bedrock throttles with 429, Step Functions answers a
 * quota with 402.
 */
const SERVICE_STATUS: Record<string, Record<string, number>> = {
  bedrock: { ThrottlingException: 429, ServiceQuotaExceededException: 400, ServiceUnavailableException: 503 },
  states: { ServiceQuotaExceededException: 402 },
};

export function defaultFaultStatus(service: string, error: string): number {
  return SERVICE_STATUS[service]?.[error] ?? DEFAULT_STATUS[error] ?? 400;
}

export class FaultInjector {
  private readonly pending: FaultSpec[] = [];
  /** Calls seen per `service:operation`, for tests that count retries. */
  readonly calls = new Map<string, number>();

  add(spec: FaultSpec): void {
    if (!(spec.count > 0)) throw new Error('count must be a positive number');
    this.pending.push({ ...spec });
  }

  clear(): void {
    this.pending.length = 0;
  }

  list(): FaultSpec[] {
    return this.pending.map((f) => ({ ...f }));
  }

  async apply(service: string, operation: string): Promise<void> {
    const id = `${service}:${operation}`;
    this.calls.set(id, (this.calls.get(id) ?? 0) + 1);
    const i = this.pending.findIndex((f) => f.service === service && f.operation === operation);
    if (i < 0) return;
    const fault = this.pending[i] as FaultSpec;
    fault.count -= 1;
    if (fault.count <= 0) this.pending.splice(i, 1);
    if (fault.until) await fault.until.catch(() => undefined);
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.error) {
      throw new AwsError(
        fault.error,
        fault.message ?? `Injected ${fault.error} on ${operation}`,
        fault.status ?? defaultFaultStatus(service, fault.error),
      );
    }
  }
}
