/**
 * Deploys the stack printed from serverless.yml onto the embedded AWS, through the same SDK
 * calls a user could make: buckets with their encryption, Block Public Access and policies,
 * the key, the table, the functions, their S3 and EventBridge triggers, the state machine.
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
import type { LocalFunction, LocalLambda } from './lambda';
import {
  conditionHolds,
  functionEnvironment,
  functionName,
  type IntrinsicContext,
  type PrintedConfig,
  resolveIntrinsics,
} from './stack';

export interface DeployedStack {
  stage: string;
  stateMachineArn: string;
  functions: LocalFunction[];
  trainingBucket: string;
  trainingPrefix: string;
  outputBucket: string;
  outputPrefix: string;
  taskTokenTable: string;
  admissionTable: string;
  /** What `serverless invoke local` needs for the values it cannot resolve offline. */
  invokeLocalEnv: Record<string, string>;
  ctx: IntrinsicContext;
}

export interface DeployOptions {
  endpoint: string;
  accountId: string;
  region: string;
  stage: string;
  config: PrintedConfig;
  lambda: LocalLambda;
}

type Props = Record<string, unknown>;

function clientConfig(endpoint: string, region: string) {
  return { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
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

/** The stack's key for this logical id from an earlier deploy, unless it is gone or being deleted. */
async function findStackKey(
  kms: KMSClient,
  stackName: string,
  logicalId: string,
): Promise<KeyMetadata | undefined> {
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) }));
    for (const k of page.Keys ?? []) {
      const tags = (await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }))).Tags ?? [];
      const tag = (key: string) => tags.find((t) => t.TagKey === key)?.TagValue;
      if (tag(STACK_NAME_TAG) !== stackName || tag(LOGICAL_ID_TAG) !== logicalId) continue;
      const meta = (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
      if (meta && meta.KeyState !== 'PendingDeletion') return meta;
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return undefined;
}

