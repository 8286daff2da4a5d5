/** What Step Functions checks in a request before it touches a state machine or an execution. */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { asRecord } from '../../core/input';
import { AwsError } from '../../core/types';

const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

/** List operations page at most 1000 items, with an opaque token. */
export const PAGES = {
  cap: 1000,
  invalidToken: () => new AwsError('InvalidToken', 'Invalid Token: nextToken is not valid'),
};

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function validateDefinition(definition: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definition);
  } catch (err) {
    throw new AwsError(
      'InvalidDefinition',
      `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ${errorMessage(err)}'`,
    );
  }
  if (!asRecord(parsed))
    throw new AwsError(
      'InvalidDefinition',
      'Invalid State Machine Definition: the definition must be a JSON object',
    );
  try {
    // The library validates with asl-validator (schema, JSONPaths, ARNs), close to what AWS checks.
    new StateMachine(parsed as StateMachineDefinition);
  } catch (err) {
    throw new AwsError('InvalidDefinition', `Invalid State Machine Definition: '${errorMessage(err)}'`);
  }
}

export function validateName(name: string, what: string): void {
  if (name.length < 1 || name.length > 80 || NAME_FORBIDDEN.test(name)) {
    throw new AwsError('InvalidName', `Invalid Name: '${name}' is not a valid ${what} name`);
  }
}

export function requireArn(raw: unknown, resourceType: 'stateMachine' | 'execution'): string {
  if (
    typeof raw !== 'string' ||
    !new RegExp(`^arn:aws[a-z-]*:states:[^:]+:\\d{12}:${resourceType}:`).test(raw)
  ) {
    throw new AwsError('InvalidArn', `Invalid Arn: '${String(raw)}'`);
  }
  return raw;
}
