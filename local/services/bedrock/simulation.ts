/**
 * The simulated timeline of a customization job: validation (reads the training and validation
 * objects as the job's service role), data processing, training. At the end the model artifacts
 * are "encrypted" with the caller's KMS key through the KeyStore (so a disabled or deleted key
 * fails the job as it would on AWS), an RFT job's grader is invoked, the metrics CSVs land in the
 * output location through the ObjectStore, and the custom model appears. Each change of status
 * goes to EventBridge as Bedrock's "Model Customization Job State Change".
 *
 * Each job's phases run on one promise chain, so a timer and completeNow never run them at once;
 * phase deadlines are wall-clock from the job's creation, so a restored job that is overdue runs now.
 */
import { asCaller } from '../../iam/authorizer';
import { AwsError, type KeyStore, type ObjectStore, type PutEvents } from '../../core/types';
import { type BedrockIam, bedrockItself, jobSession } from './access';
import { grade, type InvokeGrader, rftSamples } from './grading';
import { seedOf, simulateMetrics } from './metrics';
import { type BedrockResources, type JobRecord, type ModelRecord, PHASES, type Phase } from './model';
import { errorText, newId } from './rest';
import { parseS3Uri } from './validation';

/** Where each phase ends, as a fraction of the job duration. */
const PHASE_END: Record<Exclude<Phase, 'done'>, number> = {
  validation: 0.2,
  dataProcessing: 0.4,
  training: 1,
};

export interface TimelineDeps {
  resources: BedrockResources;
  s3: ObjectStore;
  kms: KeyStore;
  putEvents: PutEvents;
  /** Without it, an RFT job fails as Bedrock would when it cannot reach the reward function. */
  invokeLambda?: InvokeGrader | undefined;
  /** With it, the job reads and writes as its service role and encrypts as Bedrock itself. */
  iam?: BedrockIam | undefined;
}

/** EventBridge shows whole seconds, as in the documented sample. */
function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function joinKey(prefix: string, key: string): string {
  if (prefix === '') return key;
  return prefix.endsWith('/') ? prefix + key : `${prefix}/${key}`;
}

/** The key the finished model reports: the job's, unless a forced outcome says otherwise. */
function modelKeyOf(job: JobRecord): string | undefined {
  const forced = job.forcedOutcome;
  if (forced?.status !== 'Completed' || forced.modelKmsKeyArn === undefined) return job.outputModelKmsKeyArn;
  return forced.modelKmsKeyArn ?? undefined;
}

function keyFailure(arn: string, err: unknown): string {
  return `Amazon Bedrock could not use the KMS key ${arn} to encrypt the custom model (${errorText(err)}). Check that the key is enabled, not pending deletion, and that its key policy allows the job's role.`;
}

