/**
 * Embedded Amazon Bedrock control plane for model customization (restJson1).
 *
 * Jobs run a simulated timeline: validation (reads the training / validation objects), data
 * processing, training. At the end the model artifacts are "encrypted" with the caller's KMS key
 * through the KeyStore (so a disabled or deleted key fails the job as it would on AWS), the metrics
 * CSVs land in the output location through the ObjectStore, and the custom model appears.
 * Loss curves are derived from the training bytes, so the same data always gives the same numbers.
 *
 * Which models exist, what each accepts (customization types per Region, hyper-parameters,
 * teachers, customizationConfig) comes from TuneVault's model catalog (bedrock/catalog.ts). Each
 * customization type is simulated: a distillation job records its teacher, a reinforcement
 * fine-tuning job invokes its grader Lambda on a few records and records the rewards.
 */
import * as bedrockModel from '@aws-sdk/client-bedrock';
import { createHash, randomBytes } from 'node:crypto';
import {
  AwsError,
  type KeyStore,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  type ObjectStore,
  type PutEvents,
} from '../core/types';
import { seededRandom } from '../core/random';
import { type Body, optionalString, requireString, validation } from '../core/input';
import { parseJsonBody } from '../core/json-protocol';
import { checkInputShape } from '../core/json-shapes';
import { CUSTOMIZATION_TYPES, type CustomizationTypeName } from '../../functions/shared/catalog';
import {
  type CustomizationConfig,
  checkCustomizationConfig,
  checkHyperParameters,
  checkVpcConfig,
  customizableModel,
  type FoundationModel,
  findFoundationModel,
  foundationModels,
  LISTED_CUSTOMIZATIONS,
} from './bedrock/catalog';
import { type DeploymentSnapshot, DeploymentService } from './bedrock/deployments';
import { iso, MAX_TAGS, newId, paginate, parseTags, type Tag, timeFilter } from './bedrock/rest';
import { asCaller, currentCaller } from '../iam/authorizer';
import type { AccessRequest } from '../iam/types';
import {
  authorizeJobCreation,
  type BedrockIam,
  bedrockAccessRequests,
  bedrockItself,
  jobSession,
} from './bedrock-access';

export type JobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
/**
 * A Completed outcome may name the key the model claims to be encrypted with (`null`: an AWS
 * owned key), so a test can produce a model the workflow must refuse and remediate.
 */
export type JobOutcome =
  | { status: 'Completed'; modelKmsKeyArn?: string | null }
  | { status: 'Failed'; failureMessage: string };

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
  invokeLambda?: (functionArn: string, payload: unknown, roleArn: string) => Promise<unknown>;
  /** With it, jobs check PassRole, the role's trust and the model key, and run as the service role. */
  iam?: BedrockIam;
}

/**
 * The account's "(Model customization) Scheduled customization jobs" quota (Service Quotas
 * L-0406044C) as the embedded account has it: CreateModelCustomizationJob beyond it answers
 * ServiceQuotaExceededException (HTTP 400 in the Bedrock model). AWS sets each account's value
 * (the Bedrock guide warns it may be lower than the default); 10 here is an assumption, settable
 * through the control API.
 */
export const DEFAULT_CONCURRENT_JOBS_QUOTA = 10;

/** What an RFT job's grader said about the records Bedrock sent it. */
export interface RewardRecord {
  graderArn: string;
  /** Records graded (ids as sent). */
  ids: string[];
  scores: number[];
  meanReward: number;
}

interface S3Config {
  s3Uri: string;
}

type Phase = 'validation' | 'dataProcessing' | 'training' | 'done';
const PHASES: Phase[] = ['validation', 'dataProcessing', 'training'];
/** Where each phase ends, as a fraction of the job duration. */
const PHASE_END: Record<Exclude<Phase, 'done'>, number> = {
  validation: 0.2,
  dataProcessing: 0.4,
  training: 1,
};

