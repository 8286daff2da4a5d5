/**
 * The IAM questions of the awsJson services the workflow uses beside KMS — Step Functions,
 * EventBridge and DynamoDB. Each operation authorizes as `<prefix>:<Operation>` (the Service
 * Authorization Reference names them so for these services) on the resource its body names;
 * actions the reference lists with no resource type (SendTaskSuccess, ListTables, …) are asked on
 * `*`, as IAM evaluates them — a statement scoped to an ARN does not match them.
 */
import { isWildcardOnlyAction } from '@cloud-copilot/iam-simulate';
import type { AccessRequest } from './types';

type Body = Record<string, unknown>;
const str = (b: Body, k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);

export interface Where {
  region: string;
  accountId: string;
  partition?: string;
}

const arn = (w: Where, service: string, rest: string) =>
  `arn:${w.partition ?? 'aws'}:${service}:${w.region}:${w.accountId}:${rest}`;

/** Actions with no resource type are asked on `*` (a statement scoped to an ARN does not match them). */
export async function finish(
  prefix: string,
  operation: string,
  reqs: AccessRequest[],
): Promise<AccessRequest[]> {
  const out: AccessRequest[] = [];
  for (const r of reqs) {
    const [service = prefix, action = operation] = r.action.split(':');
    out.push((await isWildcardOnlyAction(service, action)) ? { ...r, resource: '*' } : r);
  }
  return out;
}

export async function stepFunctionsAccess(operation: string, body: Body, w: Where): Promise<AccessRequest[]> {
  const action = `states:${operation}`;
  const machine =
    str(body, 'stateMachineArn') ??
    (str(body, 'name') ? arn(w, 'states', `stateMachine:${str(body, 'name')}`) : undefined);
  const execution = str(body, 'executionArn');
  const reqs: AccessRequest[] = [{ action, resource: execution ?? machine ?? '*' }];
  if (operation === 'ListExecutions') reqs[0] = { action, resource: machine ?? '*' };
  const roleArn = str(body, 'roleArn');
  if ((operation === 'CreateStateMachine' || operation === 'UpdateStateMachine') && roleArn)
    reqs.push({
      action: 'iam:PassRole',
      resource: roleArn,
      context: { 'iam:PassedToService': 'states.amazonaws.com' },
    });
  return finish('states', operation, reqs);
}

export async function eventBridgeAccess(operation: string, body: Body, w: Where): Promise<AccessRequest[]> {
  const action = `events:${operation}`;
  const bus = (name: string | undefined) =>
    name?.startsWith('arn:') ? name : arn(w, 'events', `event-bus/${name ?? 'default'}`);
  const ruleArn = (name: string | undefined, busName: string | undefined) =>
    arn(w, 'events', `rule/${busName && busName !== 'default' ? `${busName}/` : ''}${name ?? ''}`);
  switch (operation) {
    case 'PutEvents': {
      const entries = Array.isArray(body.Entries) ? (body.Entries as Body[]) : [];
      return finish(
        'events',
        operation,
        entries.map((e) => ({
          action,
          resource: bus(str(e, 'EventBusName')),
          context: {
            ...(str(e, 'Source') ? { 'events:source': str(e, 'Source') as string } : {}),
            ...(str(e, 'DetailType') ? { 'events:detail-type': str(e, 'DetailType') as string } : {}),
          },
        })),
      );
    }
    case 'ListRules':
    case 'TestEventPattern':
      return finish('events', operation, [{ action, resource: '*' }]);
    default: {
      const name = str(body, 'Name') ?? str(body, 'Rule');
      const reqs: AccessRequest[] = [
        { action, resource: name ? ruleArn(name, str(body, 'EventBusName')) : '*' },
      ];
      if (operation === 'PutTargets' && Array.isArray(body.Targets))
        for (const t of body.Targets as Body[]) {
          const role = str(t, 'RoleArn');
          if (role)
            reqs.push({
              action: 'iam:PassRole',
              resource: role,
              context: { 'iam:PassedToService': 'events.amazonaws.com' },
            });
        }
      return finish('events', operation, reqs);
    }
  }
}

/** TransactWriteItems/TransactGetItems have no action of their own: each item needs its own action. */
const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

export async function dynamoDbAccess(operation: string, body: Body, w: Where): Promise<AccessRequest[]> {
  const action = `dynamodb:${operation}`;
  const table = (name: string) => (name.startsWith('arn:') ? name : arn(w, 'dynamodb', `table/${name}`));
  if (Array.isArray(body.TransactItems)) {
    const reqs: AccessRequest[] = [];
    for (const item of body.TransactItems as Body[])
      for (const [kind, inner] of Object.entries(item)) {
        const name = inner && typeof inner === 'object' ? str(inner as Body, 'TableName') : undefined;
        const itemAction = TRANSACT_ACTIONS[kind];
        if (name && itemAction) reqs.push({ action: itemAction, resource: table(name) });
      }
    return finish('dynamodb', operation, reqs);
  }
  const tables = new Set<string>();
  const name = str(body, 'TableName');
  if (name) tables.add(name);
  if (body.RequestItems && typeof body.RequestItems === 'object')
    for (const t of Object.keys(body.RequestItems as Body)) tables.add(t);
  const reqs: AccessRequest[] =
    tables.size === 0
      ? [{ action, resource: '*' }]
      : [...tables].map((t) => ({ action, resource: table(t) }));
  return finish('dynamodb', operation, reqs);
}
