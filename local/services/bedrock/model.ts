/**
 * The embedded Bedrock's resources: customization jobs, the custom models they produce, the tags
 * of every taggable resource, the create tokens already answered, the account's settings (job
 * duration, the concurrent-job quota) and the outcomes forced on the next jobs. Deployments keep
 * their own records (deployments.ts). Plain data: a snapshot is this, cloned.
 */
import { AwsError } from '../../core/types';
import type { CustomizationConfig } from './catalog';
import { findFoundationModel } from './catalog';
import type { Tag } from './rest';

export type JobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

/**
 * A Completed outcome may name the key the model claims to be encrypted with (`null`: an AWS
 * owned key), so a test can produce a model the workflow must refuse and remediate.
 */
export type JobOutcome =
  | { status: 'Completed'; modelKmsKeyArn?: string | null }
  | { status: 'Failed'; failureMessage: string };

/** What an RFT job's grader said about the records Bedrock sent it. */
export interface RewardRecord {
  graderArn: string;
  /** Records graded (ids as sent). */
  ids: string[];
  scores: number[];
  meanReward: number;
}

export interface S3Config {
  s3Uri: string;
}

export type Phase = 'validation' | 'dataProcessing' | 'training' | 'done';
export const PHASES: Phase[] = ['validation', 'dataProcessing', 'training'];

export interface JobRecord {
  id: string;
  jobArn: string;
  jobName: string;
  clientRequestToken?: string;
  roleArn: string;
  baseModelId: string;
  baseModelArn: string;
  customizationType: string;
  customModelName: string;
  outputModelKmsKeyArn?: string;
  customModelTags: Tag[];
  hyperParameters: Record<string, string>;
  trainingDataConfig: S3Config;
  validators: S3Config[];
  outputDataConfig: S3Config;
  vpcConfig?: { subnetIds: string[]; securityGroupIds: string[] };
  customizationConfig?: CustomizationConfig;
  /** RFT: a few training records, kept at validation to send to the grader. */
  rftSamples?: unknown[];
  rewards?: RewardRecord;
  status: JobStatus;
  phase: Phase;
  /** Index into PHASES of the phase that failed or was stopped. */
  haltedPhase?: number;
  phaseTimes: Array<{ start?: number; end?: number }>;
  failureMessage?: string;
  creationTime: number;
  lastModifiedTime: number;
  endTime?: number;
  durationMs: number;
  stopAt?: number;
  forcedOutcome?: JobOutcome;
  /** Digest-derived seeds and record count, taken while validating the data. */
  dataSeed?: number;
  validationSeed?: number;
  recordCount?: number;
  outputModelArn?: string;
  trainingLoss?: number;
  validationLoss?: number;
}

export interface ModelRecord {
  modelArn: string;
  modelName: string;
  jobArn: string;
  jobName: string;
  baseModelId: string;
  baseModelArn: string;
  customizationType: string;
  modelKmsKeyArn?: string;
  hyperParameters: Record<string, string>;
  trainingDataConfig: S3Config;
  validators: S3Config[];
  outputDataConfig: S3Config;
  trainingLoss: number;
  validationLoss?: number;
  creationTime: number;
}

/** The resources as a snapshot holds them (deployments are added by the service). */
export interface ResourcesSnapshot {
  jobDurationMs: number;
  jobs: JobRecord[];
  models: ModelRecord[];
  tags: Array<[string, Tag[]]>;
  tokens: Array<[string, string]>;
  pendingOutcomes: JobOutcome[];
  concurrentJobsQuota?: number;
}

/**
 * The account's "(Model customization) Scheduled customization jobs" quota (Service Quotas
 * L-0406044C) as the embedded account has it: CreateModelCustomizationJob beyond it answers
 * ServiceQuotaExceededException (HTTP 400 in the Bedrock model). AWS sets each account's value
 * (the Bedrock guide warns it may be lower than the default); 10 here is an assumption, settable
 * through the control API.
 */
export const DEFAULT_CONCURRENT_JOBS_QUOTA = 10;

export class BedrockResources {
  jobs = new Map<string, JobRecord>();
  models = new Map<string, ModelRecord>();
  tags = new Map<string, Tag[]>();
  tokens = new Map<string, string>();
  pendingOutcomes: JobOutcome[] = [];

  constructor(
    readonly accountId: string,
    readonly region: string,
    /** Simulated wall time from InProgress to Completed of the jobs created from now on. */
    public jobDurationMs: number,
    /** Jobs that may be InProgress or Stopping at once. */
    public jobsQuota: number,
  ) {}

  /** `arn:aws:bedrock:<region>:<account>:<rest>`. */
  arn(rest: string): string {
    return `arn:aws:bedrock:${this.region}:${this.accountId}:${rest}`;
  }

  foundationArn(modelId: string): string {
    return `arn:aws:bedrock:${this.region}::foundation-model/${modelId}`;
  }

  foundationName(modelId: string): string {
    return findFoundationModel(this.region, modelId)?.modelName ?? modelId;
  }

  /** A job by ARN or name. */
  findJob(identifier: string): JobRecord {
    for (const job of this.jobs.values()) {
      if (job.jobArn === identifier || job.jobName === identifier) return job;
    }
    throw new AwsError(
      'ResourceNotFoundException',
      `Model customization job ${identifier} was not found.`,
      404,
    );
  }

  /** A custom model by ARN or name, or undefined. */
  customModel(identifier: string): ModelRecord | undefined {
    return this.models.get(identifier) ?? [...this.models.values()].find((m) => m.modelName === identifier);
  }

  findModel(identifier: string): ModelRecord {
    const model = this.customModel(identifier);
    if (!model)
      throw new AwsError('ResourceNotFoundException', `Custom model ${identifier} was not found.`, 404);
    return model;
  }

  /** Counted as Bedrock counts them: jobs that have not ended (a stopping job still trains). */
  unfinishedJobs(): JobRecord[] {
    return [...this.jobs.values()].filter((j) => j.status === 'InProgress' || j.status === 'Stopping');
  }

  snapshot(): ResourcesSnapshot {
    return {
      jobDurationMs: this.jobDurationMs,
      jobs: [...this.jobs.values()].map((j) => structuredClone(j)),
      models: [...this.models.values()].map((m) => structuredClone(m)),
      tags: [...this.tags.entries()].map(([arn, t]) => [arn, t.map((x) => ({ ...x }))]),
      tokens: [...this.tokens.entries()],
      pendingOutcomes: this.pendingOutcomes.map((o) => ({ ...o })),
      concurrentJobsQuota: this.jobsQuota,
    };
  }

  restore(snap: Partial<ResourcesSnapshot>): void {
    this.jobDurationMs = snap.jobDurationMs ?? this.jobDurationMs;
    this.jobs = new Map((snap.jobs ?? []).map((j) => [j.id, structuredClone(j)]));
    this.models = new Map((snap.models ?? []).map((m) => [m.modelArn, structuredClone(m)]));
    this.tags = new Map(snap.tags ?? []);
    this.tokens = new Map(snap.tokens ?? []);
    this.pendingOutcomes = [...(snap.pendingOutcomes ?? [])];
    this.jobsQuota = snap.concurrentJobsQuota ?? this.jobsQuota;
  }
}
