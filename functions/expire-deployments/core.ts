/**
 * The scheduled cleanup of Provisioned Throughput: a `deploy: provisioned` run tags what it
 * creates with the time it expires (tunevault:expires-at) and its stack (tunevault:stack); this
 * deletes every one of its stack's whose time has passed, so an opted-in deployment cannot bill
 * forever. Nothing else is touched: untagged ones, other stacks', on-demand deployments.
 */
import type { DeploymentInfo } from '../shared/aws/bedrock';
import { EXPIRES_AT_TAG, STACK_TAG } from '../shared/provenance';

export interface ExpirePorts {
  listProvisioned(): Promise<DeploymentInfo[]>;
  listTags(arn: string): Promise<Record<string, string>>;
  deleteProvisioned(arn: string): Promise<boolean>;
}

export interface ExpireResult {
  deleted: Array<{ arn: string; expiredAt: string }>;
  kept: number;
}

export async function expireDeployments(
  settings: { stackName: string; now: number },
  ports: ExpirePorts,
): Promise<ExpireResult> {
  const deleted: ExpireResult['deleted'] = [];
  let kept = 0;
  for (const p of await ports.listProvisioned()) {
    const tags = await ports.listTags(p.arn);
    const expiresAt = tags[EXPIRES_AT_TAG];
    const due = expiresAt !== undefined && Date.parse(expiresAt) <= settings.now;
    if (tags[STACK_TAG] !== settings.stackName || !due) {
      kept++;
      continue;
    }
    if (await ports.deleteProvisioned(p.arn)) deleted.push({ arn: p.arn, expiredAt: expiresAt });
  }
  return { deleted, kept };
}
