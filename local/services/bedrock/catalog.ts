/**
 * What the embedded Bedrock knows of foundation models and what CreateModelCustomizationJob
 * accepts: all of it read from TuneVault's model catalog (functions/shared/catalog), the same
 * file the workflow validates against, which names the user guide pages and the botocore shapes
 * each fact comes from. Shapes and constraints follow botocore bedrock 2023-04-20; the wording of
 * the semantic ValidationExceptions (model, Region, hyper-parameter, teacher) is this emulator's:
 * AWS documents the exception, not its text.
 */
import {
  type CatalogModel,
  CUSTOMIZATION_TYPES,
  type CustomizationTypeName,
  catalog,
  customizationOf,
  findTeacher,
  hyperParameterSetOf,
  stripFoundationArn,
} from '../../../functions/shared/catalog';
import { LAMBDA_ARN, parameterProblem } from '../../../functions/shared/catalog/job-spec';
import { validation } from '../../core/input';
import { AwsError } from '../../core/types';

/** botocore ModelCustomization: what ListFoundationModels filters on and customizationsSupported lists. */
export const LISTED_CUSTOMIZATIONS = ['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION'] as const;

export interface FoundationModel {
  modelId: string;
  modelName: string;
  providerName: string;
  inputModalities: string[];
  outputModalities: string[];
  customizations: string[];
  inferenceTypes: string[];
  catalogModel: CatalogModel;
}

/**
 * The foundation models of a Region as ListFoundationModels shows them: a customizable model
 * twice, its customization id (PROVISIONED, with the customizations it supports here) and its
 * on-demand id (ON_DEMAND, no customizations). Only models with a customization in the Region
 * are known: the catalog records customization, not the whole inference catalog.
 */
export function foundationModels(region: string): FoundationModel[] {
  const out: FoundationModel[] = [];
  for (const m of catalog.models) {
    const here = CUSTOMIZATION_TYPES.filter((t) => m.customizations[t]?.regions.includes(region));
    if (here.length === 0) continue;
    const base = {
      modelName: m.name,
      providerName: m.provider,
      inputModalities: m.inputModalities,
      outputModalities: m.outputModalities,
      catalogModel: m,
    };
    out.push({
      ...base,
      modelId: m.id,
      customizations: here.filter((t) => (LISTED_CUSTOMIZATIONS as readonly string[]).includes(t)),
      inferenceTypes: ['PROVISIONED'],
    });
    if (m.onDemandId && m.onDemandId !== m.id) {
      out.push({ ...base, modelId: m.onDemandId, customizations: [], inferenceTypes: ['ON_DEMAND'] });
    }
  }
  return out;
}

export function findFoundationModel(region: string, identifier: string): FoundationModel | undefined {
  const arn = /^arn:aws[a-z-]*:bedrock:([^:]*)::foundation-model\/(.+)$/.exec(identifier);
  if (arn && arn[1] !== region) return undefined;
  const id = stripFoundationArn(identifier);
  return foundationModels(region).find((f) => f.modelId === id);
}

/** The base model of a job: it must support the customization type in this Region. */
export function customizableModel(
  region: string,
  identifier: string,
  type: CustomizationTypeName,
): CatalogModel {
  const listed = findFoundationModel(region, identifier);
  const model = listed?.catalogModel;
  const c = model ? customizationOf(model, type) : undefined;
  if (!model || !listed || listed.inferenceTypes.includes('ON_DEMAND')) {
    const known = stripFoundationArn(identifier);
    const variant = catalog.models.find((m) => m.onDemandId === known);
    const hint = variant ? ` Use the customization model id ${variant.id}.` : '';
    throw new AwsError(
      'ValidationException',
      `The provided base model identifier '${identifier}' is not a foundation model that supports customization in ${region}.${hint}`,
    );
  }
  if (!c?.regions.includes(region)) {
    const elsewhere = c ? ` It supports ${type} in ${c.regions.join(', ')}.` : '';
    throw new AwsError(
      'ValidationException',
      `The base model ${model.id} does not support customization type ${type} in ${region}.${elsewhere}`,
    );
  }
  return model;
}

