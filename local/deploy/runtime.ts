/**
 * The resources that run or decide: IAM roles (registered for the authorizer with their trust and
 * inline policies), Lambda functions and permissions, EventBridge rules, the state machine, and
 * the log groups they name. Lambda and Step Functions refuse a role their service principal
 * cannot assume, as CreateFunction and CreateStateMachine do.
 */
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateStateMachineCommand, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import type { NamedPolicy, PolicyDocument } from '../iam/types';
import type { LocalFunction } from '../lambda';
import type { CfnResource } from '../stack';
import { type Deployment, ignoring, type Props } from './context';

const asPolicy = (v: unknown): PolicyDocument => v as PolicyDocument;

/** `functions/x/handler.handler`'s serverless key from its logical id: FooBarLambdaFunction → fooBar. */
const functionKeyOf = (logicalId: string) =>
  logicalId.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());

export function deployRole(d: Deployment, id: string, r: CfnResource): void {
  const p = d.propsOf(r);
  const name = String(p.RoleName ?? `${d.stackName}-${id}`.slice(0, 64));
  const inline = ((p.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]).map(
    (x): NamedPolicy => ({ name: String(x.PolicyName), document: asPolicy(x.PolicyDocument) }),
  );
  if (((p.ManagedPolicyArns ?? []) as unknown[]).length > 0)
    throw new Error(`${id}: managed policies are not modelled by the embedded AWS; inline them`);
  const role = d.o.registry.putRole({
    name,
    path: String(p.Path ?? '/'),
    trustPolicy: asPolicy(p.AssumeRolePolicyDocument),
    policies: inline,
  });
  d.ctx.refs.set(id, name);
  d.ctx.attrs.set(`${id}.Arn`, role.arn);
  d.ctx.attrs.set(`${id}.RoleId`, role.roleId);
}

export function deployLogGroup(d: Deployment, id: string, r: CfnResource): void {
  const name = String(d.propsOf(r).LogGroupName ?? id);
  d.ctx.refs.set(id, name);
  d.ctx.attrs.set(`${id}.Arn`, d.arn('logs', `log-group:${name}:*`));
}

export async function deployFunction(d: Deployment, id: string, r: CfnResource): Promise<void> {
  const p = d.propsOf(r);
  const name = String(p.FunctionName ?? `${d.stackName}-${id}`);
  const arn = d.arn('lambda', `function:${name}`);
  d.ctx.refs.set(id, name);
  d.ctx.attrs.set(`${id}.Arn`, arn);
  const handler = String(p.Handler ?? '');
  // serverless's own custom-resource function (it attaches the S3 notification): its effect is
  // applied directly (Custom::S3, data.ts); it is not one of the stack's handlers.
  if (!handler.startsWith('functions/')) {
    d.skip(id, `${r.Type} (${handler})`);
    return;
  }
  const roleArn = String(p.Role ?? '');
  await d.requireAssumable(
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
    credentials: d.o.registry.session(roleArn, name).credential,
  };
  d.o.lambda.register(fn);
  d.functions.push(fn);
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

export function deployLambdaPermission(d: Deployment, id: string, r: CfnResource): void {
  const p = d.propsOf(r);
  const functionArn = String(p.FunctionName);
  d.o.registry.addLambdaPermission(functionArn, lambdaPermissionStatement(id, p, functionArn));
}

export async function deployRule(d: Deployment, id: string, r: CfnResource): Promise<void> {
  const p = d.propsOf(r);
  const name = String(p.Name ?? `${d.stackName}-${id}`.slice(0, 64));
  await d.events.send(
    new PutRuleCommand({
      Name: name,
      ...(p.EventPattern ? { EventPattern: JSON.stringify(p.EventPattern) } : {}),
      ...(p.ScheduleExpression ? { ScheduleExpression: String(p.ScheduleExpression) } : {}),
      State: (p.State as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
    }),
  );
  const targets = (p.Targets ?? []) as { Id: string; Arn: string; Input?: string }[];
  if (targets.length > 0) await d.events.send(new PutTargetsCommand({ Rule: name, Targets: targets }));
  d.ctx.refs.set(id, name);
  d.ctx.attrs.set(`${id}.Arn`, d.arn('events', `rule/${name}`));
}

export async function deployStateMachine(d: Deployment, id: string, r: CfnResource): Promise<void> {
  const p = d.propsOf(r);
  const name = String(p.StateMachineName);
  const roleArn = String(p.RoleArn);
  await d.requireAssumable(
    roleArn,
    `states.${d.o.region}.amazonaws.com`,
    `${name}: Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role.`,
  );
  const definition =
    typeof p.DefinitionString === 'string' ? p.DefinitionString : JSON.stringify(p.Definition);
  const arn = d.arn('states', `stateMachine:${name}`);
  const created = await ignoring(
    d.sfn.send(new CreateStateMachineCommand({ name, definition, roleArn, type: 'STANDARD' })),
    'StateMachineAlreadyExists',
  );
  // Restarted on a state dir with a changed serverless.yml: update the machine in place.
  if (!created)
    await d.sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition, roleArn }));
  d.ctx.refs.set(id, arn);
  d.ctx.attrs.set(`${id}.Name`, name);
  d.stateMachine = { arn, roleArn };
}
