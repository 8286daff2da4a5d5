/**
 * Scheduled rules: a `rate(...)` rule's targets run every period (scaled for tests) with the
 * "Scheduled Event" EventBridge sends (source `aws.events`, the rule's ARN in `resources`).
 * `cron(...)` rules are stored but not run here.
 */
import type { Bus } from './bus';
import type { Rules } from './rules';

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The period of a `rate(value unit)` expression, or undefined for anything else. */
export function ratePeriodMs(expression: string): number | undefined {
  const m = RATE.exec(expression);
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = (m[2] as string).replace(/s$/, '');
  // "If the value is equal to 1, then the unit must be singular. If the value is greater than 1,
  // the unit must be plural" (EventBridge user guide, Rate expressions reference).
  if (value < 1 || (value === 1) !== !(m[2] as string).endsWith('s')) return undefined;
  return value * (UNIT_MS[unit] as number);
}

export class Schedules {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly rules: Rules,
    private readonly bus: Bus,
    /** Multiplies every period; 0 runs no schedule. */
    private readonly scale: number,
    /** Ticks are skipped while paused (the stack's functions are not built yet). */
    private paused: boolean,
  ) {}

  resume(): void {
    this.paused = false;
  }

  /**
   * (Re)arms the timer of a rule after PutRule or a restore. The rule is looked up at each tick,
   * so a later PutRule that disables it or drops its schedule takes effect.
   */
  arm(bus: string, name: string): void {
    const key = `${bus}|${name}`;
    const old = this.timers.get(key);
    if (old) clearInterval(old);
    this.timers.delete(key);
    const expression = this.rules.find(bus, name)?.ScheduleExpression;
    const period = expression ? ratePeriodMs(expression) : undefined;
    if (period === undefined || !(this.scale > 0)) return;
    const timer = setInterval(
      () => {
        const rule = this.rules.find(bus, name);
        if (this.paused || !rule?.ScheduleExpression || rule.State !== 'ENABLED') return;
        this.bus.scheduled(rule);
      },
      Math.max(10, Math.round(period * this.scale)),
    );
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Stops every schedule (deliveries already under way finish). */
  close(): void {
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
  }
}
