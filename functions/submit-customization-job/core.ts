/**
 * CreateModelCustomizationJob, named and tokened from the object version: a retried or
 * duplicated submit gets the same job back instead of a second one.
 */
import type { JobRequest } from '../shared/aws/bedrock';
import { isAwsError } from '../shared/aws/errors';
import { type JobDefaults, JobSpecError, resolveJobSpec } from '../shared/catalog/job-spec';
import { JobSubmissionError } from '../shared/errors';
import { clientRequestTokenFor, customModelNameFor, jobNameFor, s3Uri } from '../shared/naming';
import { provenanceTags } from '../shared/provenance';
import type { DatasetOptions, JobRef, KeyResult, ScanSummary, SourceObject } from '../shared/types';

export interface SubmitPorts {
  createJob(request: JobRequest): Promise<string>;
}

export interface SubmitSettings {
  roleArn: string;
  /** The stage's job settings; the dataset's job is resolved against the catalog (catalog/job-spec.ts). */
  job: JobDefaults;
  outputBucket: string;
  outputPrefix: string;
}

export interface SubmitInput {
  source: SourceObject;
  dataset: DatasetOptions;
  key: Pick<KeyResult, 'keyArn'>;
  scan: Pick<ScanSummary, 'trainingS3Uri' | 'sha256' | 'verdict' | 'totalFindings' | 'validation'>;
  executionArn: string;
}

/** Errors retrying cannot fix; throttling and quota errors keep their names for the ASL's Retry. */
const PERMANENT = [
  'ValidationException',
  'AccessDeniedException',
  'ResourceNotFoundException',
  'TooManyTagsException',
  'ConflictException',
];

export function buildJobRequest(input: SubmitInput, s: SubmitSettings): JobRequest {
  const { source, dataset } = input;
  let spec: ReturnType<typeof resolveJobSpec>;
  try {
    spec = resolveJobSpec(dataset, s.job);
  } catch (err) {
    if (err instanceof JobSpecError)
      throw new JobSubmissionError(`The dataset's job is not valid: ${err.message}`);
    throw err;
  }
  const jobName = jobNameFor(source);
  const prefix = s.outputPrefix && !s.outputPrefix.endsWith('/') ? `${s.outputPrefix}/` : s.outputPrefix;
  return {
    jobName,
    customModelName: customModelNameFor(source),
    clientRequestToken: clientRequestTokenFor(source),
    roleArn: s.roleArn,
    // The catalog's identifier (e.g. amazon.nova-micro-v1:0:128k), whatever form the sidecar used.
    baseModelId: spec.baseModelId,
    customizationType: spec.customizationType,
    hyperParameters: spec.hyperParameters,
    ...(spec.customizationConfig ? { customizationConfig: spec.customizationConfig } : {}),
    ...(spec.vpcConfig ? { vpcConfig: spec.vpcConfig } : {}),
    trainingS3Uri: input.scan.trainingS3Uri,
    // Only data the guard judged reaches Bedrock: its copy of the sidecar's validation data.
    ...(input.scan.validation ? { validationS3Uri: input.scan.validation.s3Uri } : {}),
    outputS3Uri: s3Uri(s.outputBucket, `${prefix}${jobName}/`),
    customModelKmsKeyId: input.key.keyArn,
    tags: provenanceTags({
      source,
      keyArn: input.key.keyArn,
      executionArn: input.executionArn,
      scan: input.scan,
      extra: dataset.tags,
    }),
  };
}

export async function submitCustomizationJob(
  input: SubmitInput,
  s: SubmitSettings,
  ports: SubmitPorts,
): Promise<JobRef> {
  const request = buildJobRequest(input, s);
  try {
    const jobArn = await ports.createJob(request);
    return {
      jobArn,
      jobName: request.jobName,
      customModelName: request.customModelName,
      clientRequestToken: request.clientRequestToken,
      baseModelId: request.baseModelId,
      customizationType: request.customizationType,
    };
  } catch (err) {
    if (isAwsError(err, ...PERMANENT)) {
      throw new JobSubmissionError(
        `Bedrock refused job ${request.jobName}: ${(err as Error).name}: ${(err as Error).message}`,
      );
    }
    throw err;
  }
}
