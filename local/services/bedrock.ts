/**
 * Embedded Amazon Bedrock control plane for model customization (restJson1): the operations it
 * serves, its in-process controls (job duration, forced outcomes, the quota, completeNow) and its
 * snapshot. Routes, member bindings and statuses come from the service model (core/rest-json.ts).
 *
 * The parts are in bedrock/: the resource model (model.ts), CreateModelCustomizationJob's input
 * (validation.ts) and the jobs (jobs.ts), the simulated timeline (simulation.ts, with metrics.ts
 * and grading.ts), custom and foundation models (models.ts), tags (tags.ts), deployments and
 * Provisioned Throughput (deployments.ts), the IAM questions (access.ts). Which models exist and
 * what each accepts comes from TuneVault's model catalog (bedrock/catalog.ts).
 */
import * as bedrockModel from '@aws-sdk/client-bedrock';
import type { Body } from '../core/input';
import type { OperationTable } from '../core/operations';
import { RestJsonService } from '../core/rest-json';
import { AwsError, type KeyStore, type ObjectStore, type PutEvents } from '../core/types';
import type { AccessRequest } from '../iam/types';
import { type BedrockIam, bedrockAccessRequests } from './bedrock/access';
import { type DeploymentSnapshot, Deployments } from './bedrock/deployments';
import type { InvokeGrader } from './bedrock/grading';
import { createJob, jobView, listJobs, stopJob } from './bedrock/jobs';
import {
  BedrockResources,
  DEFAULT_CONCURRENT_JOBS_QUOTA,
  type JobOutcome,
  type ResourcesSnapshot,
  type RewardRecord,
} from './bedrock/model';
import {
  deleteModel,
  getFoundationModel,
  listFoundationModels,
  listModels,
  modelView,
} from './bedrock/models';
import { JobTimeline } from './bedrock/simulation';
import { listTags, tagResource } from './bedrock/tags';

export {
  DEFAULT_CONCURRENT_JOBS_QUOTA,
  type JobOutcome,
  type JobStatus,
  type RewardRecord,
} from './bedrock/model';

export interface BedrockServiceOptions {
  accountId: string;
  region: string;
  s3: ObjectStore;
  kms: KeyStore;
  putEvents: PutEvents;
  /** Simulated wall time from InProgress to Completed (default 3000 ms). */
  jobDurationMs?: number;
  /** Jobs that may be InProgress or Stopping at once (default DEFAULT_CONCURRENT_JOBS_QUOTA). */
  concurrentJobsQuota?: number;
  /**
   * How Bedrock invokes an RFT job's grader (as the job's service role). Without it, an RFT job
   * fails as Bedrock would when it cannot reach the reward function.
   */
  invokeLambda?: InvokeGrader;
  /** With it, jobs check PassRole, the role's trust and the model key, and run as the service role. */
  iam?: BedrockIam;
}

interface BedrockSnapshot extends ResourcesSnapshot {
  version: 1;
  deployments?: DeploymentSnapshot;
}

/** A label of the operation's path (the router has bound it, so it is a string). */
const label = (input: Body, name: string) => String(input[name]);

export class BedrockService extends RestJsonService {
  override readonly signingName = 'bedrock';
  private readonly resources: BedrockResources;
  private readonly timeline: JobTimeline;
  private readonly deployments: Deployments;
  private readonly kms: KeyStore;
  private readonly iam: BedrockIam | undefined;

  constructor(options: BedrockServiceOptions) {
    super({ name: 'Bedrock', model: bedrockModel });
    const resources = new BedrockResources(
      options.accountId,
      options.region,
      options.jobDurationMs ?? 3000,
      options.concurrentJobsQuota ?? DEFAULT_CONCURRENT_JOBS_QUOTA,
    );
    this.resources = resources;
    this.kms = options.kms;
    this.iam = options.iam;
    this.timeline = new JobTimeline({
      resources,
      s3: options.s3,
      kms: options.kms,
      putEvents: options.putEvents,
      invokeLambda: options.invokeLambda,
      iam: options.iam,
    });
    this.deployments = new Deployments({
      accountId: options.accountId,
      region: options.region,
      customModel: (identifier) => {
        const m = resources.customModel(identifier);
        return m
          ? {
              modelArn: m.modelArn,
              baseModelId: m.baseModelId,
              ...(m.modelKmsKeyArn ? { modelKmsKeyArn: m.modelKmsKeyArn } : {}),
            }
          : undefined;
      },
      checkModelKey: async (keyArn) => {
        const key = await options.kms.describe(keyArn);
        if (key.keyState !== 'Enabled') {
          throw new AwsError(
            'ValidationException',
            `The KMS key ${keyArn} of the custom model is ${key.keyState}.`,
          );
        }
      },
      setTags: (arn, tags) => resources.tags.set(arn, tags),
      dropTags: (arn) => resources.tags.delete(arn),
      readyAfterMs: () => Math.min(1000, Math.round(resources.jobDurationMs * 0.1)),
    });
  }

  private get jobs() {
    return { resources: this.resources, timeline: this.timeline, kms: this.kms, iam: this.iam };
  }

