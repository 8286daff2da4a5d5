/**
 * Which IAM questions an EventBridge request asks: `events:<Operation>` on the bus (PutEvents, per
 * entry, with events:source and events:detail-type) or on the rule its body names, and
 * iam:PassRole for a target's role.
 */
import { optionalString as str } from '../../core/input';
import { arnIn, finish, type Where } from '../../iam/json-access';
import type { AccessRequest } from '../../iam/types';

type Body = Record<string, unknown>;

export async function eventBridgeAccess(operation: string, body: Body, w: Where): Promise<AccessRequest[]> {
  const action = `events:${operation}`;
  const bus = (name: string | undefined) =>
    name?.startsWith('arn:') ? name : arnIn(w, 'events', `event-bus/${name ?? 'default'}`);
  const ruleArn = (name: string | undefined, busName: string | undefined) =>
    arnIn(w, 'events', `rule/${busName && busName !== 'default' ? `${busName}/` : ''}${name ?? ''}`);
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
