/** The Bedrock control plane as the workflow needs it: one job, its model, their tags. */
import {
  type BedrockClient,
  CreateModelCustomizationJobCommand,
  type CustomizationType,
  DeleteCustomModelCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  StopModelCustomizationJobCommand,
  TagResourceCommand,
} from '@aws-sdk/client-bedrock';
import { bedrockClient } from './clients';
import { isAwsError, orUndefined } from './errors';

export interface JobRequest {
  jobName: string;
  customModelName: string;
  clientRequestToken: string;
  roleArn: string;
  baseModelId: string;
  customizationType: CustomizationType;
  hyperParameters: Record<string, string>;
  trainingS3Uri: string;
  validationS3Uri?: string;
  outputS3Uri: string;
  customModelKmsKeyId: string;
  tags: Record<string, string>;
}

export interface JobInfo {
  jobArn: string;
  jobName: string;
  status: string;
  outputModelArn?: string;
  outputModelKmsKeyArn?: string;
  failureMessage?: string;
  trainingLoss?: number;
  outputS3Uri?: string;
  creationTime?: Date;
  endTime?: Date;
}

export interface ModelInfo {
  modelArn: string;
  modelName: string;
  modelKmsKeyArn?: string;
  jobArn?: string;
}

const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

export class BedrockGateway {
  constructor(private readonly bedrock: BedrockClient = bedrockClient()) {}

  async createJob(r: JobRequest): Promise<string> {
    const out = await this.bedrock.send(
      new CreateModelCustomizationJobCommand({
        jobName: r.jobName,
        customModelName: r.customModelName,
        clientRequestToken: r.clientRequestToken,
        roleArn: r.roleArn,
        baseModelIdentifier: r.baseModelId,
        customizationType: r.customizationType,
        hyperParameters: r.hyperParameters,
        trainingDataConfig: { s3Uri: r.trainingS3Uri },
        ...(r.validationS3Uri
          ? { validationDataConfig: { validators: [{ s3Uri: r.validationS3Uri }] } }
          : {}),
        outputDataConfig: { s3Uri: r.outputS3Uri },
        customModelKmsKeyId: r.customModelKmsKeyId,
        jobTags: tagList(r.tags),
        customModelTags: tagList(r.tags),
      }),
    );
    if (!out.jobArn) throw new Error('CreateModelCustomizationJob returned no jobArn');
    return out.jobArn;
  }

  async getJob(jobIdentifier: string): Promise<JobInfo | undefined> {
    const j = await orUndefined(
      this.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier })),
      'ResourceNotFoundException',
    );
    if (!j?.jobArn) return undefined;
    return {
      jobArn: j.jobArn,
      jobName: j.jobName ?? '',
      status: j.status ?? 'InProgress',
      ...(j.outputModelArn ? { outputModelArn: j.outputModelArn } : {}),
      ...(j.outputModelKmsKeyArn ? { outputModelKmsKeyArn: j.outputModelKmsKeyArn } : {}),
      ...(j.failureMessage ? { failureMessage: j.failureMessage } : {}),
      ...(j.trainingMetrics?.trainingLoss !== undefined
        ? { trainingLoss: j.trainingMetrics.trainingLoss }
        : {}),
      ...(j.outputDataConfig?.s3Uri ? { outputS3Uri: j.outputDataConfig.s3Uri } : {}),
      ...(j.creationTime ? { creationTime: j.creationTime } : {}),
      ...(j.endTime ? { endTime: j.endTime } : {}),
    };
  }

  /** false when the job had already ended (nothing to stop). */
  async stopJob(jobIdentifier: string): Promise<boolean> {
    try {
      await this.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier }));
      return true;
    } catch (err) {
      if (isAwsError(err, 'ValidationException', 'ResourceNotFoundException', 'ConflictException'))
        return false;
      throw err;
    }
  }

  async getCustomModel(modelIdentifier: string): Promise<ModelInfo | undefined> {
    const m = await orUndefined(
      this.bedrock.send(new GetCustomModelCommand({ modelIdentifier })),
      'ResourceNotFoundException',
    );
    if (!m?.modelArn) return undefined;
    return {
      modelArn: m.modelArn,
      modelName: m.modelName ?? '',
      ...(m.modelKmsKeyArn ? { modelKmsKeyArn: m.modelKmsKeyArn } : {}),
      ...(m.jobArn ? { jobArn: m.jobArn } : {}),
    };
  }

  /** false when the model was already gone. */
  async deleteCustomModel(modelIdentifier: string): Promise<boolean> {
    try {
      await this.bedrock.send(new DeleteCustomModelCommand({ modelIdentifier }));
      return true;
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException')) return false;
      throw err;
    }
  }

  async tagResource(resourceARN: string, tags: Record<string, string>): Promise<void> {
    await this.bedrock.send(new TagResourceCommand({ resourceARN, tags: tagList(tags) }));
  }
}