interface JobRecord {
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

interface ModelRecord {
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

interface BedrockSnapshot {
  version: 1;
  jobDurationMs: number;
  jobs: JobRecord[];
  models: ModelRecord[];
  tags: Array<[string, Tag[]]>;
  tokens: Array<[string, string]>;
  pendingOutcomes: JobOutcome[];
  concurrentJobsQuota?: number;
  deployments?: DeploymentSnapshot;
}

const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$/;
const MODEL_NAME = /^([0-9a-zA-Z][_-]?){1,63}$/;
const TOKEN = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?$/;
const ROLE_ARN = /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/;
const S3_URI = /^s3:\/\/([a-z0-9][-.a-z0-9]{1,61}[a-z0-9])(?:\/(.*))?$/;

/** Modeled HTTP statuses of Bedrock errors, for errors raised elsewhere with the generic 400. */
const ERROR_STATUS: Record<string, number> = {
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

function s3Config(raw: unknown, label: string): S3Config {
  const uri = requireString((raw ?? {}) as Body, 's3Uri', `${label}.s3Uri`);
  if (!S3_URI.test(uri) || uri.length > 1024) {
    throw validation(
      `${label}.s3Uri`,
      uri,
      'Member must satisfy regular expression pattern: s3://<bucket>[/<key>]',
    );
  }
  return { s3Uri: uri };
}

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = S3_URI.exec(uri);
  if (!m) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: m[1] as string, key: m[2] ?? '' };
}

/** EventBridge shows whole seconds, as in the documented sample. */
function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function seedOf(data: Buffer): number {
  return createHash('sha256').update(data).digest().readUInt32BE(0);
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** The key the finished model reports: the job's, unless a forced outcome says otherwise. */
function modelKeyOf(job: JobRecord): string | undefined {
  const forced = job.forcedOutcome;
  if (forced?.status !== 'Completed' || forced.modelKmsKeyArn === undefined) return job.outputModelKmsKeyArn;
  return forced.modelKmsKeyArn ?? undefined;
}

function errorText(err: unknown): string {
  if (err instanceof AwsError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

function joinKey(prefix: string, key: string): string {
  if (prefix === '') return key;
  return prefix.endsWith('/') ? prefix + key : `${prefix}/${key}`;
}

/** Records an RFT job sends its grader: a few, enough to show the grader works. */
const RFT_GRADED_RECORDS = 3;

function rftSamples(training: Buffer): unknown[] {
  const out: unknown[] = [];
  for (const line of training.toString('utf8').split('\n')) {
    if (out.length >= RFT_GRADED_RECORDS) break;
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // Not a record; the data guard refuses such files before a job is submitted.
    }
  }
  return out;
}

/**
 * One grader input record. The simulated model answers with the reference answer for even
 * records and a wrong one for odd records, so a grader that compares gives distinct rewards.
 */
function graderItem(record: unknown, i: number): { id: string; messages: unknown[]; metadata: Body } {
  const r = (record ?? {}) as Body;
  const { messages, reference_answer, id, ...rest } = r;
  const reference =
    typeof reference_answer === 'string' ? reference_answer : JSON.stringify(reference_answer ?? null);
  const answer = i % 2 === 0 ? reference : 'I do not know.';
  return {
    id: typeof id === 'string' ? id : `sample-${i + 1}`,
    messages: [...(Array.isArray(messages) ? messages : []), { role: 'assistant', content: answer }],
    metadata: { reference_answer, ...rest },
  };
}

export class BedrockService implements LocalService {
  readonly signingName = 'bedrock';
  private readonly accountId: string;
  private readonly region: string;
  private readonly s3: ObjectStore;
  private readonly kms: KeyStore;
  private readonly putEvents: PutEvents;
  private readonly invokeLambda: BedrockServiceOptions['invokeLambda'];
  private readonly deployments: DeploymentService;
  private jobDurationMs: number;
  private jobsQuota: number;
  private jobs = new Map<string, JobRecord>();
  private models = new Map<string, ModelRecord>();
  private tags = new Map<string, Tag[]>();
  private tokens = new Map<string, string>();
  private pendingOutcomes: JobOutcome[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per-job promise chain: timer callbacks and completeNow never run a job's phases concurrently. */
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;

  constructor(options: BedrockServiceOptions) {
    this.accountId = options.accountId;
    this.region = options.region;
    this.s3 = options.s3;
    this.kms = options.kms;
    this.putEvents = options.putEvents;
    this.jobDurationMs = options.jobDurationMs ?? 3000;
    this.jobsQuota = options.concurrentJobsQuota ?? DEFAULT_CONCURRENT_JOBS_QUOTA;
    this.invokeLambda = options.invokeLambda;
    this.deployments = new DeploymentService({
      accountId: this.accountId,
      region: this.region,
      customModel: (identifier) => {
        const m =
          this.models.get(identifier) ?? [...this.models.values()].find((x) => x.modelName === identifier);
        return m
          ? {
              modelArn: m.modelArn,
              baseModelId: m.baseModelId,
              ...(m.modelKmsKeyArn ? { modelKmsKeyArn: m.modelKmsKeyArn } : {}),
            }
          : undefined;
      },
      checkModelKey: async (keyArn) => {
        const key = await this.kms.describe(keyArn);
        if (key.keyState !== 'Enabled') {
          throw new AwsError(
            'ValidationException',
            `The KMS key ${keyArn} of the custom model is ${key.keyState}.`,
          );
        }
      },
      setTags: (arn, tags) => this.tags.set(arn, tags),
      dropTags: (arn) => this.tags.delete(arn),
      readyAfterMs: () => Math.min(1000, Math.round(this.jobDurationMs * 0.1)),
    });
    this.iam = options.iam;
  }

  /** The concurrent-job quota; jobs already running keep running when it is lowered. */
  setConcurrentJobsQuota(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error('the concurrent job quota must be a whole number ≥ 1');
    this.jobsQuota = n;
  }

  get concurrentJobsQuota(): number {
    return this.jobsQuota;
  }

  private readonly iam: BedrockIam | undefined;

  accessRequests(req: LocalRequest): AccessRequest[] {
    const route = this.route(req);
    if (!route) return [];
    const lookups = {
      region: this.region,
      accountId: this.accountId,
      jobArn: (id: string) =>
        id.startsWith('arn:')
          ? id
          : ([...this.jobs.values()].find((j) => j.jobName === id)?.jobArn ??
            `arn:aws:bedrock:${this.region}:${this.accountId}:model-customization-job/${id}`),
      modelArn: (id: string) =>
        id.startsWith('arn:')
          ? id
          : ([...this.models.values()].find((m) => m.modelName === id)?.modelArn ??
            `arn:aws:bedrock:${this.region}:${this.accountId}:custom-model/${id}`),
      foundationArn: (id: string) => (id.startsWith('arn:') ? id : this.foundationArn(id)),
      deploymentArn: (id: string) => this.deployments.arnOf('deployment', id),
      provisionedArn: (id: string) => this.deployments.arnOf('provisioned', id),
    };
    return bedrockAccessRequests(
      route.operation,
      route.id ?? '',
      this.parseBody(req, route.operation),
      lookups,
    );
  }

  /** Runs FN as the job's service role (reads of training data, writes of output). */
  private asJobRole<T>(job: JobRecord, fn: () => Promise<T>): Promise<T> {
    const caller = this.iam ? jobSession(this.iam, job.roleArn, job.id) : undefined;
    return caller ? asCaller(caller, fn) : fn();
  }

  // ---- in-process controls ----

  /** Applies to jobs created from now on. */
  setJobDuration(ms: number): void {
    if (!(ms >= 0)) throw new Error('job duration must be a non-negative number of milliseconds');
    this.jobDurationMs = ms;
  }

  /** The next `count` jobs created end with this outcome (a Failed outcome skips the artifacts). */
  setNextOutcome(outcome: JobOutcome, count = 1): void {
    for (let i = 0; i < count; i++) this.pendingOutcomes.push({ ...outcome });
  }

  /** Forgets outcomes set for jobs not created yet. */
  clearNextOutcomes(): void {
    this.pendingOutcomes = [];
  }

  /** Runs the rest of a job's timeline at once; resolves when it is terminal. */
  async completeNow(jobIdentifier: string): Promise<void> {
    const job = this.findJob(jobIdentifier);
    this.clearTimer(job.id);
    await this.enqueue(job, async () => {
      while (!this.closed && job.status === 'InProgress') await this.runPhase(job);
      if (!this.closed && job.status === 'Stopping') await this.finishStop(job);
    });
    // A timer callback that was already queued may have re-armed a (now pointless) timer.
    this.clearTimer(job.id);
  }

  /** What an RFT job's grader returned (undefined before grading or for other types). */
  rewards(jobIdentifier: string): RewardRecord | undefined {
    const r = this.findJob(jobIdentifier).rewards;
    return r ? structuredClone(r) : undefined;
  }

  /**
   * Sends a few training records, each with a simulated response, to the job's grader as the
   * reward-function payload of the Bedrock guide (reward-functions): `[{id, messages (with the
   * assistant's answer appended), metadata: {reference_answer, …other fields}}]`, and expects
   * `[{id, aggregate_reward_score}]` back. Undefined when it went well; else the failure message.
   */
  private async grade(job: JobRecord): Promise<string | undefined> {
    const config = job.customizationConfig;
    const arn =
      config && 'rftConfig' in config ? config.rftConfig.graderConfig.lambdaGrader.lambdaArn : undefined;
    if (!arn) return 'The job has no reward function (customizationConfig.rftConfig).';
    const payload = (job.rftSamples ?? []).map((record, i) => graderItem(record, i));
    if (payload.length === 0)
      return `The training data at ${job.trainingDataConfig.s3Uri} holds no RFT prompt to grade.`;
    if (!this.invokeLambda)
      return `Amazon Bedrock could not invoke the reward function ${arn}: no Lambda service.`;
    let answer: unknown;
    try {
      answer = await this.invokeLambda(arn, payload, job.roleArn);
    } catch (err) {
      return `Amazon Bedrock could not invoke the reward function ${arn} (${errorText(err)}). Check that it exists in ${this.region} and that the job's role may invoke it (lambda:InvokeFunction).`;
    }
    const scores: number[] = [];
    const byId = new Map(
      (Array.isArray(answer) ? answer : []).map((a: unknown) => [String((a as Body)?.['id']), a as Body]),
    );
    for (const item of payload) {
      const score = byId.get(item.id)?.['aggregate_reward_score'];
      if (typeof score !== 'number' || !Number.isFinite(score)) {
        return `The reward function ${arn} returned no numeric aggregate_reward_score for record ${item.id}: it must answer [{"id", "aggregate_reward_score"}] for each record it is sent.`;
      }
      scores.push(score);
    }
    job.rewards = {
      graderArn: arn,
      ids: payload.map((p) => p.id),
      scores,
      meanReward: round(scores.reduce((a, b) => a + b, 0) / scores.length),
    };
    return undefined;
  }

  /** Stops every timer; in-flight work stops emitting and scheduling. */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  // ---- LocalService ----

  operationOf(req: LocalRequest): string {
    return this.route(req)?.operation ?? 'Unknown';
  }

  errorResponse(error: AwsError): LocalResponse {
    const modeled = Object.hasOwn(ERROR_STATUS, error.code) ? ERROR_STATUS[error.code] : undefined;
    const status = error.status === 400 ? (modeled ?? 400) : error.status;
    return {
      status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code },
      body: JSON.stringify({ message: error.message, ...error.extra }),
    };
  }

  async handle(req: LocalRequest): Promise<LocalResponse> {
    const route = this.route(req);
    if (!route) {
      throw new AwsError(
        'UnknownOperationException',
        `The embedded Bedrock does not serve ${req.method} ${req.path}`,
        404,
      );
    }
    const body = this.parseBody(req, route.operation);
    const id = route.id ?? '';
    switch (route.operation) {
      case 'CreateModelCustomizationJob':
        return this.json(await this.createJob(body), 201);
      case 'GetModelCustomizationJob':
        return this.json(this.jobView(this.findJob(id)));
      case 'ListModelCustomizationJobs':
        return this.json(this.listJobs(req.query));
      case 'StopModelCustomizationJob':
        this.stopJob(this.findJob(id));
        return this.json({});
      case 'GetCustomModel':
        return this.json(this.modelView(this.findModel(id)));
      case 'ListCustomModels':
        return this.json(this.listModels(req.query));
      case 'DeleteCustomModel': {
        const model = this.findModel(id);
        this.models.delete(model.modelArn);
        this.tags.delete(model.modelArn);
        return this.json({});
      }
      case 'GetFoundationModel':
        return this.json(this.getFoundationModel(id));
      case 'ListFoundationModels':
        return this.json({ modelSummaries: this.listFoundationModels(req.query) });
      case 'TagResource':
        this.tagResource(body);
        return this.json({});
      case 'UntagResource':
        this.untagResource(body);
        return this.json({});
      case 'ListTagsForResource': {
        const arn = this.taggable(requireString(body, 'resourceARN'));
        return this.json({ tags: (this.tags.get(arn) ?? []).map((t) => ({ ...t })) });
      }
      default: {
        const out = await this.deployments.handle(route.operation, id, body, req.query);
        return this.json(out.body, out.status);
      }
    }
  }

  snapshot(): BedrockSnapshot {
    return {
      version: 1,
      jobDurationMs: this.jobDurationMs,
      jobs: [...this.jobs.values()].map((j) => structuredClone(j)),
      models: [...this.models.values()].map((m) => structuredClone(m)),
      tags: [...this.tags.entries()].map(([arn, t]) => [arn, t.map((x) => ({ ...x }))]),
      tokens: [...this.tokens.entries()],
      pendingOutcomes: this.pendingOutcomes.map((o) => ({ ...o })),
      concurrentJobsQuota: this.jobsQuota,
      deployments: this.deployments.snapshot(),
    };
  }

  restore(state: unknown): void {
    const snap = state as Partial<BedrockSnapshot> | undefined;
    if (snap?.version !== 1) throw new Error('Bedrock snapshot: unsupported format');
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.chains.clear();
    this.jobDurationMs = snap.jobDurationMs ?? this.jobDurationMs;
    this.jobs = new Map((snap.jobs ?? []).map((j) => [j.id, structuredClone(j)]));
    this.models = new Map((snap.models ?? []).map((m) => [m.modelArn, structuredClone(m)]));
    this.tags = new Map(snap.tags ?? []);
    this.tokens = new Map(snap.tokens ?? []);
    this.pendingOutcomes = [...(snap.pendingOutcomes ?? [])];
    this.jobsQuota = snap.concurrentJobsQuota ?? this.jobsQuota;
    this.deployments.restore(snap.deployments);
    // Jobs that were running keep running; their phase deadlines are wall-clock, so overdue ones run now.
    for (const job of this.jobs.values()) this.schedule(job);
  }

  // ---- routing ----

  private route(req: LocalRequest): { operation: string; id?: string } | undefined {
    const segments = req.path.split('/').filter((s) => s !== '');
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      return undefined;
    }
    const [root, id, action] = decoded;
    const m = req.method.toUpperCase();
    const n = decoded.length;
    const deployment = this.deployments.route(m, decoded);
    if (deployment) return deployment;
    if (root === 'model-customization-jobs') {
      if (n === 1 && m === 'POST') return { operation: 'CreateModelCustomizationJob' };
      if (n === 1 && m === 'GET') return { operation: 'ListModelCustomizationJobs' };
      if (n === 2 && m === 'GET') return { operation: 'GetModelCustomizationJob', id };
      if (n === 3 && m === 'POST' && action === 'stop') return { operation: 'StopModelCustomizationJob', id };
    }
    if (root === 'custom-models') {
      if (n === 1 && m === 'GET') return { operation: 'ListCustomModels' };
      if (n === 2 && m === 'GET') return { operation: 'GetCustomModel', id };
      if (n === 2 && m === 'DELETE') return { operation: 'DeleteCustomModel', id };
    }
    if (root === 'foundation-models') {
      if (n === 1 && m === 'GET') return { operation: 'ListFoundationModels' };
      if (n === 2 && m === 'GET') return { operation: 'GetFoundationModel', id };
    }
    if (n === 1 && m === 'POST') {
      if (root === 'tagResource') return { operation: 'TagResource' };
      if (root === 'untagResource') return { operation: 'UntagResource' };
      if (root === 'listTagsForResource') return { operation: 'ListTagsForResource' };
    }
    return undefined;
  }

  /** The request's JSON object, its members of the types the model gives them (SerializationException otherwise). */
  private parseBody(req: LocalRequest, operation: string): Body {
    const body = parseJsonBody<Body>(req);
    checkInputShape(bedrockModel, operation, body);
    return body;
  }

  private json(body: unknown, status = 200): LocalResponse {
    return {
      status,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomBytes(16).toString('hex') },
      body: JSON.stringify(body),
    };
  }

  // ---- jobs ----

  private async createJob(b: Body): Promise<{ jobArn: string }> {
    // A retried request (same token) answers with the job it created first, before any other check.
    const token = optionalString(b, 'clientRequestToken');
    if (token !== undefined) {
      if (!TOKEN.test(token) || token.length > 256) {
        throw validation(
          'clientRequestToken',
          token,
          `Member must satisfy regular expression pattern: ${TOKEN.source}`,
        );
      }
      const existing = this.tokens.get(token);
      if (existing) return { jobArn: existing };
    }

    const jobName = requireString(b, 'jobName');
    if (jobName.length > 63)
      throw validation('jobName', jobName, 'Member must have length less than or equal to 63');
    if (!JOB_NAME.test(jobName)) {
      throw validation(
        'jobName',
        jobName,
        'Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9\\+\\-\\.])*',
      );
    }
    const customModelName = requireString(b, 'customModelName');
    if (customModelName.length > 63) {
      throw validation(
        'customModelName',
        customModelName,
        'Member must have length less than or equal to 63',
      );
    }
    if (!MODEL_NAME.test(customModelName)) {
      throw validation(
        'customModelName',
        customModelName,
        'Member must satisfy regular expression pattern: ([0-9a-zA-Z][_-]?){1,63}',
      );
    }
    const roleArn = requireString(b, 'roleArn');
    if (!ROLE_ARN.test(roleArn) || roleArn.length > 2048) {
      throw validation(
        'roleArn',
        roleArn,
        'Member must satisfy regular expression pattern: ^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$',
      );
    }
    const customizationType = optionalString(b, 'customizationType') ?? 'FINE_TUNING';
    if (!(CUSTOMIZATION_TYPES as readonly string[]).includes(customizationType)) {
      throw validation(
        'customizationType',
        customizationType,
        `Member must satisfy enum value set: [${[...CUSTOMIZATION_TYPES, 'IMPORTED'].join(', ')}]`,
      );
    }
    const type = customizationType as CustomizationTypeName;
    const baseModel = customizableModel(this.region, requireString(b, 'baseModelIdentifier'), type);
    if (b['trainingDataConfig'] === undefined)
      throw validation('trainingDataConfig', undefined, 'Member must not be null');
    const trainingDataConfig = s3Config(b['trainingDataConfig'], 'trainingDataConfig');
    if (b['outputDataConfig'] === undefined)
      throw validation('outputDataConfig', undefined, 'Member must not be null');
    const outputDataConfig = s3Config(b['outputDataConfig'], 'outputDataConfig');
    const validators = this.parseValidators(b['validationDataConfig']);
    const hyperParameters = checkHyperParameters(baseModel, type, b['hyperParameters']);
    const customizationConfig = checkCustomizationConfig(
      this.region,
      baseModel,
      type,
      b['customizationConfig'],
    );
    const vpcConfig = checkVpcConfig(b['vpcConfig']);
    const jobTags = parseTags(b['jobTags'], 'jobTags');
    const customModelTags = parseTags(b['customModelTags'], 'customModelTags');

    if ([...this.jobs.values()].some((j) => j.jobName === jobName)) {
      throw new AwsError('ValidationException', 'The provided job name is currently in use.');
    }
    const modelTaken =
      [...this.models.values()].some((m) => m.modelName === customModelName) ||
      [...this.jobs.values()].some(
        (j) =>
          j.customModelName === customModelName && (j.status === 'InProgress' || j.status === 'Stopping'),
      );
    if (modelTaken) {
      throw new AwsError(
        'ValidationException',
        `The provided custom model name '${customModelName}' is already in use.`,
      );
    }

    let outputModelKmsKeyArn: string | undefined;
    const keyId = optionalString(b, 'customModelKmsKeyId');
    if (keyId !== undefined) outputModelKmsKeyArn = await this.resolveModelKey(keyId);

    const id = newId();
    const jobArn = `arn:aws:bedrock:${this.region}:${this.accountId}:model-customization-job/${baseModel.id}/${id}`;
    const caller = currentCaller();
    if (this.iam && caller) {
      await authorizeJobCreation(this.iam, caller, this.kms, {
        roleArn,
        jobArn,
        region: this.region,
        accountId: this.accountId,
        ...(outputModelKmsKeyArn !== undefined ? { modelKmsKeyId: outputModelKmsKeyArn } : {}),
      });
    }

    // Token may have been taken while we awaited KMS: re-check so concurrent retries stay idempotent.
    if (token !== undefined) {
      const existing = this.tokens.get(token);
      if (existing) return { jobArn: existing };
    }

    // Counted as Bedrock counts them: jobs that have not ended (a stopping job still trains).
    const running = [...this.jobs.values()].filter(
      (j) => j.status === 'InProgress' || j.status === 'Stopping',
    );
    if (running.length >= this.jobsQuota) {
      // The message is the one Bedrock's API model documents for this error.
      throw new AwsError(
        'ServiceQuotaExceededException',
        'The number of requests exceeds the service quota. Resubmit your request later.',
      );
    }

    const now = Date.now();
    const job: JobRecord = {
      id,
      jobArn,
      jobName,
      clientRequestToken: token,
      roleArn,
      baseModelId: baseModel.id,
      baseModelArn: this.foundationArn(baseModel.id),
      customizationType,
      customModelName,
      outputModelKmsKeyArn,
      customModelTags,
      hyperParameters,
      trainingDataConfig,
      validators,
      outputDataConfig,
      ...(vpcConfig ? { vpcConfig } : {}),
      ...(customizationConfig ? { customizationConfig } : {}),
      status: 'InProgress',
      phase: 'validation',
      phaseTimes: [{ start: now }, {}, {}],
      creationTime: now,
      lastModifiedTime: now,
      durationMs: this.jobDurationMs,
      forcedOutcome: this.pendingOutcomes.shift(),
    };
    this.jobs.set(id, job);
    if (token !== undefined) this.tokens.set(token, job.jobArn);
    if (jobTags.length > 0) this.tags.set(job.jobArn, jobTags);
    await this.emit(job);
    this.schedule(job);
    return { jobArn: job.jobArn };
  }

  private parseValidators(raw: unknown): S3Config[] {
    if (raw === undefined || raw === null) return [];
    const list = (raw as Body)['validators'];
    if (!Array.isArray(list))
      throw validation('validationDataConfig.validators', undefined, 'Member must not be null');
    if (list.length > 10) {
      throw validation(
        'validationDataConfig.validators',
        `${list.length} validators`,
        'Member must have length less than or equal to 10',
      );
    }
    return list.map((v: unknown, i) => s3Config(v, `validationDataConfig.validators.${i + 1}.member`));
  }

  private async resolveModelKey(keyId: string): Promise<string> {
    let key: Awaited<ReturnType<KeyStore['describe']>>;
    try {
      key = await this.kms.describe(keyId);
    } catch (err) {
      if (err instanceof AwsError && err.code === 'NotFoundException') {
        throw new AwsError(
          'ValidationException',
          `The provided KMS key '${keyId}' was not found: ${err.message}`,
        );
      }
      throw err;
    }
    if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.keyUsage !== 'ENCRYPT_DECRYPT') {
      throw new AwsError(
        'ValidationException',
        `The KMS key ${key.keyArn} must be a symmetric encryption key (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT).`,
      );
    }
    if (key.keyManager !== 'CUSTOMER') {
      throw new AwsError('ValidationException', `The KMS key ${key.keyArn} must be a customer managed key.`);
    }
    return key.keyArn;
  }

