import {
  admitJob,
  DEFAULT_MAX_CONCURRENT_JOBS,
  effectiveCapacity,
  fill,
  queuePositions,
  REPAIR_AFTER_MS,
  releaseJobSlot,
  requeueJob,
  resolveCapacity,
  sweepAdmission,
  ticketOf,
} from '../../../functions/shared/admission';
import { seededRandom } from '../../../local/core/random';
import { MemoryAdmission } from '../support/memory-admission';

const SETTINGS = { capacity: 2, slotLeaseMs: 60_000, configure: true };
const run = (i: number) => ({
  jobName: `tunevault-job-${i}`,
  executionArn: `arn:aws:states:us-east-1:111122223333:execution:sm:run-${i}`,
  taskToken: `token-${i}`,
  ticket: ticketOf(`2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`, `tunevault-job-${i}`),
});
/** Run i as a slot holder since `since` (a slot handed to it, answered or not). */
const holderOf = (i: number, since: number) => ({
  jobName: run(i).jobName,
  executionArn: run(i).executionArn,
  since,
});
/** Admission settings after a container's first call (the slot record is written already). */
const LATER = { ...SETTINGS, configure: false };

describe('admission: slots and the wait list', () => {
  it('admits on arrival while slots are free, parks the rest, and answers only the admitted tokens', async () => {
    const m = new MemoryAdmission();
    const outcomes = [];
    for (const i of [1, 2, 3, 4]) outcomes.push(await admitJob(run(i), SETTINGS, m));
    expect(outcomes.map((o) => o.admitted)).toEqual([true, true, false, false]);
    expect([...m.answered.keys()]).toEqual(['token-1', 'token-2']);
    expect(m.answered.get('token-1')).toMatchObject({
      admitted: true,
      by: 'arrival',
      waitedMs: 0,
      capacity: 2,
    });
    expect([...m.waiters.values()].map((w) => w.jobName)).toEqual(['tunevault-job-3', 'tunevault-job-4']);
    expect(queuePositions(await m.queue()).get('tunevault-job-4')).toMatchObject({ position: 2, of: 2 });
  });

  it("a job's end hands its slot to the oldest waiter (FIFO by the run's start), and is idempotent", async () => {
    const m = new MemoryAdmission();
    // Parked in the order 4, 3 (4 arrived first), but 3's run started earlier: 3 goes first.
    for (const i of [1, 2, 4, 3]) await admitJob(run(i), SETTINGS, m);
    m.clock += 5_000;
    const first = await releaseJobSlot('tunevault-job-1', m);
    const again = await releaseJobSlot('tunevault-job-1', m);
    expect(first).toEqual({ released: true, handedTo: 'tunevault-job-3', resumed: 1 });
    expect(again).toEqual({ released: false, resumed: 0 });
    expect(m.answered.get('token-3')).toMatchObject({ admitted: true, by: 'queue', waitedMs: 5_000 });
    expect(m.answered.has('token-4')).toBe(false);
    expect([...m.holders.keys()].sort()).toEqual(['tunevault-job-2', 'tunevault-job-3']);
  });

  it('a new arrival does not overtake waiting runs even when a slot is free for a moment', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3]) await admitJob(run(i), SETTINGS, m);
    await m.releaseSlot('tunevault-job-1'); // freed, but nobody has looked at the list yet
    const late = await admitJob(run(9), SETTINGS, m);
    expect(late.admitted).toBe(false);
    // The late run's own fill gave the free slot to the oldest waiter.
    expect(m.answered.has('token-3')).toBe(true);
    expect(m.answered.has('token-9')).toBe(false);
  });

  it('a slot handed to a waiter by a run that died before answering it is answered by the sweep later', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3]) await admitJob(run(i), SETTINGS, m);
    // Job 1's slot was handed to run 3, and then the releasing function died.
    await m.handOffSlot('tunevault-job-1', holderOf(3, m.clock));
    await fill(m);
    expect(m.answered.has('token-3')).toBe(false); // maybe still being answered: left alone
    m.clock += REPAIR_AFTER_MS + 1;
    await fill(m);
    expect(m.answered.get('token-3')).toMatchObject({ admitted: true, by: 'queue' });
    expect(m.waiters.size).toBe(0);
  });

  it('no lost wake-up: a slot freed between a failed take and the park goes to the parked run', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2]) await admitJob(run(i), SETTINGS, m);
    const realPut = m.putWaiter.bind(m);
    // Between run 3's failed take and its park, job 1 ends and its release finds nobody waiting.
    m.putWaiter = async (w) => {
      const released = await releaseJobSlot('tunevault-job-1', m);
      expect(released).toEqual({ released: true, resumed: 0 });
      await realPut(w);
    };
    const outcome = await admitJob(run(3), SETTINGS, m);
    expect(outcome).toMatchObject({ queued: true, resumed: 1 });
    expect(m.answered.get('token-3')).toMatchObject({ admitted: true, by: 'queue' });
    expect(m.waiters.size).toBe(0);
  });

  it('a waiter whose run was stopped while it waited gives its slot back at the next sweep', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3, 4]) await admitJob(run(i), SETTINGS, m);
    m.closed.add('token-3'); // run 3 was stopped while it waited
    await releaseJobSlot('tunevault-job-1', m);
    expect(m.answered.has('token-3')).toBe(false);
    // The pump cannot tell a stopped run from one another pump answered first: it keeps the slot.
    expect(m.answered.has('token-4')).toBe(false);
    const swept = await sweepAdmission(
      m.sweepPorts(
        () => undefined,
        (arn) => (arn === run(3).executionArn ? 'ABORTED' : 'RUNNING'),
      ),
    );
    expect(swept.reclaimed).toEqual([
      { jobName: 'tunevault-job-3', reason: 'its run is aborted and never had a job' },
    ]);
    expect(m.answered.get('token-4')).toMatchObject({ admitted: true });
    expect([...m.holders.keys()].sort()).toEqual(['tunevault-job-2', 'tunevault-job-4']);
    expect(m.waiters.size).toBe(0);
  });

  it('writes the slot record again when it lost its configuration (a container remembers writing it)', async () => {
    const m = new MemoryAdmission();
    const outcome = await admitJob(run(1), LATER, m);
    expect(outcome.admitted).toBe(true);
    expect(m.maxSlots).toBe(2);
  });

  it('a run re-parked by a retried attempt keeps its place and is answered on its new token', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3]) await admitJob(run(i), SETTINGS, m);
    await admitJob({ ...run(3), taskToken: 'token-3-retry' }, SETTINGS, m);
    expect(m.waiters.size).toBe(1);
    await releaseJobSlot('tunevault-job-2', m);
    expect(m.answered.has('token-3-retry')).toBe(true);
    expect(m.waiters.size).toBe(0);
  });

  it('under random interleavings never exceeds the capacity, and every run is admitted exactly once', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const m = new MemoryAdmission(async () => {
        for (let n = Math.floor(random() * 4); n > 0; n--) await new Promise((r) => setImmediate(r));
      });
      const runs = Array.from({ length: 30 }, (_, i) => run(i + 10));
      const finished = new Set<string>();
      // Each run arrives, and once admitted "runs its job" briefly and ends it.
      await Promise.all(
        runs.map(async (r, i) => {
          for (let n = i % 7; n > 0; n--) await new Promise((res) => setImmediate(res));
          await admitJob(r, { capacity: 3, slotLeaseMs: 60_000, configure: true }, m);
          while (!m.answered.has(r.taskToken)) await new Promise((res) => setTimeout(res, 1));
          expect(m.holders.has(r.jobName)).toBe(true);
          await new Promise((res) => setTimeout(res, Math.floor(random() * 3)));
          await releaseJobSlot(r.jobName, m);
          finished.add(r.jobName);
        }),
      );
      expect(finished.size).toBe(30);
      expect(m.answered.size).toBe(30);
      expect(m.peak).toBeLessThanOrEqual(3);
      expect(m.peak).toBe(3);
      // A fill that read the list before a waiter was answered elsewhere may take a slot for it
      // after its run ended (its answer is then 'closed'): fill does not give such a slot back,
      // since a retried admission of the same run may be using it, and the sweep reclaims it
      // ("its job ended"). So a slot still held must belong to a run that has ended.
      expect([...m.holders.keys()].filter((job) => !finished.has(job))).toEqual([]);
      expect(m.waiters.size).toBe(0);
    }
  });
});

