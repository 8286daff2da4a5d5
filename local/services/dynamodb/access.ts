/**
 * Which IAM questions a DynamoDB request asks: `dynamodb:<Operation>` on each table it names
 * (BatchGet/BatchWrite: every table of RequestItems; transactions: each item's own action).
 */
import { optionalString as str } from '../../core/input';
import { arnIn, finish, type Where } from '../../iam/json-access';
import type { AccessRequest } from '../../iam/types';

type Body = Record<string, unknown>;

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
  const table = (name: string) => (name.startsWith('arn:') ? name : arnIn(w, 'dynamodb', `table/${name}`));
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