  private findJob(identifier: string): JobRecord {
    for (const job of this.jobs.values()) {
      if (job.jobArn === identifier || job.jobName === identifier) return job;
    }
    throw new AwsError(
      'ResourceNotFoundException',
      `Model customization job ${identifier} was not found.`,
      404,
    );
  }

  private stopJob(job: JobRecord): void {
    // A stop already under way conflicts with this one (ConflictException, 400: "a conflict while
    // performing an operation"); a job that has ended cannot be stopped, which Bedrock's sibling
    // StopModelInvocationJob and SageMaker's StopTrainingJob answer with a ValidationException.
    if (job.status === 'Stopping') {
      throw new AwsError(
        'ConflictException',
        `The model customization job ${job.jobName} is already being stopped.`,
      );
    }
    if (job.status !== 'InProgress') {
      throw new AwsError(
        'ValidationException',
        `The model customization job ${job.jobName} is ${job.status} and cannot be stopped.`,
      );
    }
    const now = Date.now();
    this.clearTimer(job.id);
    job.status = 'Stopping';
    job.haltedPhase = PHASES.indexOf(job.phase);
    job.lastModifiedTime = now;
    job.stopAt = now + Math.max(1, Math.min(1000, Math.round(job.durationMs * 0.1)));
    this.schedule(job);
  }

