/**
 * Deploys the CloudFormation template that `serverless package` compiles onto the embedded AWS,
 * as CloudFormation would: resources in dependency order, through the same SDK calls a user could
 * make (as the account administrator, CloudFormation's stand-in), and the IAM the template declares
 * — each role with its trust and identity policies, each Lambda permission — registered for the
 * authorizer. Lambda and Step Functions refuse a role their service principal cannot assume, as
 * CreateFunction and CreateStateMachine do.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
  type KeyMetadata,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketEncryptionCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type LambdaFunctionConfiguration,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import type { Authorizer } from './iam/authorizer';
import type { IamRegistry } from './iam/registry';
import type { NamedPolicy, PolicyDocument } from './iam/types';
import type { LocalFunction, LocalLambda } from './lambda';
import {
  type CfnResource,
  type CfnTemplate,
  conditionHolds,
  type IntrinsicContext,
  resolveIntrinsics,
} from './stack';

export interface DeployedStack {
  stage: string;
  stateMachineArn: string;
  stateMachineRoleArn: string;
  functions: LocalFunction[];
  trainingBucket: string;
  trainingPrefix: string;
  outputBucket: string;
  outputPrefix: string;
  taskTokenTable: string;
  /** What `serverless invoke local` needs for the values it cannot resolve offline. */
  invokeLocalEnv: Record<string, string>;
  ctx: IntrinsicContext;
  /** Resource types the embedded AWS does not create (logged once at start). */
  skipped: { logicalId: string; type: string }[];
}

export interface DeployOptions {
  endpoint: string;
  accountId: string;
  region: string;
  stage: string;
  service: string;
  template: CfnTemplate;
  lambda: LocalLambda;
  registry: IamRegistry;
  authorizer: Authorizer;
}

type Props = Record<string, unknown>;

function clientConfig(
  endpoint: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
) {
  return { endpoint, region, credentials };
}

async function ignoring<T>(call: Promise<T>, ...names: string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof Error && names.includes(err.name)) return undefined;
    throw err;
  }
}

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

/** Logical ids a node refers to (Ref, Fn::GetAtt, ${X} and ${X.Attr} in Fn::Sub). */
function references(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) references(n, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Props)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt') out.add(Array.isArray(v) ? String(v[0]) : (String(v).split('.')[0] ?? ''));
      else if (k === 'Fn::Sub') {
        const template = Array.isArray(v) ? String(v[0]) : String(v);
        for (const m of template.matchAll(/\$\{([^}!.]+)/g)) out.add(m[1] ?? '');
        if (Array.isArray(v)) references(v[1], out);
      } else references(v, out);
    }
  }
  return out;
}

/** CloudFormation's order: every resource after the ones it refers to or depends on. */
export function deployOrder(resources: Record<string, CfnResource>): string[] {
  const ids = new Set(Object.keys(resources));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`circular dependency through ${id}`);
    state.set(id, 'visiting');
    const r = resources[id] as CfnResource;
    const deps = new Set([...references(r.Properties), ...[r.DependsOn ?? []].flat()]);
    for (const d of deps) if (ids.has(d) && d !== id) visit(d);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of [...ids].sort()) visit(id);
  return order;
}

/** `functions/x/handler.handler`'s serverless key from its logical id: FooBarLambdaFunction → fooBar. */
const functionKeyOf = (logicalId: string) =>
  logicalId.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());

const asPolicy = (v: unknown): PolicyDocument => v as PolicyDocument;

