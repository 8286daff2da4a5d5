/**
 * Admission of Bedrock customization jobs under the account's concurrent-job quota.
 *
 * A run that passed its checks takes one of `capacity` slots, or parks its task token in a FIFO
 * wait list (ordered by the run's start). Whoever frees a slot — a job's end seen by the event or
 * the poll, a run that failed, the sweeper reclaiming a dead holder's slot — then "pumps": it
 * hands free slots to the oldest waiters and answers their tokens. Nothing polls per waiting run,
 * and a waiting run spends no state transitions: it sits in one Task until its token is answered.
 *
 * Every change is a conditional write; the pump re-reads after any write that lost a race. A run
 * that parks pumps right after parking, so a slot freed between its failed take and its park is
 * never lost (whichever of the two writes lands last, its writer's pump sees both).
 */
import type { SlotHolder, Slots, TakeOutcome, Waiter } from './aws/admission';
import type { TaskAnswer } from './aws/sfn';

export type { SlotHolder, Slots, Waiter };

export interface AdmissionStore {
  readSlots(): Promise<Slots>;
  configureSlots(maxSlots: number, slotLeaseMs: number): Promise<void>;
  takeSlot(holder: SlotHolder, capacity: number): Promise<TakeOutcome>;
  releaseSlot(jobName: string, since?: number): Promise<boolean>;
  setQuotaCeiling(value: number, until: number): Promise<void>;
  raiseQuotaCeiling(seen: number): Promise<boolean>;
  clearQuotaCeiling(seen: number): Promise<boolean>;
  queue(limit?: number): Promise<Waiter[]>;
  putWaiter(w: Waiter): Promise<void>;
  removeWaiter(ticket: string, taskToken: string): Promise<boolean>;
}

export interface AdmissionPorts extends AdmissionStore {
  sendTaskSuccess(taskToken: string, output: unknown): Promise<TaskAnswer>;
  now(): number;
}

/** What AdmitJob / RequeueJob resume with (the run's `$.admission`). */
export interface Admission {
  admitted: true;
  jobName: string;
  /** How many jobs may run at once, as this admission counted them. */
  capacity: number;
  waitedMs: number;
  /** `arrival`: a slot was free at once; `queue`: resumed from the wait list. */
  by: 'arrival' | 'queue';
  requeued?: boolean;
}

/**
 * Service Quotas' quota for Bedrock customization jobs in progress at once: "(Model customization)
 * Scheduled customization jobs", L-0406044C (listed by `aws service-quotas list-service-quotas
 * --service-code bedrock`). Read at run time because AWS may apply a lower value than its default
 * to an account ("the quotas that apply to your account might be lower than the default values" —
 * Bedrock user guide, Quotas).
 */
export const BEDROCK_JOB_QUOTA = { serviceCode: 'bedrock', quotaCode: 'L-0406044C' } as const;

/** When the quota cannot be read (no permission, no Service Quotas in the partition): a small, safe number. */
export const DEFAULT_MAX_CONCURRENT_JOBS = 2;

const DEFAULT_SLOT_LEASE_MS = 30 * 60_000;
/** Waiters handled per read of the list; the pump reads again while it makes progress. */
const PUMP_BATCH = 10;
const PUMP_ROUNDS = 25;

export type CapacitySource = 'maxConcurrentJobs' | 'service-quota' | 'default';

export async function resolveCapacity(
  setting: number | 'auto',
  readQuota: () => Promise<number | undefined>,
): Promise<{ capacity: number; source: CapacitySource; error?: string }> {
  if (setting !== 'auto') return { capacity: setting, source: 'maxConcurrentJobs' };
  try {
    const value = await readQuota();
    if (value !== undefined && Number.isFinite(value) && value >= 1)
      return { capacity: Math.floor(value), source: 'service-quota' };
    return { capacity: DEFAULT_MAX_CONCURRENT_JOBS, source: 'default', error: `quota value ${value}` };
  } catch (err) {
    const e = err as Error;
    return { capacity: DEFAULT_MAX_CONCURRENT_JOBS, source: 'default', error: `${e.name}: ${e.message}` };
  }
}

/** The configured slots, lowered while Bedrock has said its quota leaves room for fewer. */
export function effectiveCapacity(slots: Pick<Slots, 'maxSlots' | 'quotaCeiling' | 'quotaCeilingUntil'>, now: number) {
  const max = slots.maxSlots ?? DEFAULT_MAX_CONCURRENT_JOBS;
  const ceilingActive = slots.quotaCeiling !== undefined && (slots.quotaCeilingUntil ?? 0) > now;
  return ceilingActive ? Math.max(0, Math.min(max, slots.quotaCeiling as number)) : max;
}

