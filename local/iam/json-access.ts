/**
 * What the IAM questions of the JSON services share (each service's own map is its `access.ts`:
 * local/services/kms/access.ts, stepfunctions/access.ts, eventbridge/access.ts,
 * dynamodb/access.ts). Each operation authorizes as `<prefix>:<Operation>` (the Service
 * Authorization Reference names them so for these services) on the resource its body names;
 * actions the reference lists with no resource type (SendTaskSuccess, ListTables, …) are asked on
 * `*`, as IAM evaluates them — a statement scoped to an ARN does not match them.
 */
import { isWildcardOnlyAction } from '@cloud-copilot/iam-simulate';
import type { AccessRequest } from './types';

export interface Where {
  region: string;
  accountId: string;
  partition?: string;
}

/** The ARN of a resource of SERVICE in W's account and Region. */
export const arnIn = (w: Where, service: string, rest: string) =>
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
