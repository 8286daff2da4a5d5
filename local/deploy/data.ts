/**
 * The resources that hold data: the KMS key (found again by its stack tags on a redeploy), the
 * DynamoDB table, the S3 buckets with their policies, and the bucket notifications serverless's
 * custom resource attaches (`Custom::S3`).
 */
import { CreateTableCommand, type KeySchemaElement, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  type KMSClient,
  type KeyMetadata,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  type LambdaFunctionConfiguration,
  PutBucketEncryptionCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import type { CfnResource } from '../stack';
import { type Deployment, ignoring, type Props } from './context';

/**
 * Tags that mark a key as a stack resource, as CloudFormation's own `aws:cloudformation:*` tags
 * do (the `aws:` prefix is reserved to AWS): a redeploy finds the key by them and updates it in
 * place instead of creating another, so restarting on a state dir does not pile up keys.
 */
const STACK_NAME_TAG = 'tunevault:stack-name';
const LOGICAL_ID_TAG = 'tunevault:logical-id';

async function findStackKey(
  kms: KMSClient,
  stackName: string,
  logicalId: string,
): Promise<KeyMetadata | undefined> {
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) }));
    for (const k of page.Keys ?? []) {
      const tags = (
        await ignoring(kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId })), 'AccessDeniedException')
      )?.Tags;
      const tag = (key: string) => tags?.find((t) => t.TagKey === key)?.TagValue;
      if (tag(STACK_NAME_TAG) !== stackName || tag(LOGICAL_ID_TAG) !== logicalId) continue;
      const meta = (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
      if (meta && meta.KeyState !== 'PendingDeletion') return meta;
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return undefined;
}

export async function deployKey(d: Deployment, id: string, r: CfnResource): Promise<void> {
  const { kms, ctx, stackName } = d;
  const p = d.propsOf(r);
  const policy = JSON.stringify(p.KeyPolicy);
  let meta = await findStackKey(kms, stackName, id);
  if (meta?.KeyId) {
    // An update in place, as CloudFormation does it: the template's policy wins.
    await kms.send(new PutKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default', Policy: policy }));
  } else {
    meta = (
      await kms.send(
        new CreateKeyCommand({
          Description: String(p.Description ?? id),
          Policy: policy,
          Tags: [
            { TagKey: STACK_NAME_TAG, TagValue: stackName },
            { TagKey: LOGICAL_ID_TAG, TagValue: id },
          ],
        }),
      )
    ).KeyMetadata;
  }
  const keyId = meta?.KeyId ?? '';
  if (p.EnableKeyRotation === true) await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }));
  ctx.refs.set(id, keyId);
  ctx.attrs.set(`${id}.Arn`, meta?.Arn ?? '');
  ctx.attrs.set(`${id}.KeyId`, keyId);
}

export async function deployTable(d: Deployment, id: string, r: CfnResource): Promise<void> {
  const { dynamo, ctx } = d;
  const p = d.propsOf(r);
  const tableName = String(p.TableName);
  await ignoring(
    dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: p.AttributeDefinitions as { AttributeName: string; AttributeType: 'S' }[],
        KeySchema: p.KeySchema as KeySchemaElement[],
      }),
    ),
    'ResourceInUseException',
  );
  const ttl = p.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
  if (ttl) {
    await ignoring(
      dynamo.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: ttl })),
      'ValidationException',
    );
  }
  ctx.refs.set(id, tableName);
  ctx.attrs.set(`${id}.Arn`, d.arn('dynamodb', `table/${tableName}`));
}