describe('admission: a quota refusal puts the run back', () => {
  it('caps slots at what runs, keeps the run at its place, and lets it go when a job ends', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3])
      await admitJob(run(i), { capacity: 3, slotLeaseMs: 60_000, configure: true }, m);
    await admitJob(run(4), { capacity: 3, slotLeaseMs: 60_000, configure: true }, m);
    // Run 3 got a slot but Bedrock refused its job (jobs outside this stack use the quota).
    const refused = { ...run(3), taskToken: 'token-3-requeue' };
    await requeueJob(refused, { quotaRetryMs: 900_000 }, m);
    expect(m.quotaCeiling).toBe(2);
    expect(m.answered.has('token-3-requeue')).toBe(false);
    expect((await m.queue()).map((w) => w.jobName)).toEqual(['tunevault-job-3', 'tunevault-job-4']);
    expect(effectiveCapacity(await m.readSlots(), m.clock)).toBe(2);

    // One of our jobs ends: its room goes to the requeued run (older than run 4), and no more.
    await releaseJobSlot('tunevault-job-1', m);
    expect(m.answered.get('token-3-requeue')).toMatchObject({ admitted: true, requeued: true });
    expect(m.answered.has('token-4')).toBe(false);
    expect(m.quotaCeiling).toBe(2);

    // A job that is not ours ends (Bedrock's event reports every job): one more of ours fits.
    await releaseJobSlot('someone-elses-job', m, { anyJob: true });
    expect(m.answered.has('token-4')).toBe(true);
    expect(m.quotaCeiling).toBeUndefined(); // 3 = maxSlots: the cap is gone
    expect(m.holders.size).toBe(3);
  });

  it('lifts the cap after quotaRetryMs, so a run refused with nothing of ours running is retried', async () => {
    const m = new MemoryAdmission();
    await admitJob(run(1), SETTINGS, m);
    await requeueJob({ ...run(1), taskToken: 't-1b' }, { quotaRetryMs: 60_000 }, m);
    expect(m.quotaCeiling).toBe(0);
    await fill(m);
    expect(m.answered.has('t-1b')).toBe(false);
    m.clock += 60_001;
    await fill(m);
    expect(m.answered.has('t-1b')).toBe(true);
    expect(m.quotaCeiling).toBeUndefined();
  });
});

