/**
 * Which IAM questions a Step Functions request asks: `states:<Operation>` on the execution or
 * state machine its body names (actions with no resource type, such as SendTaskSuccess, on `*`),
 * and iam:PassRole for the role a state machine is given.
 */
import { optionalString as str } from '../../core/input';
import { arnIn, finish, type Where } from '../../iam/json-access';
import type { AccessRequest } from '../../iam/types';

type Body = Record<string, unknown>;

export async function stepFunctionsAccess(operation: string, body: Body, w: Where): Promise<AccessRequest[]> {
  const action = `states:${operation}`;
  const machine =
    str(body, 'stateMachineArn') ??
    (str(body, 'name') ? arnIn(w, 'states', `stateMachine:${str(body, 'name')}`) : undefined);
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
