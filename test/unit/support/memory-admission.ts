/**
 * The admission table's conditional semantics in memory (what AdmissionTable does with DynamoDB
 * condition expressions), plus Step Functions' answer to a task token: first answer wins, a
 * closed token answers 'closed'. Each call yields first, so concurrent callers interleave.
 */
import type {
  AdmissionPorts,
  SlotHolder,
  Slots,
  SweepPorts,
  Waiter,
} from '../../../functions/shared/admission';
import type { TaskAnswer } from '../../../functions/shared/aws/sfn';

export class MemoryAdmission implements AdmissionPorts {
  holders = new Map<string, SlotHolder>();
  exists = false;
  maxSlots: number | undefined;
  slotLeaseMs: number | undefined;
  quotaCeiling: number | undefined;
  quotaCeilingUntil: number | undefined;
  waiters = new Map<string, Waiter>();
  /** Token → output of its (first) answer. */
  answered = new Map<string, unknown>();
  closed = new Set<string>();
  /** Highest number of holders ever seen at once. */
  peak = 0;
  clock = 1_000_000;

  constructor(private readonly yieldEvery: () => Promise<void> = () => new Promise((r) => setImmediate(r))) {}

  now = () => this.clock;

  private async tick() {
    await this.yieldEvery();
  }

  async readSlots(): Promise<Slots> {
    await this.tick();
    return {
      holders: [...this.holders.values()].map((h) => ({ ...h })),
      ...(this.maxSlots !== undefined ? { maxSlots: this.maxSlots } : {}),
      ...(this.slotLeaseMs !== undefined ? { slotLeaseMs: this.slotLeaseMs } : {}),
      ...(this.quotaCeiling !== undefined ? { quotaCeiling: this.quotaCeiling } : {}),
      ...(this.quotaCeilingUntil !== undefined ? { quotaCeilingUntil: this.quotaCeilingUntil } : {}),
    };
  }

  async configureSlots(maxSlots: number, slotLeaseMs: number) {
    await this.tick();
    this.exists = true;
    this.maxSlots = maxSlots;
    this.slotLeaseMs = slotLeaseMs;
  }

  private ceilingBlocks(now: number, size: number) {
    return (
      this.quotaCeiling !== undefined && (this.quotaCeilingUntil ?? 0) > now && size >= this.quotaCeiling
    );
  }

  async takeSlot(holder: SlotHolder, capacity: number, now: number) {
    await this.tick();
    // size(holders) < :cap fails when the record does not exist yet.
    if (!this.exists || this.holders.has(holder.jobName) || this.holders.size >= capacity) return false;
    if (this.ceilingBlocks(now, this.holders.size)) return false;
    this.holders.set(holder.jobName, { ...holder });
    this.peak = Math.max(this.peak, this.holders.size);
    return true;
  }

  async handOffSlot(from: string, to: SlotHolder) {
    await this.tick();
    if (!this.holders.has(from) || this.holders.has(to.jobName)) return false;
    if (this.holders.size > (this.maxSlots ?? 0)) return false;
    this.holders.delete(from);
    this.holders.set(to.jobName, { ...to });
    return true;
  }

  async releaseSlot(jobName: string, since?: number) {
    await this.tick();
    const h = this.holders.get(jobName);
    if (!h || (since !== undefined && h.since !== since)) return false;
    this.holders.delete(jobName);
    return true;
  }

  async setQuotaCeiling(value: number, until: number) {
    await this.tick();
    this.quotaCeiling = value;
    this.quotaCeilingUntil = until;
  }

  async raiseQuotaCeiling() {
    await this.tick();
    if (this.quotaCeiling === undefined) return false;
    this.quotaCeiling += 1;
    return true;
  }

  async clearQuotaCeiling(seen: number) {
    await this.tick();
    if (this.quotaCeiling !== seen) return false;
    this.quotaCeiling = undefined;
    this.quotaCeilingUntil = undefined;
    return true;
  }

  async queue(limit?: number) {
    await this.tick();
    const all = [...this.waiters.values()].sort((a, b) => a.ticket.localeCompare(b.ticket));
    return (limit ? all.slice(0, limit) : all).map((w) => ({ ...w }));
  }

  async putWaiter(w: Waiter) {
    await this.tick();
    this.waiters.set(w.ticket, { ...w });
  }

  async removeWaiter(ticket: string, taskToken: string) {
    await this.tick();
    if (this.waiters.get(ticket)?.taskToken !== taskToken) return false;
    this.waiters.delete(ticket);
    return true;
  }

  /** These ports plus what the sweep asks about runs and jobs. */
  sweepPorts(
    jobStatus: (jobName: string) => string | undefined,
    executionStatus: (executionArn: string) => string,
  ): SweepPorts {
    return Object.assign(Object.create(this) as MemoryAdmission, {
      jobStatus: async (jobName: string) => jobStatus(jobName),
      executionStatus: async (arn: string) => executionStatus(arn),
    });
  }

  async sendTaskSuccess(token: string, output: unknown): Promise<TaskAnswer> {
    await this.tick();
    if (this.closed.has(token) || this.answered.has(token)) return 'closed';
    this.answered.set(token, output);
    return 'sent';
  }
}
