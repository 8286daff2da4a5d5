/**
 * Admission of Bedrock customization jobs under the account's concurrent-job quota.
 *
 * A run that passed its checks takes one of `capacity` slots, or parks its task token in a FIFO
 * wait list (ordered by the run's start). A job's end, seen by Bedrock's event, hands its slot
 * straight to the oldest waiter in one conditional write and answers that waiter's token; a
 * failed run, the sweeper reclaiming a dead holder's slot (a lost event's job among them) and a
 * run that parks "fill" free slots the same way. Nothing polls per waiting run, and a waiting run
 * spends no state transitions: it sits in one Task until its token is answered.
 *
 * Every change is one conditional write, so concurrent writers cannot overfill the slots or give
 * one slot twice. No wake-up is lost: a run that parks fills right after parking, and a release
 * that found nobody to hand its slot to looks at the list again after freeing it — of a park and
 * a release racing, whichever write lands last has its writer see both.
 */
import type { SlotHolder, Slots, Waiter } from './aws/admission';
import type { TaskAnswer } from './aws/sfn';

export type { SlotHolder, Slots, Waiter };

export interface AdmissionStore {
  readSlots(): Promise<Slots>;
  configureSlots(maxSlots: number, slotLeaseMs: number): Promise<void>;
  takeSlot(holder: SlotHolder, capacity: number, now: number): Promise<boolean>;
  handOffSlot(from: string, to: SlotHolder): Promise<boolean>;
  releaseSlot(jobName: string, since?: number): Promise<boolean>;
  setQuotaCeiling(value: number, until: number): Promise<void>;
  raiseQuotaCeiling(): Promise<boolean>;
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
/** Waiters looked at per read of the list. */
const FILL_BATCH = 10;
const HANDOFF_TRIES = 3;
/**
 * A waiter that holds a slot but was not answered this long after it got it: whoever gave it the
 * slot died before answering. The sweep (or its own retried attempt) answers it.
 */
export const REPAIR_AFTER_MS = 10_000;

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
export function effectiveCapacity(
  slots: Pick<Slots, 'maxSlots' | 'quotaCeiling' | 'quotaCeilingUntil'>,
  now: number,
) {
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
  /** Write capacity and lease to the slot record (the first admission of a container, or a change). */
  configure?: boolean;
}

export interface AdmitOutcome {
  admitted: boolean;
  queued: boolean;
  /** Waiters resumed while this run parked (this run among them if a slot came free). */
  resumed: number;
}

function waiterOf(input: AdmitInput, now: number): Waiter {
  const { ticket, jobName, executionArn, taskToken } = input;
  return { ticket, jobName, executionArn, taskToken, enqueuedAt: now };
}

function holderOf(w: Pick<Waiter, 'jobName' | 'executionArn'>, now: number): SlotHolder {
  return { jobName: w.jobName, executionArn: w.executionArn, since: now };
}

/** A run asks for a slot: taken at once when nobody is ahead of it, else it waits in the list. */
export async function admitJob(
  input: AdmitInput,
  s: AdmitSettings,
  ports: AdmissionPorts,
): Promise<AdmitOutcome> {
  if (s.configure) await ports.configureSlots(s.capacity, s.slotLeaseMs);
  const now = ports.now();
  const [first] = await ports.queue(1);
  // Only when nobody waits (or the one waiting is this run, parked by an earlier attempt): a new
  // arrival must not overtake the list.
  if (!first || first.jobName === input.jobName) {
    const take = () => ports.takeSlot(holderOf(input, now), s.capacity, now);
    if ((await take()) || ((await reconfigured(s, ports)) && (await take()))) {
      const admission: Admission = {
        admitted: true,
        jobName: input.jobName,
        capacity: s.capacity,
        waitedMs: 0,
        by: 'arrival',
      };
      await ports.sendTaskSuccess(input.taskToken, admission);
      if (first) await ports.removeWaiter(first.ticket, first.taskToken);
      return { admitted: true, queued: false, resumed: 0 };
    }
  }
  await ports.putWaiter(waiterOf(input, now));
  const resumed = await fill(ports, { self: input.jobName });
  return { admitted: false, queued: true, resumed };
}

/**
 * A refused take on a slot record that lost its configuration (deleted by hand, restored from an
 * old backup) would leave every run waiting: write it again, whatever the container remembers.
 */
async function reconfigured(s: AdmitSettings, ports: AdmissionPorts): Promise<boolean> {
  const slots = await ports.readSlots();
  if (slots.maxSlots === s.capacity && slots.slotLeaseMs === s.slotLeaseMs) return false;
  await ports.configureSlots(s.capacity, s.slotLeaseMs);
  return true;
}

/**
 * Bedrock refused the job for its quota although a slot was free to us (jobs outside this stack
 * count too): the run gives its slot back, goes back to its place in the list, and the slots are
 * capped at what runs now until a job outside this stack ends or `quotaRetryMs` passes.
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
  await ports.putWaiter({ ...waiterOf(input, now), requeued: true });
  const resumed = await fill(ports);
  return { admitted: false, queued: true, resumed };
}

/**
 * A job ended (Bedrock's event) or a run failed: its slot goes straight to the oldest
 * waiter, else it is freed. Idempotent — an event may be delivered twice. Bedrock's
 * events report every job of the account: with `anyJob`, the end of a job that held no slot here
 * (another stack's, one started by hand) raises a quota ceiling by one.
 */
export async function releaseJobSlot(
  jobName: string,
  ports: AdmissionPorts,
  opts: { anyJob?: boolean } = {},
): Promise<{ released: boolean; handedTo?: string; resumed: number }> {
  const [head, slots] = await Promise.all([ports.queue(HANDOFF_TRIES + 1), ports.readSlots()]);
  if (!slots.holders.some((h) => h.jobName === jobName)) {
    // A repeated report of the same end, or a job that held no slot here.
    const raised =
      opts.anyJob === true && slots.quotaCeiling !== undefined && (await ports.raiseQuotaCeiling());
    return { released: false, resumed: raised ? await fill(ports) : 0 };
  }
  // Hand the slot over unless there are more holders than slots (the slots were lowered).
  if (slots.holders.length <= (slots.maxSlots ?? 0)) {
    const holding = new Set(slots.holders.map((h) => h.jobName));
    const candidates = head.filter((w) => !holding.has(w.jobName)).slice(0, HANDOFF_TRIES);
    for (const w of candidates) {
      const now = ports.now();
      // Refused: the waiter got a slot from someone else meanwhile, or ours went (a concurrent
      // report of the same end released it): try the next, then fall back to freeing.
      if (!(await ports.handOffSlot(jobName, holderOf(w, now)))) continue;
      const answer = await resume(w, ports, now, effectiveCapacity(slots, now));
      return { released: true, handedTo: w.jobName, resumed: answer === 'sent' ? 1 : 0 };
    }
  }
  const released = await ports.releaseSlot(jobName);
  // A run may have parked between our look at the list and the release: look again.
  return { released, resumed: released ? await fill(ports) : 0 };
}

/**
 * Gives free slots to the oldest waiters and answers their tokens; returns how many it resumed.
 * A waiter already holding a slot is left to whoever gave it (it is answering now), unless that
 * is `self` or it has waited unanswered longer than REPAIR_AFTER_MS.
 */
export async function fill(ports: AdmissionPorts, opts: { self?: string } = {}): Promise<number> {
  const head = await ports.queue(FILL_BATCH);
  if (head.length === 0) return 0;
  const slots = await ports.readSlots();
  const now = ports.now();
  const ceiling = slots.quotaCeiling;
  if (ceiling !== undefined && ((slots.quotaCeilingUntil ?? 0) <= now || ceiling >= (slots.maxSlots ?? 0))) {
    // Lapsed, or risen back to all the slots: no ceiling any more.
    if (await ports.clearQuotaCeiling(ceiling)) delete slots.quotaCeiling;
  }
  const capacity = effectiveCapacity(slots, now);
  const holding = new Map(slots.holders.map((h) => [h.jobName, h]));
  let free = capacity - slots.holders.length;
  let resumed = 0;
  for (const w of head) {
    const held = holding.get(w.jobName);
    if (held) {
      if (w.jobName === opts.self || now - held.since > REPAIR_AFTER_MS) {
        if ((await resume(w, ports, now, capacity)) === 'sent') resumed += 1;
      }
      continue;
    }
    if (free <= 0) break;
    // Refused: another writer changed the slots since our read, and goes on filling itself (the
    // sweep is the backstop if it dies): no re-read here, which would only make a herd.
    if (!(await ports.takeSlot(holderOf(w, now), capacity, now))) break;
    free -= 1;
    // 'closed' — another writer answered first, or the run was stopped while it waited — is
    // not a reason to give the slot back here: the sweep reclaims it if the run is dead.
    if ((await resume(w, ports, now, capacity)) === 'sent') resumed += 1;
  }
  return resumed;
}

async function resume(w: Waiter, ports: AdmissionPorts, now: number, capacity: number): Promise<TaskAnswer> {
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
 * The scheduled sweep: slots whose holder died are reclaimed, then free slots are filled. A slot
 * whose job still runs is never taken away (the job counts against Bedrock's quota until it ends,
 * and its end releases the slot); one whose job ended, whose run closed before it had a job, or
 * whose lease ran out before a job existed, is.
 */
export async function sweepAdmission(
  ports: SweepPorts,
): Promise<{ reclaimed: Reclaimed[]; resumed: number }> {
  // Nobody waits: a dead holder blocks nobody now (the next run to park triggers the next sweep's work).
  if ((await ports.queue(1)).length === 0) return { reclaimed: [], resumed: 0 };
  const slots = await ports.readSlots();
  const now = ports.now();
  const leaseMs = slots.slotLeaseMs ?? DEFAULT_SLOT_LEASE_MS;
  const reclaimed: Reclaimed[] = [];
  for (const h of slots.holders) {
    const job = await ports.jobStatus(h.jobName);
    if (job === 'InProgress' || job === 'Stopping') continue;
    let reason: string | undefined;
    if (job) reason = `its job ended (${job})`;
    else if (h.since + leaseMs <= now) reason = 'its lease ran out before it had a job';
    else {
      const run = await ports.executionStatus(h.executionArn);
      if (run !== 'RUNNING') reason = `its run is ${run.toLowerCase()} and never had a job`;
    }
    if (reason && (await ports.releaseSlot(h.jobName, h.since)))
      reclaimed.push({ jobName: h.jobName, reason });
  }
  const resumed = await fill(ports);
  return { reclaimed, resumed };
}

/** 1-based places of each queued job, oldest first. */
export function queuePositions(
  waiters: Waiter[],
): Map<string, { position: number; of: number; since: number }> {
  return new Map(
    waiters.map((w, i) => [w.jobName, { position: i + 1, of: waiters.length, since: w.enqueuedAt }]),
  );
}
