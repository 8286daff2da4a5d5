/**
 * The model is accepted only if Bedrock encrypted it with our key; then it carries its
 * provenance as tags, and the training object says what it became.
 */
import type { ModelInfo } from '../shared/aws/bedrock';
import { ModelNotCompliantError } from '../shared/errors';
import { provenanceTags } from '../shared/provenance';
import type { JobRef, JobResult, KeyResult, ScanSummary, SourceObject } from '../shared/types';
import type { S3Gateway } from '../shared/aws/s3';

export interface FinalizePorts extends Pick<S3Gateway, 'mergeObjectTags'> {
  getCustomModel(modelIdentifier: string): Promise<ModelInfo | undefined>;
  tagResource(arn: string, tags: Record<string, string>): Promise<void>;
}

export interface FinalizeInput {
  source: SourceObject;
  key: Pick<KeyResult, 'keyArn'>;
  scan: Pick<ScanSummary, 'sha256' | 'verdict' | 'totalFindings'>;
  job: Pick<JobRef, 'jobArn' | 'customModelName'>;
  jobResult: Pick<JobResult, 'outputModelArn'>;
  executionArn: string;
}

/** Key ARNs and bare ids name the same key; compare the id. */
const keyIdOf = (arnOrId: string) => arnOrId.slice(arnOrId.lastIndexOf('/') + 1);

export async function finalizeCustomModel(input: FinalizeInput, ports: FinalizePorts) {
  const modelId = input.jobResult.outputModelArn ?? input.job.customModelName;
  const model = await ports.getCustomModel(modelId);
  if (!model)
    throw new ModelNotCompliantError(`Custom model ${modelId} from job ${input.job.jobArn} does not exist.`);
  if (!model.modelKmsKeyArn || keyIdOf(model.modelKmsKeyArn) !== keyIdOf(input.key.keyArn)) {
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
  return { modelArn: model.modelArn, modelName: model.modelName, modelKmsKeyArn: model.modelKmsKeyArn, tags };
}