  private async finishStop(job: JobRecord): Promise<void> {
    if (job.status !== 'Stopping') return;
    const now = Date.now();
    job.status = 'Stopped';
    job.endTime = now;
    job.lastModifiedTime = now;
    await this.emit(job);
  }

  private jobView(job: JobRecord) {
    const view: Record<string, unknown> = {
      jobArn: job.jobArn,
      jobName: job.jobName,
      outputModelName: job.customModelName,
      roleArn: job.roleArn,
      status: job.status,
      statusDetails: this.statusDetails(job),
      creationTime: iso(job.creationTime),
      lastModifiedTime: iso(job.lastModifiedTime),
      baseModelArn: job.baseModelArn,
      hyperParameters: { ...job.hyperParameters },
      trainingDataConfig: { ...job.trainingDataConfig },
      validationDataConfig: { validators: job.validators.map((v) => ({ ...v })) },
      outputDataConfig: { ...job.outputDataConfig },
      customizationType: job.customizationType,
    };
    if (job.clientRequestToken !== undefined) view['clientRequestToken'] = job.clientRequestToken;
    if (job.outputModelArn !== undefined) view['outputModelArn'] = job.outputModelArn;
    if (job.outputModelKmsKeyArn !== undefined) view['outputModelKmsKeyArn'] = job.outputModelKmsKeyArn;
    if (job.failureMessage !== undefined) view['failureMessage'] = job.failureMessage;
    if (job.endTime !== undefined) view['endTime'] = iso(job.endTime);
    if (job.trainingLoss !== undefined) view['trainingMetrics'] = { trainingLoss: job.trainingLoss };
    if (job.validationLoss !== undefined)
      view['validationMetrics'] = [{ validationLoss: job.validationLoss }];
    if (job.vpcConfig !== undefined) view['vpcConfig'] = structuredClone(job.vpcConfig);
    if (job.customizationConfig !== undefined)
      view['customizationConfig'] = structuredClone(job.customizationConfig);
    return view;
  }