  protected readonly operations: OperationTable<Body> = {
    CreateModelCustomizationJob: (b) => createJob(this.jobs, b),
    GetModelCustomizationJob: (b) => jobView(this.resources.findJob(label(b, 'jobIdentifier'))),
    ListModelCustomizationJobs: (b) => listJobs(this.resources, b),
    StopModelCustomizationJob: (b) => stopJob(this.jobs, this.resources.findJob(label(b, 'jobIdentifier'))),
    GetCustomModel: (b) => modelView(this.resources.findModel(label(b, 'modelIdentifier'))),
    ListCustomModels: (b) => listModels(this.resources, b),
    DeleteCustomModel: (b) => deleteModel(this.resources, label(b, 'modelIdentifier')),
    GetFoundationModel: (b) => getFoundationModel(this.resources, label(b, 'modelIdentifier')),
    ListFoundationModels: (b) => listFoundationModels(this.resources, b),
    TagResource: (b) => tagResource(this.resources, this.deployments, b),
    ListTagsForResource: (b) => listTags(this.resources, this.deployments, b),
    CreateCustomModelDeployment: async (b) => ({
      customModelDeploymentArn: await this.deployments.create('deployment', b),
    }),
    GetCustomModelDeployment: (b) =>
      this.deployments.deploymentView(
        this.deployments.find('deployment', label(b, 'customModelDeploymentIdentifier')),
      ),
    ListCustomModelDeployments: (b) => this.deployments.list('deployment', b),
    DeleteCustomModelDeployment: (b) =>
      this.deployments.delete('deployment', label(b, 'customModelDeploymentIdentifier')),
    CreateProvisionedModelThroughput: async (b) => ({
      provisionedModelArn: await this.deployments.create('provisioned', b),
    }),
    GetProvisionedModelThroughput: (b) =>
      this.deployments.provisionedView(this.deployments.find('provisioned', label(b, 'provisionedModelId'))),
    ListProvisionedModelThroughputs: (b) => this.deployments.list('provisioned', b),
    DeleteProvisionedModelThroughput: (b) =>
      this.deployments.delete('provisioned', label(b, 'provisionedModelId')),
  };

  protected access(operation: string, input: Body): AccessRequest[] {
    const { resources, deployments } = this;
    const named = (kind: string, found: string | undefined, id: string) =>
      id.startsWith('arn:') ? id : (found ?? resources.arn(`${kind}/${id}`));
    return bedrockAccessRequests(operation, input, {
      region: resources.region,
      accountId: resources.accountId,
      jobArn: (id) =>
        named(
          'model-customization-job',
          [...resources.jobs.values()].find((j) => j.jobName === id)?.jobArn,
          id,
        ),
      modelArn: (id) => named('custom-model', resources.customModel(id)?.modelArn, id),
      foundationArn: (id) => (id.startsWith('arn:') ? id : resources.foundationArn(id)),
      deploymentArn: (id) => deployments.arnOf('deployment', id),
      provisionedArn: (id) => deployments.arnOf('provisioned', id),
    });
  }

  // ---- in-process controls ----

  /** The concurrent-job quota; jobs already running keep running when it is lowered. */
  setConcurrentJobsQuota(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error('the concurrent job quota must be a whole number ≥ 1');
    this.resources.jobsQuota = n;
  }

  get concurrentJobsQuota(): number {
    return this.resources.jobsQuota;
  }

  /** Applies to jobs created from now on. */
  setJobDuration(ms: number): void {
    if (!(ms >= 0)) throw new Error('job duration must be a non-negative number of milliseconds');
    this.resources.jobDurationMs = ms;
  }

  /** The next `count` jobs created end with this outcome (a Failed outcome skips the artifacts). */
  setNextOutcome(outcome: JobOutcome, count = 1): void {
    for (let i = 0; i < count; i++) this.resources.pendingOutcomes.push({ ...outcome });
  }

  /** Forgets outcomes set for jobs not created yet. */
  clearNextOutcomes(): void {
    this.resources.pendingOutcomes = [];
  }

  /** Runs the rest of a job's timeline at once; resolves when it is terminal. */
  completeNow(jobIdentifier: string): Promise<void> {
    return this.timeline.completeNow(this.resources.findJob(jobIdentifier));
  }

  /** What an RFT job's grader returned (undefined before grading or for other types). */
  rewards(jobIdentifier: string): RewardRecord | undefined {
    const r = this.resources.findJob(jobIdentifier).rewards;
    return r ? structuredClone(r) : undefined;
  }

  /** Stops every timer; in-flight work stops emitting and scheduling. */
  close(): void {
    this.timeline.close();
  }

  // ---- state ----

  snapshot(): BedrockSnapshot {
    return { version: 1, ...this.resources.snapshot(), deployments: this.deployments.snapshot() };
  }

  restore(state: unknown): void {
    const snap = state as Partial<BedrockSnapshot> | undefined;
    if (snap?.version !== 1) throw new Error('Bedrock snapshot: unsupported format');
    this.timeline.reset();
    this.resources.restore(snap);
    this.deployments.restore(snap.deployments);
    // Jobs that were running keep running; their phase deadlines are wall-clock, so overdue ones run now.
    for (const job of this.resources.jobs.values()) this.timeline.schedule(job);
  }
}
