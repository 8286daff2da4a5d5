/**
 * Bedrock and IAM. The API requests ask `bedrock:<Operation>` on the resource types the Service
 * Authorization Reference lists (CreateModelCustomizationJob: custom-model and foundation-model;
 * tags sent with a create also need bedrock:TagResource, as the reference's API-operations table
 * and the guardrails guide state for Create* with tags). Creating a job also implies:
 * - iam:PassRole on `roleArn` with `iam:PassedToService = bedrock.amazonaws.com` (IAM user guide,
 *   "Granting a user permissions to pass a role to an AWS service");
 * - Bedrock assuming that role: its trust policy must let `bedrock.amazonaws.com` do sts:AssumeRole
 *   with the request's `aws:SourceAccount` and `aws:SourceArn` (the job ARN) — otherwise AWS answers
 *   `ValidationException: Could not assume provided IAM role.`;
 * - for a customer managed model key, the caller's kms:DescribeKey, kms:GenerateDataKey and
 *   kms:CreateGrant through Bedrock (the "custom model builders" statement of the Bedrock guide,
 *   "Encryption of custom models"): Bedrock grants itself the key as the caller and encrypts the
 *   model through that grant when the job ends.
 * While the job runs, Bedrock reads the training data and writes the metrics as the service role.
 */
import type { Authorizer, Caller } from '../iam/authorizer';
import type { IamRegistry, Session } from '../iam/registry';
import { requestTagContext } from '../iam/request-tags';
import type { AccessRequest } from '../iam/types';
import { AwsError, type KeyStore } from '../core/types';

export const BEDROCK_SERVICE_PRINCIPAL = 'bedrock.amazonaws.com';

type Body = Record<string, unknown>;

export interface BedrockIam {
  authorizer: Authorizer;
  registry: IamRegistry;
}

export interface BedrockLookups {
  region: string;
  accountId: string;
  /** The ARN an identifier (name or ARN) of a job / custom model names. */
  jobArn(identifier: string): string;
  modelArn(identifier: string): string;
  foundationArn(identifier: string): string;
  /** The ARN an identifier (name or ARN) of an on-demand deployment / Provisioned Throughput names. */
  deploymentArn?(identifier: string): string;
  provisionedArn?(identifier: string): string;
}

function tagContext(tags: unknown): Record<string, string | string[]> {
  if (!Array.isArray(tags)) return {};
  const list = tags.filter(
    (t): t is { key: string; value: string } =>
      typeof t === 'object' && t !== null && typeof t.key === 'string',
  );
  return requestTagContext(list);
}

/** The questions a Bedrock API request asks, before the operation runs. */
export function bedrockAccessRequests(
  operation: string,
  id: string,
  body: Body,
  l: BedrockLookups,
): AccessRequest[] {
  const action = `bedrock:${operation}`;
  const any = (r: string): AccessRequest => ({ action, resource: r });
  switch (operation) {
    case 'CreateModelCustomizationJob': {
      const base = typeof body.baseModelIdentifier === 'string' ? body.baseModelIdentifier : '';
      const modelPattern = `arn:aws:bedrock:${l.region}:${l.accountId}:custom-model/*`;
      const out: AccessRequest[] = [
        { action, resource: l.foundationArn(base), context: tagContext(body.jobTags) },
        { action, resource: modelPattern, context: tagContext(body.customModelTags) },
      ];
      if (Array.isArray(body.jobTags) && body.jobTags.length > 0)
        out.push({
          action: 'bedrock:TagResource',
          resource: `arn:aws:bedrock:${l.region}:${l.accountId}:model-customization-job/*`,
          context: tagContext(body.jobTags),
        });
      if (Array.isArray(body.customModelTags) && body.customModelTags.length > 0)
        out.push({
          action: 'bedrock:TagResource',
          resource: modelPattern,
          context: tagContext(body.customModelTags),
        });
      return out;
    }
    case 'GetModelCustomizationJob':
    case 'StopModelCustomizationJob':
      return [any(l.jobArn(id))];
    case 'GetCustomModel':
    case 'DeleteCustomModel':
      return [any(l.modelArn(id))];
    case 'GetFoundationModel':
      return [any(l.foundationArn(id))];
    case 'ListModelCustomizationJobs':
    case 'ListCustomModels':
    case 'ListFoundationModels':
      return [any('*')];
    // Deployments (Service Authorization Reference: the create asks on the custom model, tags
    // on the new resource ask bedrock:TagResource; the rest act on the deployment itself).
    case 'CreateCustomModelDeployment':
    case 'CreateProvisionedModelThroughput': {
      const field = operation === 'CreateCustomModelDeployment' ? body.modelArn : body.modelId;
      const model = typeof field === 'string' ? l.modelArn(field) : '';
      const type =
        operation === 'CreateCustomModelDeployment' ? 'custom-model-deployment' : 'provisioned-model';
      const out: AccessRequest[] = [{ action, resource: model, context: tagContext(body.tags) }];
      if (Array.isArray(body.tags) && body.tags.length > 0)
        out.push({
          action: 'bedrock:TagResource',
          resource: `arn:aws:bedrock:${l.region}:${l.accountId}:${type}/*`,
          context: tagContext(body.tags),
        });
      return out;
    }
    case 'GetCustomModelDeployment':
    case 'DeleteCustomModelDeployment':
      return [any(l.deploymentArn?.(id) ?? id)];
    case 'GetProvisionedModelThroughput':
    case 'DeleteProvisionedModelThroughput':
      return [any(l.provisionedArn?.(id) ?? id)];
    case 'ListCustomModelDeployments':
    case 'ListProvisionedModelThroughputs':
      return [any('*')];
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsForResource': {
      const arn = typeof body.resourceARN === 'string' ? body.resourceARN : '';
      const ctx =
        operation === 'TagResource'
          ? tagContext(body.tags)
          : operation === 'UntagResource' && Array.isArray(body.tagKeys)
            ? { 'aws:TagKeys': body.tagKeys.map(String) }
            : {};
      return arn ? [{ action, resource: arn, context: ctx }] : [];
    }
    default:
      return [];
  }
}