  private statusDetails(job: JobRecord) {
    const current = job.phase === 'done' ? PHASES.length : PHASES.indexOf(job.phase);
    const halted = job.haltedPhase ?? current;
    const detail = (i: number) => {
      let status: string;
      if (job.status === 'Completed') status = 'Completed';
      else if (job.status === 'InProgress')
        status = i < current ? 'Completed' : i === current ? 'InProgress' : 'NotStarted';
      else status = i < halted ? 'Completed' : i === halted ? job.status : 'NotStarted';
      const times = job.phaseTimes[i] ?? {};
      const out: Record<string, string> = { status };
      if (times.start !== undefined) out['creationTime'] = iso(times.start);
      const last = times.end ?? (status === 'NotStarted' ? undefined : job.lastModifiedTime);
      if (last !== undefined) out['lastModifiedTime'] = iso(last);
      return out;
    };
    return { validationDetails: detail(0), dataProcessingDetails: detail(1), trainingDetails: detail(2) };
  }

  private listJobs(query: URLSearchParams) {
    const status = query.get('statusEquals');
    const nameContains = query.get('nameContains');
    const after = timeFilter(query, 'creationTimeAfter');
    const before = timeFilter(query, 'creationTimeBefore');
    const descending = (query.get('sortOrder') ?? 'Descending') !== 'Ascending';
    const items = [...this.jobs.values()]
      .filter((j) => status === null || j.status === status)
      .filter((j) => nameContains === null || j.jobName.includes(nameContains))
      .filter((j) => after === undefined || j.creationTime > after)
      .filter((j) => before === undefined || j.creationTime < before)
      .sort((x, y) => (descending ? y.creationTime - x.creationTime : x.creationTime - y.creationTime))
      .map((j) => {
        const s: Record<string, unknown> = {
          jobArn: j.jobArn,
          baseModelArn: j.baseModelArn,
          jobName: j.jobName,
          status: j.status,
          statusDetails: this.statusDetails(j),
          lastModifiedTime: iso(j.lastModifiedTime),
          creationTime: iso(j.creationTime),
          customModelName: j.customModelName,
          customizationType: j.customizationType,
        };
        if (j.endTime !== undefined) s['endTime'] = iso(j.endTime);
        if (j.outputModelArn !== undefined) s['customModelArn'] = j.outputModelArn;
        return s;
      });
    const { page, nextToken } = paginate(items, query);
    return nextToken
      ? { modelCustomizationJobSummaries: page, nextToken }
      : { modelCustomizationJobSummaries: page };
  }