export async function deployStack(o: DeployOptions): Promise<DeployedStack> {
  const { config, accountId, region, stage } = o;
  const cc = clientConfig(o.endpoint, region);
  const s3 = new S3Client({ ...cc, forcePathStyle: true });
  const kms = new KMSClient(cc);
  const dynamo = new DynamoDBClient(cc);
  const events = new EventBridgeClient(cc);
  const sfn = new SFNClient(cc);
  const ctx: IntrinsicContext = {
    accountId,
    region,
    partition: 'aws',
    refs: new Map(),
    attrs: new Map(),
    conditions: (config.resources.Conditions ?? {}) as Record<string, unknown>,
  };
  const resources = Object.entries(config.resources.Resources).filter(
    ([, r]) => !r.Condition || conditionHolds(r.Condition, ctx),
  );
  const byType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const propsOf = (r: { Properties?: Props }) => resolveIntrinsics(r.Properties ?? {}, ctx) as Props;

  const stackName = `${config.service}-${stage}`;
  for (const [id, r] of byType('AWS::KMS::Key')) {
    const p = propsOf(r);
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
  for (const [id, r] of byType('AWS::IAM::Role')) {
    const name = String(propsOf(r).RoleName ?? `${config.service}-${stage}-${id}`);
    ctx.refs.set(id, name);
    ctx.attrs.set(`${id}.Arn`, `arn:aws:iam::${accountId}:role/${name}`);
  }
  for (const [id, r] of byType('AWS::Logs::LogGroup')) {
    const name = String(propsOf(r).LogGroupName ?? id);
    ctx.refs.set(id, name);
    ctx.attrs.set(`${id}.Arn`, `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`);
  }
  for (const [id, r] of byType('AWS::DynamoDB::Table')) {
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
    ctx.attrs.set(`${id}.Arn`, `arn:aws:dynamodb:${region}:${accountId}:table/${tableName}`);
  }
  for (const [id, r] of byType('AWS::S3::Bucket')) {
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
      const Rules = enc.ServerSideEncryptionConfiguration.map((r) => ({
        ApplyServerSideEncryptionByDefault: r.ServerSideEncryptionByDefault,
        BucketKeyEnabled: r.BucketKeyEnabled,
      }));
      await s3.send(
        new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules } }),
      );
    }
    const pab = p.PublicAccessBlockConfiguration as Props | undefined;
    if (pab)
      await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: pab }));
    ctx.refs.set(id, bucket);
    ctx.attrs.set(`${id}.Arn`, `arn:aws:s3:::${bucket}`);
  }
  for (const [id, r] of byType('AWS::S3::BucketPolicy')) {
    const p = propsOf(r);
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: String(p.Bucket), Policy: JSON.stringify(p.PolicyDocument) }),
    );
    ctx.refs.set(id, String(p.Bucket));
  }
  for (const [id] of byType('AWS::CloudFormation::WaitConditionHandle')) ctx.refs.set(id, `local-${id}`);

  const stateMachines = Object.values(config.stepFunctions.stateMachines);
  const sm = stateMachines[0];
  if (!sm?.name) throw new Error('serverless.yml defines no named state machine');
  const stateMachineArn = `arn:aws:states:${region}:${accountId}:stateMachine:${sm.name}`;
  if (sm.id) ctx.refs.set(sm.id, stateMachineArn);

  // Functions: registered with the environment Lambda would give them.
  const functions: LocalFunction[] = [];
  for (const [key, fn] of Object.entries(config.functions)) {
    const name = functionName(config, key, stage);
    const local: LocalFunction = {
      key,
      name,
      arn: `arn:aws:lambda:${region}:${accountId}:function:${name}`,
      handler: fn.handler,
      environment: functionEnvironment(config, key, ctx),
      timeoutSeconds: fn.timeout ?? config.provider.timeout ?? 6,
      memoryMb: fn.memorySize ?? config.provider.memorySize ?? 1024,
    };
    o.lambda.register(local);
    functions.push(local);
    const logicalId = `${key.charAt(0).toUpperCase()}${key.slice(1)}LambdaFunction`;
    ctx.refs.set(logicalId, name);
    ctx.attrs.set(`${logicalId}.Arn`, local.arn);
  }

  // Triggers.
  const notifications = new Map<string, LambdaFunctionConfiguration[]>();
  for (const f of functions) {
    for (const [i, ev] of (config.functions[f.key]?.events ?? []).entries()) {
      const s3Event = ev.s3 as
        | { bucket: string; event: string; rules?: Record<string, string>[] }
        | undefined;
      if (s3Event) {
        const rules = (s3Event.rules ?? []).flatMap((rule) =>
          Object.entries(rule).map(([Name, Value]) => ({ Name, Value })),
        );
        const list = notifications.get(s3Event.bucket) ?? [];
        list.push({
          Id: `${f.key}-${i}`,
          LambdaFunctionArn: f.arn,
          Events: [s3Event.event] as LambdaFunctionConfiguration['Events'],
          ...(rules.length > 0
            ? { Filter: { Key: { FilterRules: rules as { Name: 'prefix' | 'suffix'; Value: string }[] } } }
            : {}),
        });
        notifications.set(s3Event.bucket, list);
      }
      // serverless: `schedule: rate(1 minute)` or `schedule: {rate: [..], enabled}` → a scheduled rule.
      const schedule = ev.schedule as string | { rate: string | string[]; enabled?: boolean } | undefined;
      if (schedule !== undefined) {
        const rates = typeof schedule === 'string' ? [schedule] : [schedule.rate].flat();
        const enabled = typeof schedule === 'string' || schedule.enabled !== false;
        for (const [j, rate] of rates.entries()) {
          const rule = `${config.service}-${stage}-${f.key}-schedule-${i + 1}${j ? `-${j}` : ''}`.slice(
            0,
            64,
          );
          await events.send(
            new PutRuleCommand({
              Name: rule,
              ScheduleExpression: rate,
              State: enabled ? 'ENABLED' : 'DISABLED',
            }),
          );
          await events.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: f.key, Arn: f.arn }] }));
        }
      }
      const eb = ev.eventBridge as { pattern: unknown } | undefined;
      if (eb) {
        const rule = `${config.service}-${stage}-${f.key}-rule-${i + 1}`.slice(0, 64);
        await events.send(
          new PutRuleCommand({ Name: rule, EventPattern: JSON.stringify(eb.pattern), State: 'ENABLED' }),
        );
        await events.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: f.key, Arn: f.arn }] }));
      }
    }
  }
  for (const [bucket, configs] of notifications) {
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: { LambdaFunctionConfigurations: configs },
      }),
    );
  }

  // The state machine exactly as serverless deploys it (ASL file through its loader); its
  // Fn::GetAtt of each function resolve to the local functions.
  const definition = JSON.stringify(resolveIntrinsics(sm.definition, ctx));
  const roleArn = `arn:aws:iam::${accountId}:role/${sm.name}-role`;
  const created = await ignoring(
    sfn.send(new CreateStateMachineCommand({ name: sm.name, definition, roleArn, type: 'STANDARD' })),
    'StateMachineAlreadyExists',
  );
  // Restarted on a state dir with a changed serverless.yml: update the machine in place.
  if (!created) await sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition, roleArn }));

  const env = (key: string) => functions.find((f) => f.key === key)?.environment ?? {};
  const invokeLocalEnv: Record<string, string> = {
    TUNEVAULT_ACCOUNT_ID: accountId,
    TUNEVAULT_STATE_MACHINE_ARN: stateMachineArn,
    TUNEVAULT_KEY_BUILDER_ROLE_ARNS: env('ensureCustomerManagedKey').KEY_BUILDER_ROLE_ARNS ?? '',
    TUNEVAULT_BEDROCK_ROLE_ARN: env('submitCustomizationJob').BEDROCK_ROLE_ARN ?? '',
  };
  const base = env('startCustomization');
  return {
    stage,
    stateMachineArn,
    functions,
    trainingBucket: base.TRAINING_BUCKET ?? '',
    trainingPrefix: base.TRAINING_PREFIX ?? '',
    outputBucket: base.OUTPUT_BUCKET ?? '',
    outputPrefix: base.OUTPUT_PREFIX ?? '',
    taskTokenTable: env('waitForJob').TASK_TOKEN_TABLE ?? '',
    admissionTable: env('admitJob').ADMISSION_TABLE ?? '',
    invokeLocalEnv,
    ctx,
  };
}
