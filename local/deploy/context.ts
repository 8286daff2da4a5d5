/**
 * One deploy in progress: the SDK clients it calls the embedded AWS with (as the account
 * administrator, CloudFormation's stand-in), the intrinsic context the template resolves in, and
 * what the resources deployed so far leave for the rest (functions, notifications, the state machine).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { type LambdaFunctionConfiguration, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DeployOptions } from '../deploy';
import type { LocalFunction } from '../lambda';
import { type CfnResource, type IntrinsicContext, resolveIntrinsics } from '../stack';

export type Props = Record<string, unknown>;

/** Creates (or updates in place) one resource of the template. */
export type ResourceDeployer = (d: Deployment, id: string, r: CfnResource) => Promise<void> | void;

/** The call's result, or undefined when it failed with one of NAMES (already there, …). */
export async function ignoring<T>(call: Promise<T>, ...names: string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof Error && names.includes(err.name)) return undefined;
    throw err;
  }
}

export class Deployment {
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly dynamo: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly sfn: SFNClient;
  readonly ctx: IntrinsicContext;
  readonly stackName: string;
  /** Resource types the embedded AWS does not create (logged once at start). */
  readonly skipped: { logicalId: string; type: string }[] = [];
  readonly functions: LocalFunction[] = [];
  /** The S3 notifications serverless's custom resource attaches, by bucket (applied once all exist). */
  readonly notifications = new Map<string, LambdaFunctionConfiguration[]>();
  stateMachine: { arn: string; roleArn: string } | undefined;

  constructor(readonly o: DeployOptions) {
    const { endpoint, region, registry } = o;
    const cc = { endpoint, region, credentials: registry.admin.credential };
    this.s3 = new S3Client({ ...cc, forcePathStyle: true });
    this.kms = new KMSClient(cc);
    this.dynamo = new DynamoDBClient(cc);
    this.events = new EventBridgeClient(cc);
    this.sfn = new SFNClient(cc);
    this.ctx = {
      accountId: o.accountId,
      region,
      partition: registry.partition,
      refs: new Map(),
      attrs: new Map(),
      conditions: (o.template.Conditions ?? {}) as Record<string, unknown>,
    };
    this.stackName = `${o.service}-${o.stage}`;
  }

  get arnPrefix(): string {
    return `arn:${this.ctx.partition}`;
  }

  /** `arn:<partition>:<service>:<region>:<account>:<resource>`. */
  arn(service: string, resource: string): string {
    return `${this.arnPrefix}:${service}:${this.o.region}:${this.o.accountId}:${resource}`;
  }

  propsOf(r: CfnResource): Props {
    return resolveIntrinsics(r.Properties ?? {}, this.ctx) as Props;
  }

  skip(logicalId: string, type: string): void {
    this.skipped.push({ logicalId, type });
  }

  /** The trust policy of ROLEARN must let SERVICE assume it (CreateFunction / CreateStateMachine). */
  async requireAssumable(roleArn: string, service: string, refusal: string): Promise<void> {
    const { registry, authorizer, accountId } = this.o;
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
  }
}