export class JobTimeline {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly deps: TimelineDeps) {}

  /** Arms the timer of the job's next step (the end of its phase, or the end of a stop). */
  schedule(job: JobRecord): void {
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

  /** Runs the rest of a job's timeline at once; resolves when it is terminal. */
  async completeNow(job: JobRecord): Promise<void> {
    this.clearTimer(job.id);
    await this.enqueue(job, async () => {
      while (!this.closed && job.status === 'InProgress') await this.runPhase(job);
      if (!this.closed && job.status === 'Stopping') await this.finishStop(job);
    });
    // A timer callback that was already queued may have re-armed a (now pointless) timer.
    this.clearTimer(job.id);
  }

  /** Moves an InProgress job to Stopping; it is Stopped shortly after (a tenth of its duration, at most 1 s). */
  stop(job: JobRecord): void {
    const now = Date.now();
    this.clearTimer(job.id);
    job.status = 'Stopping';
    job.haltedPhase = PHASES.indexOf(job.phase);
    job.lastModifiedTime = now;
    job.stopAt = now + Math.max(1, Math.min(1000, Math.round(job.durationMs * 0.1)));
    this.schedule(job);
  }

  /** Forgets every timer and chain (before a restore). */
  reset(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.chains.clear();
  }

  /** Stops every timer; in-flight work stops emitting and scheduling. */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
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

  /** Runs FN as the job's service role (reads of training data, writes of output). */
  private asJobRole<T>(job: JobRecord, fn: () => Promise<T>): Promise<T> {
    const { iam } = this.deps;
    const caller = iam ? jobSession(iam, job.roleArn, job.id) : undefined;
    return caller ? asCaller(caller, fn) : fn();
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
    const times = job.phaseTimes[PHASES.indexOf(job.phase)];
    if (times) times.end = now;
    job.phase = next;
    const nextTimes = job.phaseTimes[PHASES.indexOf(next)];
    if (nextTimes) nextTimes.start = now;
    job.lastModifiedTime = now;
  }

  private read(job: JobRecord, uri: string): Promise<Buffer> {
    return this.asJobRole(job, async () => {
      const { bucket, key } = parseS3Uri(uri);
      if (key === '' || key.endsWith('/')) throw new Error('the URI names a prefix, not an object');
      return this.deps.s3.getObject(bucket, key);
    });
  }

  private async endValidation(job: JobRecord): Promise<void> {
    let training: Buffer;
    try {
      training = await this.read(job, job.trainingDataConfig.s3Uri);
    } catch (err) {
      return this.fail(
        job,
        `Unable to read the training data at ${job.trainingDataConfig.s3Uri}: ${errorText(err)}`,
      );
    }
    const validationData: Buffer[] = [];
    for (const v of job.validators) {
      try {
        validationData.push(await this.read(job, v.s3Uri));
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

  /** Undefined when the job's model key is usable; otherwise the failure message. */
  private async keyProblem(job: JobRecord): Promise<string | undefined> {
    const arn = job.outputModelKmsKeyArn;
    if (arn === undefined) return undefined;
    try {
      const key = await this.deps.kms.describe(arn);
      if (key.keyState === 'Enabled') return undefined;
      const why = key.keyState === 'Disabled' ? 'DisabledException' : 'KMSInvalidStateException';
      return keyFailure(
        arn,
        new AwsError(why, `${arn} is ${key.keyState === 'Disabled' ? 'disabled' : 'pending deletion'}.`),
      );
    } catch (err) {
      return keyFailure(arn, err);
    }
  }

  private async endTraining(job: JobRecord): Promise<void> {
    const { resources, kms, iam } = this.deps;
    if (job.forcedOutcome?.status === 'Failed') return this.fail(job, job.forcedOutcome.failureMessage);
    if (job.customizationType === 'REINFORCEMENT_FINE_TUNING') {
      const problem = await grade(job, this.deps.invokeLambda, resources.region);
      if (problem) return this.fail(job, problem);
      if (job.status !== 'InProgress') return;
    }
    const modelArn = resources.arn(`custom-model/${job.baseModelId}/${newId()}`);
    // Bedrock encrypts the model artifacts with the caller's key at the end: a key disabled or
    // scheduled for deletion mid-job fails the job here.
    if (job.outputModelKmsKeyArn !== undefined) {
      const keyArn = job.outputModelKmsKeyArn;
      const encrypt = () => kms.generateDataKey(keyArn, { 'aws:bedrock:arn': modelArn }, 'bedrock');
      try {
        await (iam ? asCaller(bedrockItself(iam), encrypt) : encrypt());
      } catch (err) {
        return this.fail(job, keyFailure(keyArn, err));
      }
    }
    if (job.status !== 'InProgress') return;

    const metrics = simulateMetrics(job);
    const { bucket, key: prefix } = parseS3Uri(job.outputDataConfig.s3Uri);
    const base = joinKey(prefix, `model-customization-job-${job.id}/`);
    try {
      await this.asJobRole(job, async () => {
        await this.deps.s3.putObject(
          bucket,
          `${base}training_artifacts/step_wise_training_metrics.csv`,
          Buffer.from(metrics.trainingCsv),
          { contentType: 'text/csv' },
        );
        if (metrics.validationCsv !== undefined) {
          await this.deps.s3.putObject(
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
    resources.models.set(modelArn, model);
    if (job.customModelTags.length > 0)
      resources.tags.set(
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

  private async finishStop(job: JobRecord): Promise<void> {
    if (job.status !== 'Stopping') return;
    const now = Date.now();
    job.status = 'Stopped';
    job.endTime = now;
    job.lastModifiedTime = now;
    await this.emit(job);
  }

  /** Best effort, like Bedrock's own EventBridge delivery: a failing bus never fails the job. */
  async emit(job: JobRecord): Promise<void> {
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
      await this.deps.putEvents([
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
}
