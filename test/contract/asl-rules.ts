/** Contract rules between the ASL and the code, as a checker that tests can also aim at bad ASL. */
import fs from 'node:fs';
import path from 'node:path';
import { RETRIED_AWS_ERROR_NAMES, TRANSIENT_AWS_ERROR_NAMES } from '../../functions/shared/errors';

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
  ...RETRIED_AWS_ERROR_NAMES,
  ...TRANSIENT_AWS_ERROR_NAMES,
]);

/** Every error name declared in functions/shared/errors.ts, the one home of the states' errors. */
export function errorNamesRaisedByCode(
  file = path.join(__dirname, '../../functions/shared/errors.ts'),
): Set<string> {
  const source = fs.readFileSync(file, 'utf8');
  return new Set([...source.matchAll(/readonly name = '([A-Za-z]+Error)'/g)].map((m) => m[1] as string));
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