  // ---- the simulated timeline ----

  private schedule(job: JobRecord): void {
    this.clearTimer(job.id);
    if (this.closed) return;
    let at: number;
    let run: () => Promise<void>;
    if (job.status === 'Stopping') {
      at = job.stopAt ?? Date.now();
      run = () => this.finishStop(job);
    } else if (job.status === 'InProgress' && job.phase !== 'done') {
      at = job.creationTime + PHASE_END[job.phase] * job.durationMs;
      run = async () => {
        await this.runPhase(job);
        this.schedule(job);
      };
    } else {
      return;
    }
    const timer = setTimeout(
      () => {
        this.timers.delete(job.id);
        void this.enqueue(job, run);
      },
      Math.max(0, at - Date.now()),
    );
    // The endpoint's server keeps the process alive; a pending job alone must not.
    timer.unref();
    this.timers.set(job.id, timer);
  }

  private clearTimer(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  private enqueue(job: JobRecord, work: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(job.id) ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => {
      // A bug in the simulation must not leave the job hanging in InProgress forever.
      if (job.status === 'InProgress')
        return this.fail(job, `Internal error in the embedded Bedrock: ${errorText(err)}`);
    });
    this.chains.set(job.id, next);
    return next;
  }

  /** Ends the job's current phase: each phase does the work AWS would do before moving on. */
  private async runPhase(job: JobRecord): Promise<void> {
    if (this.closed || job.status !== 'InProgress') return;
    if (job.phase === 'validation') await this.endValidation(job);
    else if (job.phase === 'dataProcessing') this.advance(job, 'training');
    else if (job.phase === 'training') await this.endTraining(job);
  }

  private advance(job: JobRecord, next: Phase): void {
    const now = Date.now();
    const index = PHASES.indexOf(job.phase);
    const times = job.phaseTimes[index];
    if (times) times.end = now;
    job.phase = next;
    const nextIndex = PHASES.indexOf(next);
    const nextTimes = job.phaseTimes[nextIndex];
    if (nextTimes) nextTimes.start = now;
    job.lastModifiedTime = now;
  }

  private async endValidation(job: JobRecord): Promise<void> {
    let training: Buffer;
    try {
      training = await this.readAs(job, job.trainingDataConfig.s3Uri);
    } catch (err) {
      return this.fail(
        job,
        `Unable to read the training data at ${job.trainingDataConfig.s3Uri}: ${errorText(err)}`,
      );
    }
    const validationData: Buffer[] = [];
    for (const v of job.validators) {
      try {
        validationData.push(await this.readAs(job, v.s3Uri));
      } catch (err) {
        return this.fail(job, `Unable to read the validation data at ${v.s3Uri}: ${errorText(err)}`);
      }
    }
    if (job.status !== 'InProgress') return;
    const records = training
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    if (records === 0)
      return this.fail(job, `The training data at ${job.trainingDataConfig.s3Uri} contains no records.`);
    const keyProblem = await this.keyProblem(job);
    if (keyProblem) return this.fail(job, keyProblem);
    if (job.status !== 'InProgress') return;
    job.dataSeed = seedOf(training);
    job.recordCount = records;
    if (job.customizationType === 'REINFORCEMENT_FINE_TUNING') job.rftSamples = rftSamples(training);
    if (validationData.length > 0) job.validationSeed = seedOf(Buffer.concat(validationData));
    this.advance(job, 'dataProcessing');
  }

  private async endTraining(job: JobRecord): Promise<void> {
    if (job.forcedOutcome?.status === 'Failed') return this.fail(job, job.forcedOutcome.failureMessage);
    if (job.customizationType === 'REINFORCEMENT_FINE_TUNING') {
      const problem = await this.grade(job);
      if (problem) return this.fail(job, problem);
      if (job.status !== 'InProgress') return;
    }
    const modelId = newId();
    const modelArn = `arn:aws:bedrock:${this.region}:${this.accountId}:custom-model/${job.baseModelId}/${modelId}`;
    // Bedrock encrypts the model artifacts with the caller's key at the end: a key disabled or
    // scheduled for deletion mid-job fails the job here.
    if (job.outputModelKmsKeyArn !== undefined) {
      const keyArn = job.outputModelKmsKeyArn;
      const encrypt = () => this.kms.generateDataKey(keyArn, { 'aws:bedrock:arn': modelArn }, 'bedrock');
      try {
        await (this.iam ? asCaller(bedrockItself(this.iam), encrypt) : encrypt());
      } catch (err) {
        return this.fail(job, this.keyFailure(job.outputModelKmsKeyArn, err));
      }
    }
    if (job.status !== 'InProgress') return;

    const metrics = this.simulateMetrics(job);
    const { bucket, key: prefix } = parseS3Uri(job.outputDataConfig.s3Uri);
    const base = joinKey(prefix, `model-customization-job-${job.id}/`);
    try {
      await this.asJobRole(job, async () => {
        await this.s3.putObject(
          bucket,
          `${base}training_artifacts/step_wise_training_metrics.csv`,
          Buffer.from(metrics.trainingCsv),
          { contentType: 'text/csv' },
        );
        if (metrics.validationCsv !== undefined) {
          await this.s3.putObject(
            bucket,
            `${base}validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`,
            Buffer.from(metrics.validationCsv),
            { contentType: 'text/csv' },
          );
        }
      });
    } catch (err) {
      return this.fail(
        job,
        `Unable to write the job output to ${job.outputDataConfig.s3Uri}: ${errorText(err)}`,
      );
    }
    if (job.status !== 'InProgress') return;

    const now = Date.now();
    const model: ModelRecord = {
      modelArn,
      modelName: job.customModelName,
      jobArn: job.jobArn,
      jobName: job.jobName,
      baseModelId: job.baseModelId,
      baseModelArn: job.baseModelArn,
      customizationType: job.customizationType,
      modelKmsKeyArn: modelKeyOf(job),
      hyperParameters: { ...job.hyperParameters },
      trainingDataConfig: { ...job.trainingDataConfig },
      validators: job.validators.map((v) => ({ ...v })),
      outputDataConfig: { ...job.outputDataConfig },
      trainingLoss: metrics.trainingLoss,
      validationLoss: metrics.validationLoss,
      creationTime: now,
    };
    this.models.set(modelArn, model);
    if (job.customModelTags.length > 0)
      this.tags.set(
        modelArn,
        job.customModelTags.map((t) => ({ ...t })),
      );
    this.advance(job, 'done');
    job.status = 'Completed';
    job.outputModelArn = modelArn;
    job.trainingLoss = metrics.trainingLoss;
    job.validationLoss = metrics.validationLoss;
    job.endTime = now;
    job.lastModifiedTime = now;
    await this.emit(job);
  }