/** FIFO by the run's start, so a run put back after a quota refusal keeps its place. */
export function ticketOf(executionStartTime: string, jobName: string): string {
  return `${executionStartTime}#${jobName}`;
}

export interface AdmitInput {
  jobName: string;
  executionArn: string;
  taskToken: string;
  ticket: string;
}

export interface AdmitSettings {
  capacity: number;
  slotLeaseMs: number;
}

export interface AdmitOutcome {
  admitted: boolean;
  queued: boolean;
  /** Waiters the pump resumed while this run parked (this run among them if a slot came free). */
  resumed: number;
}

function holderOf(w: Pick<Waiter, 'jobName' | 'executionArn'>, now: number, leaseMs: number): SlotHolder {
  return { jobName: w.jobName, executionArn: w.executionArn, since: now, leaseUntil: now + leaseMs };
}

/** A run asks for a slot: taken at once when nobody is ahead of it, else it waits in the list. */
export async function admitJob(input: AdmitInput, s: AdmitSettings, ports: AdmissionPorts): Promise<AdmitOutcome> {
  const now = ports.now();
  const [slots, head] = await Promise.all([ports.readSlots(), ports.queue(1)]);
  if (slots.maxSlots !== s.capacity || slots.slotLeaseMs !== s.slotLeaseMs) {
    await ports.configureSlots(s.capacity, s.slotLeaseMs);
  }
  const first = head[0];
  // Only when nobody waits (or the one waiting is this run, parked by an earlier attempt): a new
  // arrival must not overtake the list.
  if (!first || first.jobName === input.jobName) {
    const capacity = effectiveCapacity({ ...slots, maxSlots: s.capacity }, now);
    const outcome = await ports.takeSlot(holderOf(input, now, s.slotLeaseMs), capacity);
    if (outcome !== 'full') {
      const admission: Admission = { admitted: true, jobName: input.jobName, capacity, waitedMs: 0, by: 'arrival' };
      await ports.sendTaskSuccess(input.taskToken, admission);
      if (first) await ports.removeWaiter(first.ticket, first.taskToken);
      return { admitted: true, queued: false, resumed: 0 };
    }
  }
  await ports.putWaiter({ ticket: input.ticket, jobName: input.jobName, executionArn: input.executionArn, taskToken: input.taskToken, enqueuedAt: now });
  const resumed = await pump(ports);
  return { admitted: false, queued: true, resumed };
}

/**
 * Bedrock refused the job for its quota although a slot was free to us (jobs outside this stack
 * count too): the run gives its slot back, goes back to its place in the list, and the slots are
 * capped at what is running now until a job ends or `quotaRetryMs` passes.
 */
export async function requeueJob(
  input: AdmitInput,
  s: { quotaRetryMs: number },
  ports: AdmissionPorts,
): Promise<AdmitOutcome> {
  const now = ports.now();
  await ports.releaseSlot(input.jobName);
  const slots = await ports.readSlots();
  await ports.setQuotaCeiling(slots.holders.length, now + s.quotaRetryMs);
  await ports.putWaiter({
    ticket: input.ticket,
    jobName: input.jobName,
    executionArn: input.executionArn,
    taskToken: input.taskToken,
    enqueuedAt: now,
    requeued: true,
  });
  const resumed = await pump(ports);
  return { admitted: false, queued: true, resumed };
}

/**
 * A job ended (event or poll) or a run failed: its slot goes to the next waiter. Idempotent — the
 * event and the poll may both report one end. Bedrock's events report every job of the account:
 * with `anyJob`, the end of a job that held no slot here (another stack's, someone's by hand)
 * raises a quota ceiling by one, since that job's room in the quota is free now.
 */
export async function releaseJobSlot(
  jobName: string,
  ports: AdmissionPorts,
  opts: { anyJob?: boolean } = {},
): Promise<{ released: boolean; resumed: number }> {
  const released = await ports.releaseSlot(jobName);
  const resumed = await pump(ports, { outsideJobEnded: opts.anyJob === true && !released });
  return { released, resumed };
}