/** The caller-side and trust checks of CreateModelCustomizationJob, run before the job exists. */
export async function authorizeJobCreation(
  iam: BedrockIam,
  caller: Caller,
  kms: KeyStore,
  job: { roleArn: string; jobArn: string; modelKmsKeyId?: string; region: string; accountId: string },
): Promise<void> {
  await iam.authorizer.require(caller, 'bedrock', [
    {
      action: 'iam:PassRole',
      resource: job.roleArn,
      context: { 'iam:PassedToService': BEDROCK_SERVICE_PRINCIPAL, 'iam:AssociatedResourceArn': job.jobArn },
    },
  ]);
  const role = iam.registry.role(job.roleArn);
  const trusted =
    role !== undefined &&
    (await iam.authorizer.allows(
      { principal: iam.registry.service(BEDROCK_SERVICE_PRINCIPAL), secureTransport: true, sourceIp: '' },
      {
        action: 'sts:AssumeRole',
        resource: job.roleArn,
        context: { 'aws:SourceAccount': job.accountId, 'aws:SourceArn': job.jobArn },
        resourcePolicy: role.trustPolicy,
      },
    ));
  if (!trusted) throw new AwsError('ValidationException', 'Could not assume provided IAM role.');
  if (job.modelKmsKeyId !== undefined) {
    await kms.describe(job.modelKmsKeyId, 'bedrock');
    await kms.generateDataKey(job.modelKmsKeyId, { 'aws:bedrock:arn': job.jobArn }, 'bedrock');
    await kms.createGrantVia(
      job.modelKmsKeyId,
      {
        grantee: BEDROCK_SERVICE_PRINCIPAL,
        retiringPrincipal: BEDROCK_SERVICE_PRINCIPAL,
        operations: ['Decrypt', 'GenerateDataKey', 'DescribeKey'],
        name: job.jobArn.slice(job.jobArn.lastIndexOf('/') + 1),
      },
      'bedrock',
    );
  }
}

/** The job's service-role session: how Bedrock reads training data and writes output. */
export function jobSession(iam: BedrockIam, roleArn: string, jobId: string): Caller | undefined {
  if (!iam.registry.role(roleArn)) return undefined;
  const session: Session = iam.registry.session(roleArn, `ModelCustomizationJob-${jobId}`.slice(0, 64));
  return { principal: session.principal, secureTransport: true, sourceIp: BEDROCK_SERVICE_PRINCIPAL };
}

/** Bedrock acting as itself (encrypting the model through its grant). */
export function bedrockItself(iam: BedrockIam): Caller {
  return { principal: iam.registry.service(BEDROCK_SERVICE_PRINCIPAL), secureTransport: true, sourceIp: '' };
}