/** hyperParameters of a job against the catalog's set for its model and type. */
export function checkHyperParameters(
  model: CatalogModel,
  type: CustomizationTypeName,
  raw: unknown,
): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AwsError('SerializationException', 'hyperParameters must be a map of strings');
  }
  const set = hyperParameterSetOf(customizationOf(model, type));
  const allowed = Object.keys(set?.parameters ?? {});
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'string') {
      throw new AwsError('SerializationException', `hyperParameters.${name} must be a string`);
    }
    const spec = set?.parameters[name];
    if (!spec) {
      throw new AwsError(
        'ValidationException',
        allowed.length === 0
          ? `The hyperparameter ${name} is not supported for ${type} of ${model.id}, which takes none.`
          : `The hyperparameter ${name} is not supported for ${type} of ${model.id}. Supported hyperparameters: ${allowed.join(', ')}.`,
      );
    }
    const problem = parameterProblem(value, spec);
    if (problem) {
      throw new AwsError(
        'ValidationException',
        `The hyperparameter ${name} '${value}' ${problem} for ${model.id}.`,
      );
    }
    out[name] = value;
  }
  for (const [name, spec] of Object.entries(set?.parameters ?? {})) {
    if (spec.type !== 'enum' && spec.required && out[name] === undefined) {
      throw new AwsError('ValidationException', `The hyperparameter ${name} is required for ${model.id}.`);
    }
  }
  return out;
}

export type CustomizationConfig =
  | {
      distillationConfig: {
        teacherModelConfig: { teacherModelIdentifier: string; maxResponseLengthForInference?: number };
      };
    }
  | {
      rftConfig: {
        graderConfig: { lambdaGrader: { lambdaArn: string } };
        hyperParameters?: Record<string, number | string>;
      };
    };

function objectAt(raw: unknown, field: string): Record<string, unknown> {
  if (raw === undefined || raw === null) throw validation(field, undefined, 'Member must not be null');
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AwsError('SerializationException', `${field} must be a structure`);
  }
  return raw as Record<string, unknown>;
}

/**
 * customizationConfig: a union (exactly one member, botocore CustomizationConfig), which
 * DISTILLATION (distillationConfig with a teacher of the student) and REINFORCEMENT_FINE_TUNING
 * (rftConfig with a Lambda grader) require and the other types do not take.
 */