export async function deployStack(o: DeployOptions): Promise<DeployedStack> {
  const { template, accountId, region, stage, registry, authorizer } = o;
  const cc = clientConfig(o.endpoint, region, registry.admin.credential);
  const s3 = new S3Client({ ...cc, forcePathStyle: true });
  const kms = new KMSClient(cc);
  const dynamo = new DynamoDBClient(cc);
  const events = new EventBridgeClient(cc);
  const sfn = new SFNClient(cc);
  const ctx: IntrinsicContext = {
    accountId,
    region,
    partition: registry.partition,
    refs: new Map(),
    attrs: new Map(),
    conditions: (template.Conditions ?? {}) as Record<string, unknown>,
  };
  const stackName = `${o.service}-${stage}`;
  const resources = Object.fromEntries(
    Object.entries(template.Resources).filter(([, r]) => !r.Condition || conditionHolds(r.Condition, ctx)),
  );
  const propsOf = (r: CfnResource) => resolveIntrinsics(r.Properties ?? {}, ctx) as Props;
  const skipped: { logicalId: string; type: string }[] = [];
  const functions: LocalFunction[] = [];
  const notifications = new Map<string, LambdaFunctionConfiguration[]>();
  let stateMachine: { arn: string; roleArn: string } | undefined;

  /** The trust policy of ROLEARN must let SERVICE assume it (CreateFunction / CreateStateMachine). */
  const requireAssumable = async (roleArn: string, service: string, refusal: string) => {
    const role = registry.role(roleArn);
    const ok =
      role !== undefined &&
      (await authorizer.allows(
        { principal: registry.service(service), secureTransport: true, sourceIp: '' },
        {
          action: 'sts:AssumeRole',
          resource: roleArn,
          context: { 'aws:SourceAccount': accountId },
          resourcePolicy: role.trustPolicy,
        },
      ));
    if (!ok) throw new Error(`${refusal} (${roleArn})`);
  };

  for (const id of deployOrder(resources)) {
    const r = resources[id] as CfnResource;
    const arnPrefix = `arn:${ctx.partition}`;
    switch (r.Type) {
      case 'AWS::KMS::Key': {
        const p = propsOf(r);
        const policy = JSON.stringify(p.KeyPolicy);
        let meta = await findStackKey(kms, stackName, id);
        if (meta?.KeyId) {
          // An update in place, as CloudFormation does it: the template's policy wins.
          await kms.send(
            new PutKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default', Policy: policy }),
          );
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
        break;
      }
      case 'AWS::IAM::Role': {
        const p = propsOf(r);
        const name = String(p.RoleName ?? `${stackName}-${id}`.slice(0, 64));
        const inline = ((p.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]).map(
          (x): NamedPolicy => ({ name: String(x.PolicyName), document: asPolicy(x.PolicyDocument) }),
        );
        if (((p.ManagedPolicyArns ?? []) as unknown[]).length > 0)
          throw new Error(`${id}: managed policies are not modelled by the embedded AWS; inline them`);
        const role = registry.putRole({
          name,
          path: String(p.Path ?? '/'),
          trustPolicy: asPolicy(p.AssumeRolePolicyDocument),
          policies: inline,
        });
        ctx.refs.set(id, name);
        ctx.attrs.set(`${id}.Arn`, role.arn);
        ctx.attrs.set(`${id}.RoleId`, role.roleId);
        break;
      }
      case 'AWS::Logs::LogGroup': {
        const name = String(propsOf(r).LogGroupName ?? id);
        ctx.refs.set(id, name);
        ctx.attrs.set(`${id}.Arn`, `${arnPrefix}:logs:${region}:${accountId}:log-group:${name}:*`);
        break;
      }
      case 'AWS::DynamoDB::Table': {
        const p = propsOf(r);
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
        ctx.attrs.set(`${id}.Arn`, `${arnPrefix}:dynamodb:${region}:${accountId}:table/${tableName}`);
        break;
      }
      case 'AWS::S3::Bucket': {
        if (id.startsWith('ServerlessDeploymentBucket')) {
          skipped.push({ logicalId: id, type: r.Type });
          ctx.refs.set(id, id.toLowerCase());
          break;
        }
        const p = propsOf(r);
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
          await s3.send(
            new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: pab }),
          );
        ctx.refs.set(id, bucket);
        ctx.attrs.set(`${id}.Arn`, `${arnPrefix}:s3:::${bucket}`);
        break;
      }
      case 'AWS::S3::BucketPolicy': {
        const p = propsOf(r);
        if (String(p.Bucket).startsWith('serverlessdeploymentbucket')) {
          skipped.push({ logicalId: id, type: r.Type });
          break;
        }
        await s3.send(
          new PutBucketPolicyCommand({ Bucket: String(p.Bucket), Policy: JSON.stringify(p.PolicyDocument) }),
        );
        ctx.refs.set(id, String(p.Bucket));
        break;
      }
      case 'AWS::CloudFormation::WaitConditionHandle':
        ctx.refs.set(id, `local-${id}`);
        break;
      case 'AWS::Lambda::Function': {
        const p = propsOf(r);
        const name = String(p.FunctionName ?? `${stackName}-${id}`);
        const arn = `${arnPrefix}:lambda:${region}:${accountId}:function:${name}`;
        ctx.refs.set(id, name);
        ctx.attrs.set(`${id}.Arn`, arn);
        const handler = String(p.Handler ?? '');
        // serverless's own custom-resource function (it attaches the S3 notification): its effect is
        // applied directly below (Custom::S3); it is not one of the stack's handlers.
        if (!handler.startsWith('functions/')) {
          skipped.push({ logicalId: id, type: `${r.Type} (${handler})` });
          break;
        }
        const roleArn = String(p.Role ?? '');
        await requireAssumable(
          roleArn,
          'lambda.amazonaws.com',
          `${name}: The role defined for the function cannot be assumed by Lambda.`,
        );
        const variables = ((p.Environment as { Variables?: Props } | undefined)?.Variables ?? {}) as Props;
        const fn: LocalFunction = {
          key: functionKeyOf(id),
          name,
          arn,
          handler,
          environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
          timeoutSeconds: Number(p.Timeout ?? 6),
          memorySize: Number(p.MemorySize ?? 1024),
          roleArn,
          credentials: registry.session(roleArn, name).credential,
        };
        o.lambda.register(fn);
        functions.push(fn);
        break;
      }
      case 'AWS::Lambda::Version':
        skipped.push({ logicalId: id, type: r.Type });
        break;
      case 'AWS::Lambda::Permission': {
        const p = propsOf(r);
        const functionArn = String(p.FunctionName);
        registry.addLambdaPermission(functionArn, lambdaPermissionStatement(id, p, functionArn));
        break;
      }
      case 'AWS::Events::Rule': {
        const p = propsOf(r);
        const name = String(p.Name ?? `${stackName}-${id}`.slice(0, 64));
        await events.send(
          new PutRuleCommand({
            Name: name,
            ...(p.EventPattern ? { EventPattern: JSON.stringify(p.EventPattern) } : {}),
            ...(p.ScheduleExpression ? { ScheduleExpression: String(p.ScheduleExpression) } : {}),
            State: (p.State as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
          }),
        );
        const targets = (p.Targets ?? []) as { Id: string; Arn: string; Input?: string }[];
        if (targets.length > 0) await events.send(new PutTargetsCommand({ Rule: name, Targets: targets }));
        ctx.refs.set(id, name);
        ctx.attrs.set(`${id}.Arn`, `${arnPrefix}:events:${region}:${accountId}:rule/${name}`);
        break;
      }
      case 'Custom::S3': {
        // What serverless's custom resource does for `existing: true` S3 events (osls,
        // lib/plugins/aws/custom-resources/resources/s3): lambda:AddPermission for
        // s3.amazonaws.com from the bucket and account, then PutBucketNotificationConfiguration.
        const p = propsOf(r);
        const bucket = String(p.BucketName);
        const fnName = String(p.FunctionName);
        const functionArn = `${arnPrefix}:lambda:${region}:${accountId}:function:${fnName}`;
        registry.addLambdaPermission(functionArn, {
          Sid: `${fnName}-${bucket.replace(/[.:*]/g, '')}`.slice(0, 100),
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'lambda:InvokeFunction',
          Resource: functionArn,
          Condition: {
            StringEquals: { 'AWS:SourceAccount': accountId },
            ArnLike: { 'AWS:SourceArn': `${arnPrefix}:s3:::${bucket}` },
          },
        });
        const configs = (p.BucketConfigs ?? []) as { Event: string; Rules?: Record<string, string>[] }[];
        const list = notifications.get(bucket) ?? [];
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
        notifications.set(bucket, list);
        break;
      }
      case 'AWS::StepFunctions::StateMachine': {
        const p = propsOf(r);
        const name = String(p.StateMachineName);
        const roleArn = String(p.RoleArn);
        await requireAssumable(
          roleArn,
          `states.${region}.amazonaws.com`,
          `${name}: Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role.`,
        );
        const definition =
          typeof p.DefinitionString === 'string' ? p.DefinitionString : JSON.stringify(p.Definition);
        const arn = `${arnPrefix}:states:${region}:${accountId}:stateMachine:${name}`;
        const created = await ignoring(
          sfn.send(new CreateStateMachineCommand({ name, definition, roleArn, type: 'STANDARD' })),
          'StateMachineAlreadyExists',
        );
        // Restarted on a state dir with a changed serverless.yml: update the machine in place.
        if (!created)
          await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition, roleArn }));
        ctx.refs.set(id, arn);
        ctx.attrs.set(`${id}.Name`, name);
        stateMachine = { arn, roleArn };
        break;
      }
      default:
        skipped.push({ logicalId: id, type: r.Type });
    }
  }

  for (const [bucket, configs] of notifications) {
    const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    await s3.send(
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
  if (!stateMachine) throw new Error('the packaged template defines no state machine');

  const env = (key: string) => functions.find((f) => f.key === key)?.environment ?? {};
  const invokeLocalEnv: Record<string, string> = {
    TUNEVAULT_ACCOUNT_ID: accountId,
    TUNEVAULT_STATE_MACHINE_ARN: stateMachine.arn,
    TUNEVAULT_KEY_BUILDER_ROLE_ARNS: env('ensureCustomerManagedKey').KEY_BUILDER_ROLE_ARNS ?? '',
    TUNEVAULT_KEY_USER_ROLE_ARNS: env('ensureCustomerManagedKey').KEY_USER_ROLE_ARNS ?? '',
    TUNEVAULT_BEDROCK_ROLE_ARN: env('submitCustomizationJob').BEDROCK_ROLE_ARN ?? '',
  };
  const base = env('startCustomization');
  return {
    stage,
    stateMachineArn: stateMachine.arn,
    stateMachineRoleArn: stateMachine.roleArn,
    functions,
    trainingBucket: base.TRAINING_BUCKET ?? '',
    trainingPrefix: base.TRAINING_PREFIX ?? '',
    outputBucket: base.OUTPUT_BUCKET ?? '',
    outputPrefix: base.OUTPUT_PREFIX ?? '',
    taskTokenTable: env('waitForJob').TASK_TOKEN_TABLE ?? '',
    invokeLocalEnv,
    ctx,
    skipped,
  };
}

/** AWS::Lambda::Permission as the statement Lambda's AddPermission writes into the function policy. */
function lambdaPermissionStatement(id: string, p: Props, functionArn: string) {
  const principal = String(p.Principal);
  const condition: Record<string, Record<string, string>> = {};
  if (p.SourceAccount) condition.StringEquals = { 'AWS:SourceAccount': String(p.SourceAccount) };
  if (p.SourceArn) condition.ArnLike = { 'AWS:SourceArn': String(p.SourceArn) };
  return {
    Sid: id,
    Effect: 'Allow',
    Principal: principal.includes('.amazonaws.com') ? { Service: principal } : { AWS: principal },
    Action: String(p.Action),
    Resource: functionArn,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}
