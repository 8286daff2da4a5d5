/**
 * README promise "Nothing is lost to a transient error": every Lambda task retries
 * ThrottlingException / ServiceQuotaExceededException with 2 s × 2ⁿ capped at 30–60 s, and the 5xx
 * errors of TRANSIENT_AWS_ERROR_NAMES with 1 s × 2ⁿ, all with full jitter — except that
 * SubmitCustomizationJob does not retry Bedrock's quota refusal in place: it sends the run back to
 * the wait list (RequeueJob; test/contract/asl.test.ts). Checked on the ASL as loaded for deploys
 * (statemachines/retries.json appended to every Lambda task). Checked by the schedule
 * Step Functions derives from the ASL (asl-rules.ts `retrySchedule`), wait by wait — not by timing a
 * run, which on a shared 2-core machine could not tell a capped, jittered wait from a plain one.
 */
import { RETRIED_AWS_ERROR_NAMES, TRANSIENT_AWS_ERROR_NAMES } from '../../functions/shared/errors';
import { allStates, isLambdaTask, type RetrySchedule, retrySchedule } from './asl-rules';

const loader = require('../../statemachines/loader.js') as { readAsl(): Record<string, unknown> };

type Json = Record<string, unknown>;

const THROTTLING = { base: 2, minCap: 30, maxCap: 60 };
/** The state whose quota refusals go back to the admission list rather than to a retry. */
const REQUEUED_ON_QUOTA = 'SubmitCustomizationJob';
const TRANSIENT = { base: 1, cap: 20, retries: 4 };

/** What the README promises, as a list of broken promises (empty when the ASL keeps them all). */
function retryPromiseViolations(asl: Json): string[] {
  const violations: string[] = [];
  const tasks = allStates(asl).filter(([, s]) => isLambdaTask(s));
  if (tasks.length === 0) violations.push('no Lambda task found');
  for (const [name, state] of tasks) {
    const check = (error: string, schedule: RetrySchedule | undefined, expected: (n: number) => number) => {
      if (!schedule) return violations.push(`${name}: ${error} is not retried`);
      if (schedule.jitter !== 'FULL') violations.push(`${name}: ${error} waits are not jittered (FULL)`);
      const want = schedule.maxWaits.map((_, n) => expected(n));
      if (JSON.stringify(schedule.maxWaits) !== JSON.stringify(want))
        violations.push(
          `${name}: ${error} waits ${schedule.maxWaits.join(',')} s, expected ${want.join(',')} s`,
        );
      return undefined;
    };
    for (const error of RETRIED_AWS_ERROR_NAMES) {
      const s = retrySchedule(state, error);
      if (name === REQUEUED_ON_QUOTA && error === 'ServiceQuotaExceededException') {
        if (s)
          violations.push(`${name}: ${error} is retried in place instead of going back to the wait list`);
        continue;
      }
      const cap = s?.cap;
      if (s && (cap === undefined || cap < THROTTLING.minCap || cap > THROTTLING.maxCap)) {
        violations.push(`${name}: ${error} cap ${cap ?? 'none'} is not within 30–60 s`);
        continue;
      }
      check(error, s, (n) => Math.min(THROTTLING.base * 2 ** n, cap ?? 0));
      // The cap must bind: the last backoff reaches it, or "capped" would promise nothing.
      if (s && cap !== undefined && THROTTLING.base * 2 ** (s.maxWaits.length - 1) <= cap)
        violations.push(`${name}: ${error} never reaches its ${cap} s cap`);
    }
    for (const error of TRANSIENT_AWS_ERROR_NAMES) {
      const s = retrySchedule(state, error);
      check(error, s, (n) => TRANSIENT.base * 2 ** n);
      if (s && s.maxWaits.length !== TRANSIENT.retries)
        violations.push(`${name}: ${error} is retried ${s.maxWaits.length} times, not ${TRANSIENT.retries}`);
      if (s && (s.cap === undefined || s.cap > TRANSIENT.cap))
        violations.push(`${name}: ${error} has no cap of at most ${TRANSIENT.cap} s`);
    }
  }
  return violations;
}

const shipped = () => loader.readAsl() as { States: Record<string, Json> };
function retrierOf(asl: { States: Record<string, Json> }, state: string, error: string) {
  const retriers = (asl.States[state]?.Retry ?? []) as ({ ErrorEquals: string[] } & Json)[];
  const found = retriers.find((r) => r.ErrorEquals.includes(error));
  if (!found) throw new Error(`${state} has no retrier for ${error}`);
  return found;
}

