/**
 * ARNs from the command line, checked before any call: a typo then reads "not a state machine
 * ARN" instead of a confusing answer from the service (or none, against the wrong endpoint).
 * Formats: Step Functions and Bedrock API references (stateMachineArn, executionArn,
 * modelIdentifier patterns).
 */
import { parse } from '@aws-sdk/util-arn-parser';
import { UsageError } from './usage';

export type ArnKind = 'state machine' | 'execution' | 'custom model';

const RESOURCE: Record<ArnKind, { service: string; resource: RegExp; example: string }> = {
  'state machine': {
    service: 'states',
    resource: /^stateMachine:[A-Za-z0-9_-]{1,80}$/,
    example: 'arn:aws:states:us-east-1:111122223333:stateMachine:tunevault-prod-customization',
  },
  execution: {
    service: 'states',
    resource: /^(execution|express):[A-Za-z0-9_-]{1,80}:[^\s:]{1,80}$/,
    example: 'arn:aws:states:us-east-1:111122223333:execution:tunevault-prod-customization:tv-…',
  },
  'custom model': {
    service: 'bedrock',
    resource: /^custom-model\/[^\s/]+(\/[a-z0-9]{12})?$/,
    example: 'arn:aws:bedrock:us-east-1:111122223333:custom-model/amazon.titan-text-express-v1/abcd1234efgh',
  },
};

/** Throws a UsageError naming the flag, the value and the expected form unless `value` is a `kind` ARN. */
export function requireArn(flag: string, value: string, kind: ArnKind): string {
  const want = RESOURCE[kind];
  const fail = () =>
    new UsageError(
      `${flag} '${value}' is not ${kind === 'execution' ? 'an' : 'a'} ${kind} ARN (expected the form ${want.example}).`,
    );
  let arn: ReturnType<typeof parse>;
  try {
    arn = parse(value);
  } catch {
    throw fail();
  }
  const ok =
    /^aws(-[a-z]+)*$/.test(arn.partition) &&
    arn.service === want.service &&
    /^[a-z]{2}(-[a-z]+)+-\d$/.test(arn.region) &&
    /^\d{12}$/.test(arn.accountId) &&
    want.resource.test(arn.resource);
  if (!ok) throw fail();
  return value;
}
