/** The Bedrock control plane as the workflow needs it: one job, its model, their tags, its deployments. */
import {
  type BedrockClient,
  CreateCustomModelDeploymentCommand,
  CreateModelCustomizationJobCommand,
  CreateProvisionedModelThroughputCommand,
  DeleteCustomModelDeploymentCommand,
  DeleteProvisionedModelThroughputCommand,
  ListCustomModelDeploymentsCommand,
  ListProvisionedModelThroughputsCommand,
  ListTagsForResourceCommand,
  type CustomizationConfig,
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
  /** Exactly one of distillationConfig (teacher) or rftConfig (grader), as Bedrock's union takes it. */
  customizationConfig?: CustomizationConfig;
  vpcConfig?: { subnetIds: string[]; securityGroupIds: string[] };
}

/** Where the job is (GetModelCustomizationJob statusDetails): validation, data processing, training. */
export interface JobStatusDetails {
  validation?: string;
  dataProcessing?: string;
  training?: string;
}

export interface JobInfo {
  jobArn: string;
  jobName: string;
  status: string;
  customizationType?: string;
  statusDetails?: JobStatusDetails;
  outputModelArn?: string;
  outputModelKmsKeyArn?: string;
  failureMessage?: string;
  trainingLoss?: number;
  trainingS3Uri?: string;
  outputS3Uri?: string;
  creationTime?: Date;
  endTime?: Date;
}

export interface ModelInfo {
  modelArn: string;
  modelName: string;
  modelKmsKeyArn?: string;
  jobArn?: string;
  /** The base model's id (the last part of its ARN). */
  baseModelId?: string;
  trainingS3Uri?: string;
}

const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

function statusDetailsOf(d: {
  validationDetails?: { status?: string };
  dataProcessingDetails?: { status?: string };
  trainingDetails?: { status?: string };
}): JobStatusDetails {
  return {
    ...(d.validationDetails?.status ? { validation: d.validationDetails.status } : {}),
    ...(d.dataProcessingDetails?.status ? { dataProcessing: d.dataProcessingDetails.status } : {}),
    ...(d.trainingDetails?.status ? { training: d.trainingDetails.status } : {}),
  };
}

export interface DeploymentRequest {
  name: string;
  modelArn: string;
  clientRequestToken: string;
  tags: Record<string, string>;
}

export interface ProvisionedRequest extends DeploymentRequest {
  modelUnits: number;
}

export interface DeploymentInfo {
  arn: string;
  name: string;
  status: string;
}

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
        ...(r.customizationConfig ? { customizationConfig: r.customizationConfig } : {}),
        ...(r.vpcConfig ? { vpcConfig: r.vpcConfig } : {}),
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
      ...(j.customizationType ? { customizationType: j.customizationType } : {}),
      ...(j.statusDetails ? { statusDetails: statusDetailsOf(j.statusDetails) } : {}),
      ...(j.outputModelArn ? { outputModelArn: j.outputModelArn } : {}),
      ...(j.outputModelKmsKeyArn ? { outputModelKmsKeyArn: j.outputModelKmsKeyArn } : {}),
      ...(j.failureMessage ? { failureMessage: j.failureMessage } : {}),
      ...(j.trainingMetrics?.trainingLoss !== undefined
        ? { trainingLoss: j.trainingMetrics.trainingLoss }
        : {}),
      ...(j.trainingDataConfig?.s3Uri ? { trainingS3Uri: j.trainingDataConfig.s3Uri } : {}),
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
      ...(m.baseModelArn ? { baseModelId: m.baseModelArn.slice(m.baseModelArn.lastIndexOf('/') + 1) } : {}),
      ...(m.trainingDataConfig?.s3Uri ? { trainingS3Uri: m.trainingDataConfig.s3Uri } : {}),
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

  async listTags(resourceARN: string): Promise<Record<string, string>> {
    const out = await this.bedrock.send(new ListTagsForResourceCommand({ resourceARN }));
    return Object.fromEntries((out.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
  }

  /** On-demand inference for a custom model (CreateCustomModelDeployment); the deployment's ARN. */
  async createDeployment(r: DeploymentRequest): Promise<string> {
    const out = await this.bedrock.send(
      new CreateCustomModelDeploymentCommand({
        modelDeploymentName: r.name,
        modelArn: r.modelArn,
        clientRequestToken: r.clientRequestToken,
        tags: tagList(r.tags),
      }),
    );
    if (!out.customModelDeploymentArn) throw new Error('CreateCustomModelDeployment returned no ARN');
    return out.customModelDeploymentArn;
  }

  /** Provisioned Throughput without a commitment term (hourly): the provisioned model's ARN. */
  async createProvisioned(r: ProvisionedRequest): Promise<string> {
    const out = await this.bedrock.send(
      new CreateProvisionedModelThroughputCommand({
        provisionedModelName: r.name,
        modelId: r.modelArn,
        modelUnits: r.modelUnits,
        clientRequestToken: r.clientRequestToken,
        tags: tagList(r.tags),
      }),
    );
    if (!out.provisionedModelArn) throw new Error('CreateProvisionedModelThroughput returned no ARN');
    return out.provisionedModelArn;
  }

  async listDeployments(modelArn: string): Promise<DeploymentInfo[]> {
    const out: DeploymentInfo[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.bedrock.send(
        new ListCustomModelDeploymentsCommand({
          modelArnEquals: modelArn,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      for (const d of page.modelDeploymentSummaries ?? []) {
        out.push({
          arn: d.customModelDeploymentArn ?? '',
          name: d.customModelDeploymentName ?? '',
          status: d.status ?? '',
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  /** Provisioned models, all of them or those serving one model. */
  async listProvisioned(modelArn?: string): Promise<DeploymentInfo[]> {
    const out: DeploymentInfo[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.bedrock.send(
        new ListProvisionedModelThroughputsCommand({
          ...(modelArn ? { modelArnEquals: modelArn } : {}),
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      for (const p of page.provisionedModelSummaries ?? []) {
        out.push({
          arn: p.provisionedModelArn ?? '',
          name: p.provisionedModelName ?? '',
          status: p.status ?? '',
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  /** false when it was already gone. */
  async deleteDeployment(arn: string): Promise<boolean> {
    try {
      await this.bedrock.send(
        new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException')) return false;
      throw err;
    }
  }

  /** false when it was already gone. */
  async deleteProvisioned(arn: string): Promise<boolean> {
    try {
      await this.bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: arn }));
      return true;
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException')) return false;
      throw err;
    }
  }
}
