/**
 * Undo what a failed run left behind, according to why it failed. Everything is idempotent and
 * tolerant of things already gone; anything else (AccessDenied, a throttle that outlived the
 * retries) fails the step with what was already done, for RemediationFailed to record.
 * The training object is never deleted — it is tagged so its owner sees what happened.
 */
import type { DeploymentInfo, JobInfo, ModelInfo } from '../shared/aws/bedrock';
import { withContext } from '../shared/aws/errors';
import { jobNameFor, s3Uri, tagSafe } from '../shared/naming';
import type { SourceObject } from '../shared/types';
import type { S3Gateway } from '../shared/aws/s3';

export interface RemediatePorts extends Pick<S3Gateway, 'mergeObjectTagsIfPresent'> {
  getJob(jobIdentifier: string): Promise<JobInfo | undefined>;
  stopJob(jobIdentifier: string): Promise<boolean>;
  getCustomModel(modelIdentifier: string): Promise<ModelInfo | undefined>;
  deleteCustomModel(modelIdentifier: string): Promise<boolean>;
  listDeployments(modelArn: string): Promise<DeploymentInfo[]>;
  deleteDeployment(arn: string): Promise<boolean>;
  listProvisioned(modelArn: string): Promise<DeploymentInfo[]>;
  deleteProvisioned(arn: string): Promise<boolean>;
  /** Gives the run's admission slot to the next waiting run (a no-op when it held none). */
  releaseJobSlot(jobName: string): Promise<unknown>;
}

export interface RemediateInput {
  source: SourceObject;
  error: { Error: string; Cause?: string | undefined };
  job?: { jobArn: string; customModelName?: string } | undefined;
  jobResult?: { outputModelArn?: string | undefined } | undefined;
}

export interface RemediationAction {
  action:
    | 'stopped-job'
    | 'deleted-deployment'
    | 'deleted-provisioned-throughput'
    | 'deleted-model'
    | 'quarantined-data'
    | 'tagged-data';
  target: string;
}

export interface RemediationResult {
  outcome: 'remediated' | 'failed';
  actions: RemediationAction[];
  notes: string[];
}

/** Causes for which a produced model must not survive. */
const MODEL_MUST_GO = new Set(['ModelNotCompliantError', 'SensitiveDataError']);
const QUARANTINE = new Set(['SensitiveDataError']);

export async function remediate(input: RemediateInput, ports: RemediatePorts): Promise<RemediationResult> {
  const actions: RemediationAction[] = [];
  const notes: string[] = [];
  const cause = input.error.Error;
  const { source } = input;

  // The submit may have reached Bedrock even if its answer was lost: look the job up by name too.
  const job = await ports.getJob(input.job?.jobArn ?? jobNameFor(source));
  if (job && (job.status === 'InProgress' || job.status === 'Stopping')) {
    // The slot stays taken until the job is Stopped: Bedrock counts it until then, and its end
    // (event, or the sweep) releases the slot.
    if (await ports.stopJob(job.jobArn)) actions.push({ action: 'stopped-job', target: job.jobArn });
  } else {
    try {
      await ports.releaseJobSlot(jobNameFor(source));
    } catch (err) {
      notes.push(`job slot not released now (${(err as Error).name}); the admission sweep reclaims it`);
    }
  }

  const modelId = input.jobResult?.outputModelArn ?? job?.outputModelArn;
  const modelMustGo = modelId !== undefined && MODEL_MUST_GO.has(cause);
  // Deployments first: they serve (and bill for) the model, and must not outlive it. A failed
  // deployment keeps the model but takes down whatever part of the deployment was made.
  if (modelId && (modelMustGo || cause === 'DeploymentError')) {
    actions.push(...(await deleteDeployments(modelId, ports)));
  }
  if (modelId && modelMustGo) {
    const model = await ports.getCustomModel(modelId);
    if (model && (await ports.deleteCustomModel(model.modelArn)))
      actions.push({ action: 'deleted-model', target: model.modelArn });
  } else if (modelId) {
    notes.push(`model ${modelId} kept: ${cause} does not make it unsafe`);
  }

  const status = QUARANTINE.has(cause) ? 'quarantined' : actions.length > 0 ? 'remediated' : 'failed';
  const target = s3Uri(source.bucket, source.key);
  let tagged: boolean;
  try {
    tagged = await ports.mergeObjectTagsIfPresent(
      source.bucket,
      source.key,
      { 'tunevault:status': status, 'tunevault:reason': tagSafe(cause) },
      source.versionId,
    );
  } catch (err) {
    const done = actions.map((a) => `${a.action} ${a.target}`).join(', ');
    throw withContext(
      err,
      `remediating ${cause}: could not tag ${target}${source.versionId ? ` (version ${source.versionId})` : ''} tunevault:status=${status}${done ? ` after ${done}` : ''}`,
    );
  }
  if (tagged) actions.push({ action: status === 'quarantined' ? 'quarantined-data' : 'tagged-data', target });
  // Deleted before the run read it (InvalidInputError): there is nothing left to tag.
  else notes.push(`the training object ${target} no longer exists; there was nothing to tag`);

  const changed = actions.some((a) => a.action !== 'tagged-data');
  return { outcome: changed ? 'remediated' : 'failed', actions, notes };
}

/** Deletes the on-demand deployments and Provisioned Throughputs of a model (all of them, already-gone ones skipped). */
export async function deleteDeployments(
  modelArn: string,
  ports: Pick<
    RemediatePorts,
    'listDeployments' | 'deleteDeployment' | 'listProvisioned' | 'deleteProvisioned'
  >,
): Promise<RemediationAction[]> {
  const actions: RemediationAction[] = [];
  for (const d of await ports.listDeployments(modelArn)) {
    if (await ports.deleteDeployment(d.arn)) actions.push({ action: 'deleted-deployment', target: d.arn });
  }
  for (const p of await ports.listProvisioned(modelArn)) {
    if (await ports.deleteProvisioned(p.arn))
      actions.push({ action: 'deleted-provisioned-throughput', target: p.arn });
  }
  return actions;
}