export function checkCustomizationConfig(
  region: string,
  model: CatalogModel,
  type: CustomizationTypeName,
  raw: unknown,
): CustomizationConfig | undefined {
  if (raw === undefined || raw === null) {
    if (type === 'DISTILLATION') {
      throw new AwsError(
        'ValidationException',
        'customizationConfig.distillationConfig is required for customization type DISTILLATION.',
      );
    }
    if (type === 'REINFORCEMENT_FINE_TUNING') {
      throw new AwsError(
        'ValidationException',
        'customizationConfig.rftConfig is required for customization type REINFORCEMENT_FINE_TUNING.',
      );
    }
    return undefined;
  }
  const config = objectAt(raw, 'customizationConfig');
  const members = Object.keys(config).filter((k) => config[k] !== undefined && config[k] !== null);
  if (members.length !== 1) {
    throw new AwsError(
      'ValidationException',
      `customizationConfig is a union: exactly one of distillationConfig, rftConfig must be set (got ${members.length}).`,
    );
  }
  const member = members[0] as string;
  if (member === 'distillationConfig') {
    if (type !== 'DISTILLATION') {
      throw new AwsError(
        'ValidationException',
        `distillationConfig is not valid for customization type ${type}.`,
      );
    }
    const tm = objectAt(
      objectAt(config[member], 'customizationConfig.distillationConfig')['teacherModelConfig'],
      'customizationConfig.distillationConfig.teacherModelConfig',
    );
    const teacherId = tm['teacherModelIdentifier'];
    if (typeof teacherId !== 'string' || teacherId === '') {
      throw validation(
        'customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier',
        teacherId,
        'Member must not be null',
      );
    }
    const max = tm['maxResponseLengthForInference'];
    if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max))) {
      throw new AwsError('SerializationException', 'maxResponseLengthForInference must be an integer');
    }
    const teacher = findTeacher(teacherId);
    const teachers = customizationOf(model, 'DISTILLATION')?.teachers ?? [];
    if (!teacher || !teachers.includes(teacher.id) || !teacher.regions.includes(region)) {
      throw new AwsError(
        'ValidationException',
        `The teacher model ${teacherId} is not supported for the student model ${model.id} in ${region}. Supported teachers: ${teachers.join(', ')}.`,
      );
    }
    return {
      distillationConfig: {
        teacherModelConfig: {
          teacherModelIdentifier: teacherId,
          ...(typeof max === 'number' ? { maxResponseLengthForInference: max } : {}),
        },
      },
    };
  }
  if (member === 'rftConfig') {
    if (type !== 'REINFORCEMENT_FINE_TUNING') {
      throw new AwsError('ValidationException', `rftConfig is not valid for customization type ${type}.`);
    }
    const rft = objectAt(config[member], 'customizationConfig.rftConfig');
    const grader = objectAt(rft['graderConfig'], 'customizationConfig.rftConfig.graderConfig');
    const lambda = objectAt(
      grader['lambdaGrader'],
      'customizationConfig.rftConfig.graderConfig.lambdaGrader',
    );
    const arn = lambda['lambdaArn'];
    const field = 'customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn';
    if (typeof arn !== 'string' || arn.length < 1 || arn.length > 512) {
      throw validation(field, arn, 'Member must have length between 1 and 512');
    }
    if (!LAMBDA_ARN.test(arn)) {
      throw validation(field, arn, `Member must satisfy regular expression pattern: ${LAMBDA_ARN.source}`);
    }
    const hp = rft['hyperParameters'];
    const typed: Record<string, number | string> = {};
    if (hp !== undefined && hp !== null) {
      for (const [name, value] of Object.entries(
        objectAt(hp, 'customizationConfig.rftConfig.hyperParameters'),
      )) {
        const spec = catalog.rftHyperParameters.parameters[name];
        if (!spec)
          throw new AwsError('SerializationException', `Unknown field rftConfig.hyperParameters.${name}`);
        const wrongType = spec.type === 'enum' ? typeof value !== 'string' : typeof value !== 'number';
        if (wrongType)
          throw new AwsError(
            'SerializationException',
            `rftConfig.hyperParameters.${name} has the wrong type`,
          );
        const problem = parameterProblem(value as string | number, spec);
        if (problem)
          throw validation(`customizationConfig.rftConfig.hyperParameters.${name}`, value, problem);
        typed[name] = value as string | number;
      }
    }
    return {
      rftConfig: {
        graderConfig: { lambdaGrader: { lambdaArn: arn } },
        ...(Object.keys(typed).length > 0 ? { hyperParameters: typed } : {}),
      },
    };
  }
  throw new AwsError('SerializationException', `Unknown field customizationConfig.${member}`);
}

const EC2_ID = /^[-0-9a-zA-Z]+$/;

/** vpcConfig (botocore VpcConfig): 1–16 subnets and 1–5 security groups, ids `[-0-9a-zA-Z]+` up to 32. */
export function checkVpcConfig(
  raw: unknown,
): { subnetIds: string[]; securityGroupIds: string[] } | undefined {
  if (raw === undefined || raw === null) return undefined;
  const vpc = objectAt(raw, 'vpcConfig');
  const list = (field: 'subnetIds' | 'securityGroupIds', max: number): string[] => {
    const v = vpc[field];
    if (!Array.isArray(v)) throw validation(`vpcConfig.${field}`, undefined, 'Member must not be null');
    if (v.length < 1 || v.length > max) {
      throw validation(
        `vpcConfig.${field}`,
        `${v.length} items`,
        `Member must have length between 1 and ${max}`,
      );
    }
    return v.map((id: unknown, i) => {
      if (typeof id !== 'string' || id.length > 32 || !EC2_ID.test(id)) {
        throw validation(
          `vpcConfig.${field}.${i + 1}.member`,
          id,
          'Member must satisfy regular expression pattern: [-0-9a-zA-Z]+',
        );
      }
      return id;
    });
  };
  return { subnetIds: list('subnetIds', 16), securityGroupIds: list('securityGroupIds', 5) };
}