describe('admission: the sweep reclaims slots of dead runs', () => {
  it('keeps a slot whose job runs; reclaims one whose run ended without a job, one whose job ended, and an expired lease', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3, 4])
      await admitJob(run(i), { capacity: 4, slotLeaseMs: 60_000, configure: true }, m);
    await admitJob(run(5), { capacity: 4, slotLeaseMs: 60_000, configure: true }, m); // waits
    const jobs: Record<string, string> = { 'tunevault-job-1': 'InProgress', 'tunevault-job-3': 'Completed' };
    const runs: Record<string, string> = { [run(2).executionArn]: 'ABORTED' };
    const result = await sweepAdmission(
      m.sweepPorts(
        (jobName) => jobs[jobName],
        (arn) => runs[arn] ?? 'RUNNING',
      ),
    );
    expect(result.reclaimed).toEqual([
      { jobName: 'tunevault-job-2', reason: 'its run is aborted and never had a job' },
      { jobName: 'tunevault-job-3', reason: 'its job ended (Completed)' },
    ]);
    expect(result.resumed).toBe(1);
    expect(m.answered.has('token-5')).toBe(true);
    // Job 4 has no job yet but its run is alive and its lease is valid: kept. Past its lease, and
    // with a run waiting (while nobody waits the sweep looks at nothing): reclaimed.
    for (const i of [6, 7]) await admitJob(run(i), { capacity: 4, slotLeaseMs: 60_000 }, m);
    expect(m.answered.has('token-7')).toBe(false);
    m.clock += 60_001;
    jobs['tunevault-job-5'] = 'InProgress';
    jobs['tunevault-job-6'] = 'InProgress';
    const later = await sweepAdmission(
      m.sweepPorts(
        (jobName) => jobs[jobName],
        () => 'RUNNING',
      ),
    );
    expect(later.reclaimed.map((r) => r.jobName)).toEqual(['tunevault-job-4']);
    expect([...m.holders.keys()].sort()).toEqual([
      'tunevault-job-1',
      'tunevault-job-5',
      'tunevault-job-6',
      'tunevault-job-7',
    ]);
  });
});

