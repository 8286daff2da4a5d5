/** Contract rules between the ASL and the code, as a checker that tests can also aim at bad ASL. */
import * as errors from '../../functions/shared/errors';

export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** Errors AWS itself raises into a run: Step Functions' own, and the AWS API errors we let bubble. */
export const AWS_RAISED = new Set([
  'States.ALL',
  'States.Timeout',
  'States.TaskFailed',
  'States.Permissions',
  'States.HeartbeatTimeout',
  'States.Runtime',
  ...LAMBDA_SERVICE_ERRORS,
  ...errors.RETRIED_AWS_ERROR_NAMES,
  ...errors.TRANSIENT_AWS_ERROR_NAMES,
]);

/**
 * The name of every error class exported by functions/shared/errors.ts, the one home of the
 * states' errors, read from the classes themselves (an instance's `name` is what Lambda reports
 * as `errorType`), not from the file's text.
 */
export function errorNamesRaisedByCode(module: Record<string, unknown> = errors): Set<string> {
  const names = new Set<string>();
  for (const value of Object.values(module)) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
    names.add(new (value as new (...args: unknown[]) => Error)([]).name);
  }
  return names;
}

type Json = Record<string, unknown>;
interface Retrier {
  ErrorEquals: string[];
}
interface Catcher {
  ErrorEquals: string[];
}

function* statesOf(asl: Json): Generator<[string, Json]> {
  for (const [name, state] of Object.entries((asl.States ?? {}) as Record<string, Json>)) {
    yield [name, state];
    if (state.Type === 'Parallel') for (const b of (state.Branches ?? []) as Json[]) yield* statesOf(b);
    if (state.Type === 'Map') yield* statesOf((state.ItemProcessor ?? state.Iterator ?? {}) as Json);
  }
}

export function isLambdaTask(state: Json): boolean {
  const r = String(state.Resource ?? '');
  return (
    state.Type === 'Task' &&
    (/^\$\{\w+Arn\}$/.test(r) || r.startsWith('arn:aws:states:::lambda:invoke') || r.includes(':lambda:'))
  );
}

export function aslContractViolations(asl: Json, raisedByCode: Set<string>): string[] {
  const violations: string[] = [];
  for (const [name, state] of statesOf(asl)) {
    const retry = (state.Retry ?? []) as Retrier[];
    const caught = (state.Catch ?? []) as Catcher[];
    for (const error of [...retry, ...caught].flatMap((r) => r.ErrorEquals)) {
      if (!AWS_RAISED.has(error) && !raisedByCode.has(error)) {
        violations.push(`${name}: names error '${error}' that neither the code nor AWS/States raises`);
      }
    }
    if (state.Type === 'Pass') {
      const error = (state.Parameters as Json | undefined)?.Error;
      if (typeof error === 'string' && !raisedByCode.has(error))
        violations.push(`${name}: sets unknown error '${error}'`);
    }
    if (isLambdaTask(state)) {
      const covered = new Set(retry.flatMap((r) => r.ErrorEquals));
      const missing = LAMBDA_SERVICE_ERRORS.filter((e) => !covered.has(e));
      if (missing.length > 0) violations.push(`${name}: Lambda Task lacks Retry on ${missing.join(', ')}`);
    }
    if (
      String(state.Resource ?? '').endsWith('.waitForTaskToken') &&
      state.TimeoutSeconds === undefined &&
      state.TimeoutSecondsPath === undefined
    ) {
      violations.push(`${name}: .waitForTaskToken Task lacks TimeoutSeconds`);
    }
  }
  return violations;
}

/**
 * How Step Functions retries one error in one state, as its developer guide defines a retrier
 * ("Handling errors in Step Functions workflows",
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html): the first
 * retrier whose ErrorEquals names the error (or `States.ALL`, or `States.TaskFailed` for a Task)
 * applies; before retry n (0-based) the backoff is IntervalSeconds × BackoffRate^n, capped at
 * MaxDelaySeconds; `JitterStrategy: FULL` waits a random time in [0, backoff] instead (the CDK's
 * JitterType: "a random number between 0 and the computed backoff"). Defaults: IntervalSeconds 1,
 * MaxAttempts 3, BackoffRate 2, no cap, jitter NONE.
 */
export interface RetrySchedule {
  /** Index of the retrier that applies. */
  retrier: number;
  /** The longest wait before each retry, in seconds (the exact wait without jitter). */
  maxWaits: number[];
  jitter: 'FULL' | 'NONE';
  cap: number | undefined;
}

interface FullRetrier extends Retrier {
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export function retrySchedule(state: Json, error: string): RetrySchedule | undefined {
  const retriers = (state.Retry ?? []) as FullRetrier[];
  const index = retriers.findIndex(
    (r) =>
      r.ErrorEquals.includes(error) ||
      r.ErrorEquals.includes('States.ALL') ||
      (state.Type === 'Task' && r.ErrorEquals.includes('States.TaskFailed') && error !== 'States.Timeout'),
  );
  const r = retriers[index];
  if (!r) return undefined;
  const interval = r.IntervalSeconds ?? 1;
  const rate = r.BackoffRate ?? 2;
  const cap = r.MaxDelaySeconds;
  const maxWaits = Array.from({ length: r.MaxAttempts ?? 3 }, (_, n) =>
    Math.min(interval * rate ** n, cap ?? Number.POSITIVE_INFINITY),
  );
  return { retrier: index, maxWaits, jitter: r.JitterStrategy ?? 'NONE', cap };
}

/** Every state of the ASL, nested ones included, with its name. */
export function allStates(asl: Json): [string, Json][] {
  return [...statesOf(asl)];
}
