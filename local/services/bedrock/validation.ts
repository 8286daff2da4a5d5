/**
 * The input of CreateModelCustomizationJob (and the members deployments share with it) checked as
 * AWS checks it: the patterns and lengths of botocore bedrock 2023-04-20, worded as AWS's
 * validation message words them (core/input.ts). What the model catalog decides — the base
 * model, hyper-parameters, customizationConfig, vpcConfig — is checked in catalog.ts.
 */
import { CUSTOMIZATION_TYPES, type CustomizationTypeName } from '../../../functions/shared/catalog';
import { type Body, optionalString, requireString, validation } from '../../core/input';
import {
  type CustomizationConfig,
  checkCustomizationConfig,
  checkHyperParameters,
  checkVpcConfig,
  customizableModel,
} from './catalog';
import type { S3Config } from './model';
import { parseTags, type Tag } from './rest';

const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$/;
/** A custom model's name, and a deployment's or provisioned model's. */
export const MODEL_NAME = /^([0-9a-zA-Z][_-]?){1,63}$/;
const TOKEN = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?$/;
const ROLE_ARN = /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/;
const S3_URI = /^s3:\/\/([a-z0-9][-.a-z0-9]{1,61}[a-z0-9])(?:\/(.*))?$/;

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = S3_URI.exec(uri);
  if (!m) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: m[1] as string, key: m[2] ?? '' };
}

/** The create's `clientRequestToken` (the idempotency token), or undefined. */
export function clientRequestToken(b: Body): string | undefined {
  const token = optionalString(b, 'clientRequestToken');
  if (token !== undefined && (!TOKEN.test(token) || token.length > 256)) {
    throw validation(
      'clientRequestToken',
      token,
      `Member must satisfy regular expression pattern: ${TOKEN.source}`,
    );
  }
  return token;
}

/** A name member matching MODEL_NAME. */
export function modelName(b: Body, field: string): string {
  const name = requireString(b, field);
  if (name.length > 63) throw validation(field, name, 'Member must have length less than or equal to 63');
  if (!MODEL_NAME.test(name)) {
    throw validation(field, name, 'Member must satisfy regular expression pattern: ([0-9a-zA-Z][_-]?){1,63}');
  }
  return name;
}

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

function requiredS3Config(b: Body, field: string): S3Config {
  if (b[field] === undefined) throw validation(field, undefined, 'Member must not be null');
  return s3Config(b[field], field);
}

function validators(raw: unknown): S3Config[] {
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

export interface JobInput {
  jobName: string;
  customModelName: string;
  roleArn: string;
  customizationType: CustomizationTypeName;
  baseModelId: string;
  trainingDataConfig: S3Config;
  outputDataConfig: S3Config;
  validators: S3Config[];
  hyperParameters: Record<string, string>;
  customizationConfig: CustomizationConfig | undefined;
  vpcConfig: { subnetIds: string[]; securityGroupIds: string[] } | undefined;
  jobTags: Tag[];
  customModelTags: Tag[];
  customModelKmsKeyId: string | undefined;
}

/** CreateModelCustomizationJob's members, in the order AWS's checks meet them. */
export function readJobInput(b: Body, region: string): JobInput {
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
  const customModelName = modelName(b, 'customModelName');
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
  const baseModel = customizableModel(region, requireString(b, 'baseModelIdentifier'), type);
  const trainingDataConfig = requiredS3Config(b, 'trainingDataConfig');
  const outputDataConfig = requiredS3Config(b, 'outputDataConfig');
  return {
    jobName,
    customModelName,
    roleArn,
    customizationType: type,
    baseModelId: baseModel.id,
    trainingDataConfig,
    outputDataConfig,
    validators: validators(b['validationDataConfig']),
    hyperParameters: checkHyperParameters(baseModel, type, b['hyperParameters']),
    customizationConfig: checkCustomizationConfig(region, baseModel, type, b['customizationConfig']),
    vpcConfig: checkVpcConfig(b['vpcConfig']),
    jobTags: parseTags(b['jobTags'], 'jobTags'),
    customModelTags: parseTags(b['customModelTags'], 'customModelTags'),
    customModelKmsKeyId: optionalString(b, 'customModelKmsKeyId'),
  };
}