/** Hands free slots to the oldest waiters and answers their tokens; returns how many it resumed. */
export async function pump(ports: AdmissionPorts, opts: { outsideJobEnded?: boolean } = {}): Promise<number> {
  let resumed = 0;
  let raise = opts.outsideJobEnded === true;
  for (let round = 0; round < PUMP_ROUNDS; round++) {
    const [slots, head] = await Promise.all([ports.readSlots(), ports.queue(PUMP_BATCH)]);
    const now = ports.now();
    if (slots.quotaCeiling !== undefined) {
      if (raise && (await ports.raiseQuotaCeiling(slots.quotaCeiling))) slots.quotaCeiling += 1;
      raise = false;
      const expired = (slots.quotaCeilingUntil ?? 0) <= now;
      if (expired || slots.quotaCeiling >= (slots.maxSlots ?? Number.POSITIVE_INFINITY)) {
        await ports.clearQuotaCeiling(slots.quotaCeiling);
        delete slots.quotaCeiling;
      }
    }
    if (head.length === 0) return resumed;
    const capacity = effectiveCapacity(slots, now);
    const holding = new Set(slots.holders.map((h) => h.jobName));
    let held = slots.holders.length;
    let progress = false;
    for (const w of head) {
      if (holding.has(w.jobName)) {
        // Admitted by an earlier pump (or by itself) that has not answered yet, or crashed before.
        if ((await resume(w, capacity, ports, now)) === 'sent') resumed += 1;
        progress = true;
        continue;
      }
      if (held >= capacity) break;
      const holder = holderOf(w, now, slots.slotLeaseMs ?? DEFAULT_SLOT_LEASE_MS);
      const outcome = await ports.takeSlot(holder, capacity);
      progress = true;
      if (outcome === 'full') break;
      held += 1;
      holding.add(w.jobName);
      // 'closed' is ambiguous — another pump answered first, or the run was stopped while it
      // waited — so the slot is not given back here: the sweep reclaims it if the run is dead.
      if ((await resume(w, capacity, ports, now)) === 'sent') resumed += 1;
    }
    if (!progress) return resumed;
  }
  return resumed;
}

async function resume(w: Waiter, capacity: number, ports: AdmissionPorts, now: number): Promise<TaskAnswer> {
  const admission: Admission = {
    admitted: true,
    jobName: w.jobName,
    capacity,
    waitedMs: Math.max(0, now - w.enqueuedAt),
    by: 'queue',
    ...(w.requeued ? { requeued: true } : {}),
  };
  const answer = await ports.sendTaskSuccess(w.taskToken, admission);
  await ports.removeWaiter(w.ticket, w.taskToken);
  return answer;
}

export interface SweepPorts extends AdmissionPorts {
  /** RUNNING, another status, or `missing`. */
  executionStatus(executionArn: string): Promise<string>;
  /** The job's status, undefined when Bedrock has no job of that name. */
  jobStatus(jobName: string): Promise<string | undefined>;
}

export interface Reclaimed {
  jobName: string;
  reason: string;
}

/**
 * The scheduled sweep: slots whose holder died are reclaimed, then the list is pumped. A slot
 * whose job still runs is never taken away (the job counts against Bedrock's quota until it ends,
 * and its end releases the slot); one whose job ended, whose run closed before it had a job, or
 * whose lease ran out before a job existed, is.
 */
export async function sweepAdmission(ports: SweepPorts): Promise<{ reclaimed: Reclaimed[]; resumed: number }> {
  const [slots, head] = await Promise.all([ports.readSlots(), ports.queue(1)]);
  const now = ports.now();
  const someoneWaits = head.length > 0;
  const reclaimed: Reclaimed[] = [];
  for (const h of slots.holders) {
    const expired = h.leaseUntil <= now;
    if (!someoneWaits && !expired) continue;
    const job = await ports.jobStatus(h.jobName);
    if (job === 'InProgress' || job === 'Stopping') continue;
    let reason: string | undefined;
    if (job) reason = `its job ended (${job})`;
    else if (expired) reason = 'its lease ran out before it had a job';
    else {
      const run = await ports.executionStatus(h.executionArn);
      if (run !== 'RUNNING') reason = `its run is ${run.toLowerCase()} and never had a job`;
    }
    if (reason && (await ports.releaseSlot(h.jobName, h.since))) reclaimed.push({ jobName: h.jobName, reason });
  }
  const resumed = await pump(ports);
  return { reclaimed, resumed };
}

/** 1-based places of each queued job, oldest first. */
export function queuePositions(waiters: Waiter[]): Map<string, { position: number; of: number; since: number }> {
  return new Map(waiters.map((w, i) => [w.jobName, { position: i + 1, of: waiters.length, since: w.enqueuedAt }]));
}