describe('admission: capacity', () => {
  it('takes maxConcurrentJobs as given, the account quota for auto, and the documented default when unreadable', async () => {
    await expect(resolveCapacity(7, async () => 99)).resolves.toEqual({
      capacity: 7,
      source: 'maxConcurrentJobs',
    });
    await expect(resolveCapacity('auto', async () => 3)).resolves.toEqual({
      capacity: 3,
      source: 'service-quota',
    });
    const denied = await resolveCapacity('auto', async () => {
      throw Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
    });
    expect(denied).toEqual({
      capacity: DEFAULT_MAX_CONCURRENT_JOBS,
      source: 'default',
      error: 'AccessDeniedException: not allowed',
    });
    expect(DEFAULT_MAX_CONCURRENT_JOBS).toBe(2);
  });

  it('a quota ceiling lowers the capacity only while it lasts', () => {
    const slots = { maxSlots: 5, quotaCeiling: 2, quotaCeilingUntil: 1_000 };
    expect(effectiveCapacity(slots, 999)).toBe(2);
    expect(effectiveCapacity(slots, 1_000)).toBe(5);
    expect(effectiveCapacity({ maxSlots: 5, quotaCeiling: 9, quotaCeilingUntil: 2_000 }, 0)).toBe(5);
  });
});

describe('admission: the edges of each decision', () => {
  const full = async (m: MemoryAdmission) => {
    for (const i of [1, 2]) await admitJob(run(i), SETTINGS, m);
  };

  it('takes a service quota of exactly 1, and falls back to the default for 0, a fraction or none, naming the value', async () => {
    expect(await resolveCapacity('auto', async () => 1)).toEqual({ capacity: 1, source: 'service-quota' });
    for (const value of [0, 0.5, undefined])
      expect(await resolveCapacity('auto', async () => value)).toEqual({
        capacity: DEFAULT_MAX_CONCURRENT_JOBS,
        source: 'default',
        error: `quota value ${value}`,
      });
  });

  it('a ceiling end without a ceiling value lowers nothing', () => {
    expect(effectiveCapacity({ maxSlots: 3, quotaCeilingUntil: 2_000 }, 1_000)).toBe(3);
  });

  it('writes the slot configuration only when told to (the first admission of a container)', async () => {
    const m = new MemoryAdmission();
    const configure = jest.spyOn(m, 'configureSlots');
    await admitJob(run(1), SETTINGS, m);
    expect(configure).toHaveBeenCalledWith(2, 60_000);
    configure.mockClear();
    await admitJob(run(2), LATER, m);
    expect(configure).not.toHaveBeenCalled();
  });

  it('says exactly admitted or queued', async () => {
    const fresh = new MemoryAdmission();
    expect(await admitJob(run(1), SETTINGS, fresh)).toEqual({ admitted: true, queued: false, resumed: 0 });
    const m = new MemoryAdmission();
    await full(m);
    expect(await admitJob(run(3), LATER, m)).toEqual({ admitted: false, queued: true, resumed: 0 });
  });

  it('a full slot record with the right configuration is not rewritten', async () => {
    const m = new MemoryAdmission();
    await full(m);
    const configure = jest.spyOn(m, 'configureSlots');
    const take = jest.spyOn(m, 'takeSlot');
    await admitJob(run(3), LATER, m);
    expect(configure).not.toHaveBeenCalled();
    expect(take).toHaveBeenCalledTimes(1);
  });

  it('a full slot record that lost its capacity only is written again', async () => {
    const m = new MemoryAdmission();
    await full(m);
    m.maxSlots = undefined;
    const configure = jest.spyOn(m, 'configureSlots');
    await admitJob(run(3), LATER, m);
    expect(configure).toHaveBeenCalledWith(2, 60_000);
  });

  it("a container's first admission writes a new capacity even when a slot is free", async () => {
    const m = new MemoryAdmission();
    await admitJob(run(1), SETTINGS, m);
    await admitJob(run(2), { ...SETTINGS, capacity: 3 }, m);
    expect(m.maxSlots).toBe(3);
  });

  it('a run put back after a quota refusal is exactly queued, with what the refill resumed', async () => {
    const m = new MemoryAdmission();
    await full(m);
    expect(await requeueJob(run(2), { quotaRetryMs: 60_000 }, m)).toEqual({
      admitted: false,
      queued: true,
      resumed: 0,
    });
  });

  it('a full slot record that lost its lease setting is written again, and the run still waits', async () => {
    const m = new MemoryAdmission();
    await full(m);
    m.slotLeaseMs = undefined;
    const configure = jest.spyOn(m, 'configureSlots');
    const outcome = await admitJob(run(3), LATER, m);
    expect(configure).toHaveBeenCalledWith(2, 60_000);
    expect(m.slotLeaseMs).toBe(60_000);
    expect(outcome.admitted).toBe(false);
    expect(m.answered.has('token-3')).toBe(false);
  });

  it("the end of another stack's job raises a quota ceiling only when asked to and when there is one", async () => {
    const m = new MemoryAdmission();
    await full(m);
    const raise = jest.spyOn(m, 'raiseQuotaCeiling');
    await releaseJobSlot('someone-elses-job', m, { anyJob: true });
    expect(raise).not.toHaveBeenCalled(); // no ceiling
    await m.setQuotaCeiling(1, m.clock + 60_000);
    await releaseJobSlot('someone-elses-job', m);
    expect(raise).not.toHaveBeenCalled(); // not asked
    await releaseJobSlot('someone-elses-job', m, { anyJob: true });
    expect(m.quotaCeiling).toBe(2);
  });

  it('a job that ends while there are more holders than slots frees its slot instead of handing it on', async () => {
    const m = new MemoryAdmission();
    await full(m);
    await admitJob(run(3), LATER, m);
    m.maxSlots = 1; // lowered by hand while two jobs run
    const handOff = jest.spyOn(m, 'handOffSlot');
    expect(await releaseJobSlot('tunevault-job-1', m)).toEqual({ released: true, resumed: 0 });
    expect(handOff).not.toHaveBeenCalled();
    expect(m.answered.has('token-3')).toBe(false);
  });

  it('a handed-over slot whose waiter was already answered counts no resume', async () => {
    const m = new MemoryAdmission();
    await full(m);
    await admitJob(run(3), LATER, m);
    m.closed.add('token-3'); // the run was stopped while it waited
    expect(await releaseJobSlot('tunevault-job-1', m)).toEqual({
      released: true,
      handedTo: 'tunevault-job-3',
      resumed: 0,
    });
  });

  it('a ceiling that ends at this very moment is cleared', async () => {
    const m = new MemoryAdmission();
    await full(m);
    await admitJob(run(3), LATER, m);
    await m.setQuotaCeiling(1, m.clock);
    await fill(m);
    expect(m.quotaCeiling).toBeUndefined();
  });

  it('tries no conditional write when no slot is free', async () => {
    const m = new MemoryAdmission();
    await full(m);
    await admitJob(run(3), LATER, m);
    const take = jest.spyOn(m, 'takeSlot');
    expect(await fill(m)).toBe(0);
    expect(take).not.toHaveBeenCalled();
  });

  it('fills exactly the free slots, oldest waiters first', async () => {
    const m = new MemoryAdmission();
    await full(m);
    for (const i of [3, 4, 5]) await admitJob(run(i), LATER, m);
    m.maxSlots = 4;
    const take = jest.spyOn(m, 'takeSlot');
    expect(await fill(m)).toBe(2);
    expect(take).toHaveBeenCalledTimes(2);
    expect([...m.answered.keys()]).toEqual(['token-1', 'token-2', 'token-3', 'token-4']);
  });

  it('repairs an unanswered handed-over slot only after REPAIR_AFTER_MS, and counts it', async () => {
    const m = new MemoryAdmission();
    await full(m);
    await admitJob(run(3), LATER, m);
    const since = m.clock;
    await m.handOffSlot('tunevault-job-1', holderOf(3, since));
    m.clock = since + REPAIR_AFTER_MS;
    expect(await fill(m)).toBe(0);
    m.clock = since + REPAIR_AFTER_MS + 1;
    expect(await fill(m)).toBe(1);
  });
});