export async function deployBucket(d: Deployment, id: string, r: CfnResource): Promise<void> {
  const { s3, ctx } = d;
  if (id.startsWith('ServerlessDeploymentBucket')) {
    d.skip(id, r.Type);
    ctx.refs.set(id, id.toLowerCase());
    return;
  }
  const p = d.propsOf(r);
  const bucket = String(p.BucketName);
  await ignoring(
    s3.send(new CreateBucketCommand({ Bucket: bucket })),
    'BucketAlreadyOwnedByYou',
    'BucketAlreadyExists',
  );
  const versioning = p.VersioningConfiguration as { Status?: 'Enabled' | 'Suspended' } | undefined;
  if (versioning?.Status) {
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: versioning.Status },
      }),
    );
  }
  type CfnRule = {
    ServerSideEncryptionByDefault?: ServerSideEncryptionRule['ApplyServerSideEncryptionByDefault'];
    BucketKeyEnabled?: boolean;
  };
  const enc = p.BucketEncryption as { ServerSideEncryptionConfiguration: CfnRule[] } | undefined;
  if (enc) {
    // CloudFormation says ServerSideEncryptionByDefault where the S3 API says ApplyServerSideEncryptionByDefault.
    const Rules = enc.ServerSideEncryptionConfiguration.map((x) => ({
      ApplyServerSideEncryptionByDefault: x.ServerSideEncryptionByDefault,
      BucketKeyEnabled: x.BucketKeyEnabled,
    }));
    await s3.send(
      new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules } }),
    );
  }
  const pab = p.PublicAccessBlockConfiguration as Props | undefined;
  if (pab)
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: pab }));
  ctx.refs.set(id, bucket);
  ctx.attrs.set(`${id}.Arn`, `${d.arnPrefix}:s3:::${bucket}`);
}

export async function deployBucketPolicy(d: Deployment, id: string, r: CfnResource): Promise<void> {
  const p = d.propsOf(r);
  if (String(p.Bucket).startsWith('serverlessdeploymentbucket')) {
    d.skip(id, r.Type);
    return;
  }
  await d.s3.send(
    new PutBucketPolicyCommand({ Bucket: String(p.Bucket), Policy: JSON.stringify(p.PolicyDocument) }),
  );
  d.ctx.refs.set(id, String(p.Bucket));
}

/**
 * What serverless's custom resource does for `existing: true` S3 events (osls,
 * lib/plugins/aws/custom-resources/resources/s3): lambda:AddPermission for s3.amazonaws.com from
 * the bucket and account, then PutBucketNotificationConfiguration (applyBucketNotifications).
 */
export function deployBucketNotifications(d: Deployment, _id: string, r: CfnResource): void {
  const { accountId } = d.o;
  const p = d.propsOf(r);
  const bucket = String(p.BucketName);
  const fnName = String(p.FunctionName);
  const functionArn = d.arn('lambda', `function:${fnName}`);
  d.o.registry.addLambdaPermission(functionArn, {
    Sid: `${fnName}-${bucket.replace(/[.:*]/g, '')}`.slice(0, 100),
    Effect: 'Allow',
    Principal: { Service: 's3.amazonaws.com' },
    Action: 'lambda:InvokeFunction',
    Resource: functionArn,
    Condition: {
      StringEquals: { 'AWS:SourceAccount': accountId },
      ArnLike: { 'AWS:SourceArn': `${d.arnPrefix}:s3:::${bucket}` },
    },
  });
  const configs = (p.BucketConfigs ?? []) as { Event: string; Rules?: Record<string, string>[] }[];
  const list = d.notifications.get(bucket) ?? [];
  for (const [i, c] of configs.entries()) {
    const rules = (c.Rules ?? []).flatMap((rule) =>
      Object.entries(rule).map(([n, Value]) => ({
        Name: n.toLowerCase() as 'prefix' | 'suffix',
        Value,
      })),
    );
    list.push({
      Id: `${fnName}-${i}`,
      LambdaFunctionArn: functionArn,
      Events: [c.Event] as LambdaFunctionConfiguration['Events'],
      ...(rules.length > 0 ? { Filter: { Key: { FilterRules: rules } } } : {}),
    });
  }
  d.notifications.set(bucket, list);
}

/** Each bucket's notifications, merged into what it has (a redeploy replaces its own by Id). */
export async function applyBucketNotifications(d: Deployment): Promise<void> {
  for (const [bucket, configs] of d.notifications) {
    const current = await d.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    await d.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          ...current,
          LambdaFunctionConfigurations: [
            ...(current.LambdaFunctionConfigurations ?? []).filter(
              (c) => !configs.some((n) => n.Id === c.Id),
            ),
            ...configs,
          ],
        },
      }),
    );
  }
}
