/**
 * Model customization jobs: CreateModelCustomizationJob (idempotent on clientRequestToken, names
 * unique, the model key checked, IAM's PassRole and trust asked, the concurrent-job quota
 * counted), Get, List and Stop. The job then runs on the simulated timeline (simulation.ts).
 */
import { currentCaller } from '../../iam/authorizer';
import type { Body } from '../../core/input';
import { AwsError, type KeyStore } from '../../core/types';
import { authorizeJobCreation, type BedrockIam } from './access';
import { type BedrockResources, type JobRecord, PHASES } from './model';
import { byCreation, filter, iso, newId, paginate, timeFilter } from './rest';
import type { JobTimeline } from './simulation';
import { clientRequestToken, readJobInput } from './validation';

export interface JobsContext {
  resources: BedrockResources;
  timeline: JobTimeline;
  kms: KeyStore;
  iam: BedrockIam | undefined;
}

/** The ARN of a customer managed symmetric key, or ValidationException. */
async function resolveModelKey(kms: KeyStore, keyId: string): Promise<string> {
  let key: Awaited<ReturnType<KeyStore['describe']>>;
  try {
    key = await kms.describe(keyId);
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

export async function createJob(c: JobsContext, b: Body): Promise<{ jobArn: string }> {
  const { resources } = c;
  // A retried request (same token) answers with the job it created first, before any other check.
  const token = clientRequestToken(b);
  const answered = token === undefined ? undefined : resources.tokens.get(token);
  if (answered) return { jobArn: answered };

  const input = readJobInput(b, resources.region);
  const jobs = [...resources.jobs.values()];
  if (jobs.some((j) => j.jobName === input.jobName)) {
    throw new AwsError('ValidationException', 'The provided job name is currently in use.');
  }
  const modelTaken =
    [...resources.models.values()].some((m) => m.modelName === input.customModelName) ||
    resources.unfinishedJobs().some((j) => j.customModelName === input.customModelName);
  if (modelTaken) {
    throw new AwsError(
      'ValidationException',
      `The provided custom model name '${input.customModelName}' is already in use.`,
    );
  }

  const outputModelKmsKeyArn =
    input.customModelKmsKeyId === undefined
      ? undefined
      : await resolveModelKey(c.kms, input.customModelKmsKeyId);

  const id = newId();
  const jobArn = resources.arn(`model-customization-job/${input.baseModelId}/${id}`);
  const caller = currentCaller();
  if (c.iam && caller) {
    await authorizeJobCreation(c.iam, caller, c.kms, {
      roleArn: input.roleArn,
      jobArn,
      region: resources.region,
      accountId: resources.accountId,
      ...(outputModelKmsKeyArn !== undefined ? { modelKmsKeyId: outputModelKmsKeyArn } : {}),
    });
  }

  // Token may have been taken while we awaited KMS: re-check so concurrent retries stay idempotent.
  const raced = token === undefined ? undefined : resources.tokens.get(token);
  if (raced) return { jobArn: raced };

  if (resources.unfinishedJobs().length >= resources.jobsQuota) {
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
    jobName: input.jobName,
    clientRequestToken: token,
    roleArn: input.roleArn,
    baseModelId: input.baseModelId,
    baseModelArn: resources.foundationArn(input.baseModelId),
    customizationType: input.customizationType,
    customModelName: input.customModelName,
    outputModelKmsKeyArn,
    customModelTags: input.customModelTags,
    hyperParameters: input.hyperParameters,
    trainingDataConfig: input.trainingDataConfig,
    validators: input.validators,
    outputDataConfig: input.outputDataConfig,
    ...(input.vpcConfig ? { vpcConfig: input.vpcConfig } : {}),
    ...(input.customizationConfig ? { customizationConfig: input.customizationConfig } : {}),
    status: 'InProgress',
    phase: 'validation',
    phaseTimes: [{ start: now }, {}, {}],
    creationTime: now,
    lastModifiedTime: now,
    durationMs: resources.jobDurationMs,
    forcedOutcome: resources.pendingOutcomes.shift(),
  };
  resources.jobs.set(id, job);
  if (token !== undefined) resources.tokens.set(token, job.jobArn);
  if (input.jobTags.length > 0) resources.tags.set(job.jobArn, input.jobTags);
  await c.timeline.emit(job);
  c.timeline.schedule(job);
  return { jobArn: job.jobArn };
}

export function stopJob(c: JobsContext, job: JobRecord): void {
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
  c.timeline.stop(job);
}

function statusDetails(job: JobRecord) {
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

/** GetModelCustomizationJob's answer. */
export function jobView(job: JobRecord): Body {
  const view: Body = {
    jobArn: job.jobArn,
    jobName: job.jobName,
    outputModelName: job.customModelName,
    roleArn: job.roleArn,
    status: job.status,
    statusDetails: statusDetails(job),
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
  if (job.validationLoss !== undefined) view['validationMetrics'] = [{ validationLoss: job.validationLoss }];
  if (job.vpcConfig !== undefined) view['vpcConfig'] = structuredClone(job.vpcConfig);
  if (job.customizationConfig !== undefined)
    view['customizationConfig'] = structuredClone(job.customizationConfig);
  return view;
}

export function listJobs(resources: BedrockResources, input: Body) {
  const status = filter(input, 'statusEquals');
  const nameContains = filter(input, 'nameContains');
  const after = timeFilter(input, 'creationTimeAfter');
  const before = timeFilter(input, 'creationTimeBefore');
  const items = [...resources.jobs.values()]
    .filter((j) => status === null || j.status === status)
    .filter((j) => nameContains === null || j.jobName.includes(nameContains))
    .filter((j) => after === undefined || j.creationTime > after)
    .filter((j) => before === undefined || j.creationTime < before)
    .sort(byCreation(input, (j: JobRecord) => j.creationTime))
    .map((j) => {
      const s: Body = {
        jobArn: j.jobArn,
        baseModelArn: j.baseModelArn,
        jobName: j.jobName,
        status: j.status,
        statusDetails: statusDetails(j),
        lastModifiedTime: iso(j.lastModifiedTime),
        creationTime: iso(j.creationTime),
        customModelName: j.customModelName,
        customizationType: j.customizationType,
      };
      if (j.endTime !== undefined) s['endTime'] = iso(j.endTime);
      if (j.outputModelArn !== undefined) s['customModelArn'] = j.outputModelArn;
      return s;
    });
  const { page, nextToken } = paginate(items, input);
  return nextToken
    ? { modelCustomizationJobSummaries: page, nextToken }
    : { modelCustomizationJobSummaries: page };
}