describe('admission: the sweep at its edges', () => {
  const dead = () => 'missing';

  it('reclaims nothing while nobody waits', async () => {
    const m = new MemoryAdmission();
    await admitJob(run(1), SETTINGS, m);
    const swept = await sweepAdmission(m.sweepPorts(() => undefined, dead));
    expect(swept).toEqual({ reclaimed: [], resumed: 0 });
    expect(m.holders.has('tunevault-job-1')).toBe(true);
  });

  it("keeps the slot of a job that is Stopping (it still counts against Bedrock's quota)", async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3]) await admitJob(run(i), SETTINGS, m);
    const swept = await sweepAdmission(
      m.sweepPorts((j) => (j === 'tunevault-job-1' ? 'Stopping' : 'InProgress'), dead),
    );
    expect(swept.reclaimed).toEqual([]);
  });

  it('without a lease on the slot record, holds a slot 30 minutes before a job must exist', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3]) await admitJob(run(i), SETTINGS, m);
    m.slotLeaseMs = undefined;
    const sweep = () =>
      sweepAdmission(
        m.sweepPorts(
          (j) => (j === 'tunevault-job-1' ? undefined : 'InProgress'),
          () => 'RUNNING',
        ),
      );
    m.clock += 29 * 60_000;
    expect((await sweep()).reclaimed).toEqual([]);
    m.clock += 60_000;
    expect((await sweep()).reclaimed.map((r) => r.jobName)).toEqual(['tunevault-job-1']);
  });

  it('reclaims a slot whose lease ends at this very moment and whose run never had a job', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3]) await admitJob(run(i), SETTINGS, m);
    m.clock += SETTINGS.slotLeaseMs;
    const swept = await sweepAdmission(
      m.sweepPorts(
        (j) => (j === 'tunevault-job-1' ? undefined : 'InProgress'),
        () => 'RUNNING',
      ),
    );
    expect(swept.reclaimed).toEqual([
      { jobName: 'tunevault-job-1', reason: 'its lease ran out before it had a job' },
    ]);
  });
});

describe('admission: handing over past waiters that already hold a slot', () => {
  it('a retried admission of a run whose slot was handed to it answers it at once', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3]) await admitJob(run(i), SETTINGS, m);
    // Job 1's slot went to run 3, but the releasing function died before answering it.
    await m.handOffSlot('tunevault-job-1', holderOf(3, m.clock));
    const again = await admitJob(run(3), LATER, m);
    expect(again).toEqual({ admitted: false, queued: true, resumed: 1 });
    expect(m.answered.get('token-3')).toMatchObject({ admitted: true, by: 'queue' });
  });

  it('hands the slot to the first waiter that holds none, even behind three that do', async () => {
    const m = new MemoryAdmission();
    for (const i of [1, 2, 3, 4, 5, 6]) await admitJob(run(i), SETTINGS, m);
    m.maxSlots = 5;
    for (const i of [3, 4, 5]) m.holders.set(run(i).jobName, holderOf(i, m.clock));
    expect(await releaseJobSlot('tunevault-job-1', m)).toEqual({
      released: true,
      handedTo: 'tunevault-job-6',
      resumed: 1,
    });
  });
});