  private async read(uri: string): Promise<Buffer> {
    const { bucket, key } = parseS3Uri(uri);
    if (key === '' || key.endsWith('/')) throw new Error('the URI names a prefix, not an object');
    return this.s3.getObject(bucket, key);
  }

  private readAs(job: JobRecord, uri: string): Promise<Buffer> {
    return this.asJobRole(job, () => this.read(uri));
  }

  /** Undefined when the job's model key is usable; otherwise the failure message. */
  private async keyProblem(job: JobRecord): Promise<string | undefined> {
    const arn = job.outputModelKmsKeyArn;
    if (arn === undefined) return undefined;
    try {
      const key = await this.kms.describe(arn);
      if (key.keyState === 'Enabled') return undefined;
      const why = key.keyState === 'Disabled' ? 'DisabledException' : 'KMSInvalidStateException';
      return this.keyFailure(
        arn,
        new AwsError(why, `${arn} is ${key.keyState === 'Disabled' ? 'disabled' : 'pending deletion'}.`),
      );
    } catch (err) {
      return this.keyFailure(arn, err);
    }
  }

  private keyFailure(arn: string, err: unknown): string {
    return `Amazon Bedrock could not use the KMS key ${arn} to encrypt the custom model (${errorText(err)}). Check that the key is enabled, not pending deletion, and that its key policy allows the job's role.`;
  }

  private async fail(job: JobRecord, message: string): Promise<void> {
    if (job.status !== 'InProgress') return;
    const now = Date.now();
    job.status = 'Failed';
    job.haltedPhase = job.phase === 'done' ? PHASES.length - 1 : PHASES.indexOf(job.phase);
    job.failureMessage = message;
    job.endTime = now;
    job.lastModifiedTime = now;
    const times = job.phaseTimes[job.haltedPhase];
    if (times) times.end = now;
    this.clearTimer(job.id);
    await this.emit(job);
  }

  private simulateMetrics(job: JobRecord) {
    const epochs = Number(job.hyperParameters['epochCount'] ?? '2');
    const batch = Number(job.hyperParameters['batchSize'] ?? '1');
    const stepsPerEpoch = Math.min(50, Math.max(1, Math.ceil((job.recordCount ?? 1) / batch)));
    const total = epochs * stepsPerEpoch;
    const rand = seededRandom(job.dataSeed ?? 1);
    const start = 1.8 + rand();
    const floor = start * (0.2 + rand() * 0.15);
    const lossAt = (step: number) => floor + (start - floor) * Math.exp((-4 * step) / Math.max(1, total - 1));

    const trainingRows = ['step_number,epoch_number,training_loss,perplexity'];
    let trainingLoss = start;
    for (let step = 0; step < total; step++) {
      // Noise shrinks as training converges, so the curve stays plausibly downward.
      const noise = (rand() - 0.5) * 0.06 * lossAt(step) * (1 - step / total);
      trainingLoss = round(Math.max(0.01, lossAt(step) + noise));
      trainingRows.push(
        `${step},${Math.floor(step / stepsPerEpoch)},${trainingLoss},${round(Math.exp(trainingLoss))}`,
      );
    }

    let validationCsv: string | undefined;
    let validationLoss: number | undefined;
    if (job.validationSeed !== undefined) {
      const vrand = seededRandom(job.validationSeed ^ (job.dataSeed ?? 0));
      const rows = ['step_number,epoch_number,validation_loss,validation_perplexity'];
      for (let epoch = 0; epoch < epochs; epoch++) {
        const step = (epoch + 1) * stepsPerEpoch - 1;
        validationLoss = round(lossAt(step) * (1.04 + vrand() * 0.1));
        rows.push(`${step},${epoch},${validationLoss},${round(Math.exp(validationLoss))}`);
      }
      validationCsv = `${rows.join('\n')}\n`;
    }
    return { trainingCsv: `${trainingRows.join('\n')}\n`, trainingLoss, validationCsv, validationLoss };
  }

  /** Best effort, like Bedrock's own EventBridge delivery: a failing bus never fails the job. */
  private async emit(job: JobRecord): Promise<void> {
    if (this.closed) return;
    const detail: Record<string, unknown> = {
      version: '0.0',
      jobName: job.jobName,
      jobArn: job.jobArn,
      outputModelName: job.customModelName,
      roleArn: job.roleArn,
      jobStatus: job.status,
      creationTime: eventTime(job.creationTime),
      lastModifiedTime: eventTime(job.lastModifiedTime),
      baseModelArn: job.baseModelArn,
      hyperParameters: { ...job.hyperParameters },
      trainingDataConfig: { s3Uri: job.trainingDataConfig.s3Uri },
      outputDataConfig: { s3Uri: job.outputDataConfig.s3Uri },
    };
    if (job.outputModelArn !== undefined) detail['outputModelArn'] = job.outputModelArn;
    if (job.status === 'Failed' && job.failureMessage !== undefined)
      detail['failureMessage'] = job.failureMessage;
    if (job.endTime !== undefined) detail['endTime'] = eventTime(job.endTime);
    const firstValidator = job.validators[0];
    if (firstValidator) detail['validationDataConfig'] = { s3Uri: firstValidator.s3Uri };
    try {
      await this.putEvents([
        {
          Source: 'aws.bedrock',
          DetailType: 'Model Customization Job State Change',
          Detail: JSON.stringify(detail),
          Resources: [job.jobArn],
          Time: new Date(job.lastModifiedTime),
        },
      ]);
    } catch {
      // Dropped on purpose: the workflow's poll must cover lost events.
    }
  }

