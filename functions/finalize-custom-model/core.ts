/**
 * The model is accepted only if Bedrock encrypted it with our key; then it carries its
 * provenance as tags, and the training object says what it became. A dataset that opted in
 * (`deploy`) then gets a usable model: an on-demand deployment, or Provisioned Throughput tagged
 * with the time after which the scheduled cleanup (expire-deployments) deletes it.
 */
import type { DeploymentRequest, ModelInfo, ProvisionedRequest } from '../shared/aws/bedrock';
import { isAwsError } from '../shared/aws/errors';
import { type DeploySpec, type JobDefaults, JobSpecError, resolveJobSpec } from '../shared/catalog/job-spec';
import { DeploymentError, ModelNotCompliantError } from '../shared/errors';
import { clientRequestTokenFor, deploymentNameFor } from '../shared/naming';
import { EXPIRES_AT_TAG, provenanceTags, STACK_TAG } from '../shared/provenance';
import type {
  DatasetOptions,
  JobRef,
  JobResult,
  KeyResult,
  ScanSummary,
  SourceObject,
} from '../shared/types';
import type { S3Gateway } from '../shared/aws/s3';

export interface FinalizePorts extends Pick<S3Gateway, 'mergeObjectTags'> {
  getCustomModel(modelIdentifier: string): Promise<ModelInfo | undefined>;
  tagResource(arn: string, tags: Record<string, string>): Promise<void>;
  createDeployment(r: DeploymentRequest): Promise<string>;
  createProvisioned(r: ProvisionedRequest): Promise<string>;
}

export interface FinalizeSettings {
  job: JobDefaults;
  /** `<service>-<stage>`: the cleanup deletes only what its own stack provisioned. */
  stackName: string;
  now?: () => number;
}

export interface DeploymentResult {
  mode: DeploySpec['mode'];
  arn?: string;
  expiresAt?: string;
}

export interface FinalizeInput {
  source: SourceObject;
  dataset?: DatasetOptions | undefined;
  key: Pick<KeyResult, 'keyArn'>;
  scan: Pick<ScanSummary, 'sha256' | 'verdict' | 'totalFindings'>;
  job: Pick<JobRef, 'jobArn' | 'customModelName'>;
  jobResult: Pick<JobResult, 'outputModelArn'>;
  executionArn: string;
}

/** Key ARNs and bare ids name the same key; compare the id. */
const keyIdOf = (arnOrId: string) => arnOrId.slice(arnOrId.lastIndexOf('/') + 1);

/** The rule a custom model must meet: encrypted with TuneVault's key (by ARN or id), not an AWS owned one. */
export function isEncryptedWith(modelKmsKeyArn: string | undefined, keyArn: string): boolean {
  return modelKmsKeyArn !== undefined && keyIdOf(modelKmsKeyArn) === keyIdOf(keyArn);
}

export async function finalizeCustomModel(
  input: FinalizeInput,
  ports: FinalizePorts,
  settings?: FinalizeSettings,
) {
  const modelId = input.jobResult.outputModelArn ?? input.job.customModelName;
  const model = await ports.getCustomModel(modelId);
  if (!model)
    throw new ModelNotCompliantError(`Custom model ${modelId} from job ${input.job.jobArn} does not exist.`);
  if (!isEncryptedWith(model.modelKmsKeyArn, input.key.keyArn)) {
    throw new ModelNotCompliantError(
      `Custom model ${model.modelArn} is encrypted with ${model.modelKmsKeyArn ?? 'an AWS owned key'}, not TuneVault's key ${input.key.keyArn}.`,
    );
  }
  const tags = provenanceTags({
    source: input.source,
    keyArn: input.key.keyArn,
    executionArn: input.executionArn,
    scan: input.scan,
  });
  await ports.tagResource(model.modelArn, tags);
  await ports.mergeObjectTags(
    input.source.bucket,
    input.source.key,
    { 'tunevault:status': 'trained', 'tunevault:model': model.modelName },
    input.source.versionId,
  );
  const deployment = settings
    ? await deploy(input, model.modelArn, tags, ports, settings)
    : { mode: 'none' as const };
  return {
    modelArn: model.modelArn,
    modelName: model.modelName,
    modelKmsKeyArn: model.modelKmsKeyArn,
    tags,
    deployment,
  };
}

/** Errors that retrying the step cannot fix: the run ends in DeploymentError (Remediate keeps the model). */
const PERMANENT = [
  'ValidationException',
  'AccessDeniedException',
  'ResourceNotFoundException',
  'TooManyTagsException',
];

async function deploy(
  input: FinalizeInput,
  modelArn: string,
  provenance: Record<string, string>,
  ports: FinalizePorts,
  s: FinalizeSettings,
): Promise<DeploymentResult> {
  let spec: DeploySpec;
  try {
    spec = resolveJobSpec(input.dataset ?? {}, s.job).deploy;
  } catch (err) {
    if (err instanceof JobSpecError)
      throw new DeploymentError(`The dataset's job is not valid: ${err.message}`);
    throw err;
  }
  if (spec.mode === 'none') return { mode: 'none' };
  // Same name and token for the same object version: a retried step gets the same deployment back.
  const base = {
    name: deploymentNameFor(input.source),
    modelArn,
    clientRequestToken: `${clientRequestTokenFor(input.source)}-deploy`,
  };
  const tags = { ...provenance, [STACK_TAG]: s.stackName, 'tunevault:deploy': spec.mode };
  try {
    if (spec.mode === 'on-demand') {
      return { mode: 'on-demand', arn: await ports.createDeployment({ ...base, tags }) };
    }
    const hours = spec.expiresInHours;
    if (hours === undefined)
      throw new DeploymentError('deploy provisioned needs an expiry (provisioned.expiresInHours)');
    const expiresAt = new Date((s.now ?? Date.now)() + hours * 3_600_000).toISOString();
    const arn = await ports.createProvisioned({
      ...base,
      modelUnits: spec.modelUnits ?? 1,
      tags: { ...tags, [EXPIRES_AT_TAG]: expiresAt },
    });
    return { mode: 'provisioned', arn, expiresAt };
  } catch (err) {
    if (isAwsError(err, ...PERMANENT)) {
      throw new DeploymentError(
        `Bedrock refused the ${spec.mode} deployment of ${modelArn}: ${(err as Error).name}: ${(err as Error).message}`,
      );
    }
    throw err;
  }
}
