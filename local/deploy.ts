/**
 * Deploys the CloudFormation template that `serverless package` compiles onto the embedded AWS,
 * as CloudFormation would: resources in dependency order (deploy/order.ts), through the same SDK
 * calls a user could make (as the account administrator, CloudFormation's stand-in), and the IAM
 * the template declares — each role with its trust and identity policies, each Lambda permission —
 * registered for the authorizer. What each resource type becomes is in deploy/data.ts (key, table,
 * buckets and their notifications) and deploy/runtime.ts (roles, functions, rules, state machine).
 */
import type { Authorizer } from './iam/authorizer';
import type { IamRegistry } from './iam/registry';
import type { LocalFunction, LocalLambda } from './lambda';
import { type CfnResource, type CfnTemplate, conditionHolds, type IntrinsicContext } from './stack';
import { Deployment, type ResourceDeployer } from './deploy/context';
import {
  applyBucketNotifications,
  deployBucket,
  deployBucketNotifications,
  deployBucketPolicy,
  deployKey,
  deployTable,
} from './deploy/data';
import { deployOrder } from './deploy/order';
import {
  deployFunction,
  deployLambdaPermission,
  deployLogGroup,
  deployRole,
  deployRule,
  deployStateMachine,
} from './deploy/runtime';

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
  admissionTable: string;
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

/** What the embedded AWS creates for each resource type; any other type is skipped. */
const RESOURCE_TYPES: Readonly<Record<string, ResourceDeployer>> = {
  'AWS::KMS::Key': deployKey,
  'AWS::IAM::Role': deployRole,
  'AWS::Logs::LogGroup': deployLogGroup,
  'AWS::DynamoDB::Table': deployTable,
  'AWS::S3::Bucket': deployBucket,
  'AWS::S3::BucketPolicy': deployBucketPolicy,
  'AWS::CloudFormation::WaitConditionHandle': (d, id) => {
    d.ctx.refs.set(id, `local-${id}`);
  },
  'AWS::Lambda::Function': deployFunction,
  'AWS::Lambda::Permission': deployLambdaPermission,
  'AWS::Events::Rule': deployRule,
  'Custom::S3': deployBucketNotifications,
  'AWS::StepFunctions::StateMachine': deployStateMachine,
};

export async function deployStack(o: DeployOptions): Promise<DeployedStack> {
  const { template, accountId, stage } = o;
  const d = new Deployment(o);
  const { ctx, functions, skipped } = d;
  const resources = Object.fromEntries(
    Object.entries(template.Resources).filter(([, r]) => !r.Condition || conditionHolds(r.Condition, ctx)),
  );

  for (const id of deployOrder(resources)) {
    const r = resources[id] as CfnResource;
    const deploy = Object.hasOwn(RESOURCE_TYPES, r.Type) ? RESOURCE_TYPES[r.Type] : undefined;
    if (deploy) await deploy(d, id, r);
    else d.skip(id, r.Type);
  }

  await applyBucketNotifications(d);
  const stateMachine = d.stateMachine;
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
    admissionTable: env('admitJob').ADMISSION_TABLE ?? '',
    invokeLocalEnv,
    ctx,
    skipped,
  };
}