  // ---- custom models ----

  private findModel(identifier: string): ModelRecord {
    const model =
      this.models.get(identifier) ?? [...this.models.values()].find((m) => m.modelName === identifier);
    if (!model)
      throw new AwsError('ResourceNotFoundException', `Custom model ${identifier} was not found.`, 404);
    return model;
  }

  private modelView(m: ModelRecord) {
    const view: Record<string, unknown> = {
      modelArn: m.modelArn,
      modelName: m.modelName,
      jobName: m.jobName,
      jobArn: m.jobArn,
      baseModelArn: m.baseModelArn,
      customizationType: m.customizationType,
      hyperParameters: { ...m.hyperParameters },
      trainingDataConfig: { ...m.trainingDataConfig },
      validationDataConfig: { validators: m.validators.map((v) => ({ ...v })) },
      outputDataConfig: { ...m.outputDataConfig },
      trainingMetrics: { trainingLoss: m.trainingLoss },
      creationTime: iso(m.creationTime),
      modelStatus: 'Active',
    };
    if (m.modelKmsKeyArn !== undefined) view['modelKmsKeyArn'] = m.modelKmsKeyArn;
    if (m.validationLoss !== undefined) view['validationMetrics'] = [{ validationLoss: m.validationLoss }];
    return view;
  }

  private listModels(query: URLSearchParams) {
    const nameContains = query.get('nameContains');
    const baseArn = query.get('baseModelArnEquals');
    const foundationArn = query.get('foundationModelArnEquals');
    const status = query.get('modelStatus');
    const after = timeFilter(query, 'creationTimeAfter');
    const before = timeFilter(query, 'creationTimeBefore');
    const sortBy = query.get('sortBy');
    if (sortBy !== null && sortBy !== 'CreationTime') {
      throw validation('sortBy', sortBy, 'Member must satisfy enum value set: [CreationTime]');
    }
    const descending = (query.get('sortOrder') ?? 'Descending') !== 'Ascending';
    const items = [...this.models.values()]
      .filter((m) => nameContains === null || m.modelName.includes(nameContains))
      .filter((m) => baseArn === null || m.baseModelArn === baseArn)
      .filter((m) => foundationArn === null || m.baseModelArn === foundationArn)
      .filter(() => status === null || status === 'Active')
      .filter((m) => after === undefined || m.creationTime > after)
      .filter((m) => before === undefined || m.creationTime < before)
      .sort((x, y) => (descending ? y.creationTime - x.creationTime : x.creationTime - y.creationTime))
      .map((m) => ({
        modelArn: m.modelArn,
        modelName: m.modelName,
        creationTime: iso(m.creationTime),
        baseModelArn: m.baseModelArn,
        baseModelName: this.foundationName(m.baseModelId),
        customizationType: m.customizationType,
        ownerAccountId: this.accountId,
        modelStatus: 'Active',
      }));
    const { page, nextToken } = paginate(items, query);
    return nextToken ? { modelSummaries: page, nextToken } : { modelSummaries: page };
  }

  // ---- foundation models ----

  private foundationArn(modelId: string): string {
    return `arn:aws:bedrock:${this.region}::foundation-model/${modelId}`;
  }

  private foundationName(modelId: string): string {
    return findFoundationModel(this.region, modelId)?.modelName ?? modelId;
  }

  private foundationView(f: FoundationModel) {
    return {
      modelArn: this.foundationArn(f.modelId),
      modelId: f.modelId,
      modelName: f.modelName,
      providerName: f.providerName,
      inputModalities: [...f.inputModalities],
      outputModalities: [...f.outputModalities],
      responseStreamingSupported: f.outputModalities.includes('TEXT'),
      customizationsSupported: [...f.customizations],
      inferenceTypesSupported: [...f.inferenceTypes],
      modelLifecycle: { status: 'ACTIVE' },
    };
  }

  private getFoundationModel(identifier: string) {
    const model = findFoundationModel(this.region, identifier);
    if (!model) {
      throw new AwsError('ValidationException', `The provided model identifier '${identifier}' is invalid.`);
    }
    return { modelDetails: this.foundationView(model) };
  }

  private listFoundationModels(query: URLSearchParams) {
    const provider = query.get('byProvider')?.toLowerCase();
    const customization = query.get('byCustomizationType');
    const output = query.get('byOutputModality');
    const inference = query.get('byInferenceType');
    // botocore ModelCustomization: REINFORCEMENT_FINE_TUNING is not a value of this filter.
    if (customization !== null && !(LISTED_CUSTOMIZATIONS as readonly string[]).includes(customization)) {
      throw validation(
        'byCustomizationType',
        customization,
        `Member must satisfy enum value set: [${LISTED_CUSTOMIZATIONS.join(', ')}]`,
      );
    }
    return foundationModels(this.region)
      .filter((f) => provider === undefined || f.providerName.toLowerCase() === provider)
      .filter((f) => customization === null || f.customizations.includes(customization))
      .filter((f) => output === null || f.outputModalities.includes(output))
      .filter((f) => inference === null || f.inferenceTypes.includes(inference))
      .map((f) => this.foundationView(f));
  }

  // ---- tags ----

  private taggable(arn: string): string {
    const exists =
      this.models.has(arn) ||
      this.deployments.has(arn) ||
      [...this.jobs.values()].some((j) => j.jobArn === arn);
    if (!exists) throw new AwsError('ResourceNotFoundException', `Resource ${arn} was not found.`, 404);
    return arn;
  }

  private tagResource(b: Body): void {
    const arn = this.taggable(requireString(b, 'resourceARN'));
    if (b['tags'] === undefined) throw validation('tags', undefined, 'Member must not be null');
    const incoming = parseTags(b['tags'], 'tags');
    const current = (this.tags.get(arn) ?? []).map((t) => ({ ...t }));
    for (const tag of incoming) {
      const existing = current.find((t) => t.key === tag.key);
      if (existing) existing.value = tag.value;
      else current.push(tag);
    }
    if (current.length > MAX_TAGS) {
      throw new AwsError('TooManyTagsException', `A resource can have at most ${MAX_TAGS} tags.`, 400, {
        resourceName: arn,
      });
    }
    this.tags.set(arn, current);
  }

  private untagResource(b: Body): void {
    const arn = this.taggable(requireString(b, 'resourceARN'));
    const keys = b['tagKeys'];
    if (!Array.isArray(keys)) throw validation('tagKeys', undefined, 'Member must not be null');
    const drop = new Set(keys.map(String));
    this.tags.set(
      arn,
      (this.tags.get(arn) ?? []).filter((t) => !drop.has(t.key)),
    );
  }
}