describe('README "Nothing is lost to a transient error": retry schedules of the shipped ASL', () => {
  it('every Lambda task keeps the promised schedule for throttling and transient errors', () => {
    expect(retryPromiseViolations(shipped())).toEqual([]);
  });

  it('throttling on SubmitCustomizationJob waits at most 2, 4, 8, 16, 32, 60 s: six jittered retries, the last one capped', () => {
    expect(retrySchedule(shipped().States.SubmitCustomizationJob!, 'ThrottlingException')).toEqual({
      retrier: 0,
      maxWaits: [2, 4, 8, 16, 32, 60],
      jitter: 'FULL',
      cap: 60,
    });
  });

  it('throttling on the other tasks waits at most 2, 4, 8, 16, 30 s (capped at 30), jittered', () => {
    expect(retrySchedule(shipped().States.EnsureCustomerManagedKey!, 'ThrottlingException')).toMatchObject({
      maxWaits: [2, 4, 8, 16, 30],
      jitter: 'FULL',
    });
  });

  it('a transient 5xx waits at most 1, 2, 4, 8 s, jittered (15 s in all before the run fails)', () => {
    const s = retrySchedule(shipped().States.ValidateBucketEncryption!, 'InternalError');
    expect(s).toMatchObject({ maxWaits: [1, 2, 4, 8], jitter: 'FULL' });
    expect(s?.maxWaits.reduce((a, b) => a + b)).toBe(15);
  });
});

describe('the schedule check fails when the ASL breaks the promise', () => {
  it('reports a throttling retrier without MaxDelaySeconds as uncapped', () => {
    const asl = shipped();
    delete retrierOf(asl, 'SubmitCustomizationJob', 'ThrottlingException').MaxDelaySeconds;
    expect(retryPromiseViolations(asl)).toEqual([
      'SubmitCustomizationJob: ThrottlingException cap none is not within 30–60 s',
    ]);
  });

  it('reports a quota refusal that SubmitCustomizationJob retries in place (it must requeue)', () => {
    const asl = shipped();
    retrierOf(asl, 'SubmitCustomizationJob', 'ThrottlingException').ErrorEquals.push(
      'ServiceQuotaExceededException',
    );
    expect(retryPromiseViolations(asl)).toEqual([
      'SubmitCustomizationJob: ServiceQuotaExceededException is retried in place instead of going back to the wait list',
    ]);
  });

  it('reports a retrier without JitterStrategy (or with NONE) as not jittered', () => {
    const asl = shipped();
    delete retrierOf(asl, 'WaitForJob', 'ThrottlingException').JitterStrategy;
    retrierOf(asl, 'Remediate', 'InternalError').JitterStrategy = 'NONE';
    const violations = retryPromiseViolations(asl);
    expect(violations).toContain('WaitForJob: ThrottlingException waits are not jittered (FULL)');
    expect(violations).toContain('Remediate: InternalError waits are not jittered (FULL)');
  });

  it('reports a cap that the schedule never reaches (too few attempts for "capped" to mean anything)', () => {
    const asl = shipped();
    retrierOf(asl, 'ScanTrainingData', 'ThrottlingException').MaxAttempts = 3;
    expect(retryPromiseViolations(asl)).toContain(
      'ScanTrainingData: ThrottlingException never reaches its 30 s cap',
    );
  });

  it('reports a linear backoff and a transient error nobody retries', () => {
    const asl = shipped();
    retrierOf(asl, 'NotifyFailed', 'ThrottlingException').BackoffRate = 1;
    const transient = retrierOf(asl, 'CheckCustomizationJob', 'InternalError');
    transient.ErrorEquals = transient.ErrorEquals.filter((e) => e !== 'SlowDown');
    const violations = retryPromiseViolations(asl);
    expect(violations).toContain(
      'NotifyFailed: ThrottlingException waits 2,2,2,2,2 s, expected 2,4,8,16,30 s',
    );
    expect(violations).toContain('CheckCustomizationJob: SlowDown is not retried');
  });

  it('an earlier catch-all retrier takes precedence, as in Step Functions', () => {
    const state = {
      Type: 'Task',
      Retry: [
        { ErrorEquals: ['States.ALL'], MaxAttempts: 1 },
        { ErrorEquals: ['ThrottlingException'], IntervalSeconds: 2, MaxAttempts: 5, JitterStrategy: 'FULL' },
      ],
    };
    expect(retrySchedule(state, 'ThrottlingException')).toEqual({
      retrier: 0,
      maxWaits: [1],
      jitter: 'NONE',
      cap: undefined,
    });
    expect(
      retrySchedule({ Type: 'Task', Retry: [{ ErrorEquals: ['States.TaskFailed'] }] }, 'States.Timeout'),
    ).toBeUndefined();
  });
});
