/**
 * The job a dataset will run, resolved from its sidecar over the stage's defaults and checked
 * against the model catalog before anything is submitted. Pure: startCustomization calls it to
 * refuse a dataset at once (the object is tagged with the reason), ScanTrainingData to know the
 * record format and limits, SubmitCustomizationJob to build the request: the same inputs give the
 * same job in all three.
 *
 * Every problem names its fix: the sidecar field or stage parameter to change, the allowed
 * values, or the Region to deploy in.
 */
import type { DatasetOptions, DeployMode, VpcConfigOption } from '../types';
import {
  type CatalogCustomization,
  type CatalogLimits,
  type CatalogModel,
  catalog,
  type CustomizationTypeName,
  DEFAULT_BASE_MODEL_ID,
  type FormatId,
  findModel,
  findTeacher,
  type HyperParameterSet,
  hyperParameterSetOf,
  type ParameterSpec,
  trainableModels,
  typesIn,
} from './index';

/** The stage's settings (serverless.yml params, read from the environment). */
export interface JobDefaults {
  region: string;
  baseModelId: string;
  customizationType: CustomizationTypeName;
  /** Overrides of the catalog defaults, for the family of the stage's base model only. */
  hyperParameters: Record<string, string>;
  vpc?: VpcConfigOption;
  /** The graders the Bedrock role may invoke (its lambda:InvokeFunction statement). */
  rftGraderLambdaArns: string[];
  deploy: DeployMode;
  provisionedModelUnits: number;
  provisionedExpiryHours?: number;
}

export type CustomizationConfigSpec =
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

export interface DeploySpec {
  mode: DeployMode;
  modelUnits?: number;
  expiresInHours?: number;
}

export interface JobSpec {
  /** The catalog's customization id, e.g. amazon.nova-micro-v1:0:128k. */
  baseModelId: string;
  modelName: string;
  customizationType: CustomizationTypeName;
  format: FormatId;
  limits: CatalogLimits;
  hyperParameters: Record<string, string>;
  customizationConfig?: CustomizationConfigSpec;
  vpcConfig?: VpcConfigOption;
  deploy: DeploySpec;
}

export class JobSpecError extends Error {
  override readonly name = 'JobSpecError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** Bedrock's LambdaArn pattern (botocore bedrock 2023-04-20, LambdaArn). */
export const LAMBDA_ARN =
  /^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_.]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
/** SubnetId and SecurityGroupId (botocore): `[-0-9a-zA-Z]+`, at most 32 characters. */
const EC2_ID = /^[-0-9a-zA-Z]{1,32}$/;

const describe = (m: CatalogModel) => `${m.id} (${m.name})`;
const list = (items: string[]) => items.join(', ');

/** How a message names a setting: the sidecar field when the sidecar set it, else the stage parameter. */
function where(fromSidecar: boolean, sidecarField: string, stageParam: string): string {
  return fromSidecar ? `the sidecar field ${sidecarField}` : `the stage parameter ${stageParam}`;
}

function modelChoices(type: CustomizationTypeName, region: string): string {
  const models = trainableModels(type, region);
  return models.length > 0 ? list(models.map(describe)) : `none (no model supports ${type} in ${region})`;
}

/** A value checked against one parameter spec; undefined when valid. */
export function parameterProblem(value: string | number, spec: ParameterSpec): string | undefined {
  if (spec.type === 'enum') {
    return spec.values.includes(String(value)) ? undefined : `must be one of ${list(spec.values)}`;
  }
  const text = String(value).trim();
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) return 'must be a number';
  if (spec.type === 'integer' && !Number.isInteger(n)) return 'must be an integer';
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    if (spec.min !== undefined && spec.max !== undefined)
      return `must be between ${spec.min} and ${spec.max}`;
    return spec.min !== undefined ? `must be at least ${spec.min}` : `must be at most ${spec.max}`;
  }
  return undefined;
}

/** Problems of a hyper-parameter map against its catalog set, each naming the allowed names or range. */
export function hyperParameterProblems(
  values: Record<string, string | number>,
  set: HyperParameterSet,
  subject: string,
  field: string,
): string[] {
  const allowed = Object.keys(set.parameters);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const spec = set.parameters[name];
    if (!spec) {
      problems.push(
        allowed.length === 0
          ? `${field}.${name}: ${subject} takes no hyper-parameters in TuneVault's catalog (none documented); remove ${field}`
          : `${field}.${name} is not a hyper-parameter of ${subject}: the allowed ones are ${list(allowed)} (${catalog.sources[set.source]?.url ?? set.source})`,
      );
      continue;
    }
    const problem = parameterProblem(value, spec);
    if (problem) problems.push(`${field}.${name} '${value}' ${problem} for ${subject}`);
  }
  for (const [name, spec] of Object.entries(set.parameters)) {
    if (spec.type !== 'enum' && spec.required && values[name] === undefined) {
      problems.push(`${field}.${name} is required for ${subject}`);
    }
  }
  return problems;
}

function defaultsOf(set: HyperParameterSet | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(set?.parameters ?? {})) {
    if (spec.type !== 'enum' && spec.default !== undefined) out[name] = spec.default;
  }
  return out;
}

interface Resolved {
  model: CatalogModel;
  type: CustomizationTypeName;
  c: CatalogCustomization;
}

/** The model and type, or the problems that stop the rest of the checks. */
function resolveModel(dataset: DatasetOptions, d: JobDefaults, problems: string[]): Resolved | undefined {
  const modelFromSidecar = dataset.baseModelId !== undefined;
  const typeFromSidecar = dataset.customizationType !== undefined;
  const identifier = dataset.baseModelId ?? d.baseModelId;
  const type = dataset.customizationType ?? d.customizationType;
  const modelField = where(modelFromSidecar, 'baseModelId', 'baseModelId');
  const model = findModel(identifier);
  if (!model) {
    problems.push(
      `baseModelId '${identifier}' is not in TuneVault's model catalog: set ${modelField} to a model customizable with ${type} in ${d.region}: ${modelChoices(type, d.region)}`,
    );
    return undefined;
  }
  if (model.unsupported) {
    problems.push(
      `${describe(model)} is ${model.unsupported}; set ${modelField} to one of ${modelChoices(type, d.region)}`,
    );
    return undefined;
  }
  const c = model.customizations[type];
  if (!c) {
    const supported = Object.keys(model.customizations);
    problems.push(
      `${model.name} does not support customizationType ${type} (it supports ${list(supported)}): set ${where(typeFromSidecar, 'customizationType', 'customizationType')} to one of those, or ${modelField} to a model that supports ${type} in ${d.region}: ${modelChoices(type, d.region)}`,
    );
    return undefined;
  }
  if (!c.regions.includes(d.region)) {
    const here = trainableModels(type, d.region);
    problems.push(
      `${model.name} (${model.id}) can be customized with ${type} only in ${list(c.regions)}, and this stack runs in ${d.region}: deploy TuneVault in ${list(c.regions)} (serverless deploy --region ${c.regions[0]}), or set ${modelField} to a model customizable in ${d.region}: ${here.length > 0 ? list(here.map(describe)) : 'none'}`,
    );
    return undefined;
  }
  if (!c.format) {
    problems.push(`${model.name} has no record format in TuneVault's catalog for ${type}`);
    return undefined;
  }
  return { model, type, c };
}

function resolveHyperParameters(
  dataset: DatasetOptions,
  d: JobDefaults,
  r: Resolved,
  problems: string[],
): Record<string, string> {
  const subject = `${r.model.name} (${r.type})`;
  if (r.type === 'REINFORCEMENT_FINE_TUNING') {
    if (dataset.hyperParameters && Object.keys(dataset.hyperParameters).length > 0) {
      problems.push(
        `hyperParameters: REINFORCEMENT_FINE_TUNING takes its hyper-parameters in the sidecar field customizationConfig.rftConfig.hyperParameters (allowed: ${list(Object.keys(catalog.rftHyperParameters.parameters))}); move them there`,
      );
    }
    return {};
  }
  const set = hyperParameterSetOf(r.c) ?? catalog.hyperParameterSets['none'];
  if (!set) return {};
  const base = defaultsOf(set);
  // The stage's overrides were chosen for the stage's model family: they apply only to jobs on a
  // model with the same hyper-parameter set and customization type.
  const stageModel = findModel(d.baseModelId);
  const stageSet = stageModel ? stageModel.customizations[d.customizationType]?.hyperParameters : undefined;
  const stageApplies =
    stageSet !== undefined && stageSet === r.c.hyperParameters && d.customizationType === r.type;
  const stage = stageApplies ? d.hyperParameters : {};
  if (stageApplies && Object.keys(stage).length > 0) {
    problems.push(...hyperParameterProblems(stage, set, subject, 'the stage parameter hyperParameters'));
  }
  const sidecar = dataset.hyperParameters ?? {};
  problems.push(...hyperParameterProblems(sidecar, set, subject, 'hyperParameters'));
  return { ...base, ...stage, ...sidecar };
}

function resolveCustomizationConfig(
  dataset: DatasetOptions,
  d: JobDefaults,
  r: Resolved,
  problems: string[],
): CustomizationConfigSpec | undefined {
  const cc = dataset.customizationConfig;
  const members = cc ? Object.keys(cc).filter((k) => cc[k as keyof typeof cc] !== undefined) : [];
  if (members.length > 1) {
    problems.push(
      `customizationConfig holds ${list(members)}: Bedrock's CustomizationConfig is a union, set exactly one (distillationConfig for DISTILLATION, rftConfig for REINFORCEMENT_FINE_TUNING)`,
    );
    return undefined;
  }
  if (r.type === 'DISTILLATION') {
    const teachers = r.c.teachers ?? [];
    const choices = list(
      teachers.map((t) => `${t} (${catalog.teachers.find((x) => x.id === t)?.name ?? t})`),
    );
    const tm = cc?.distillationConfig?.teacherModelConfig;
    if (!tm) {
      problems.push(
        `customizationType DISTILLATION needs a teacher: set the sidecar field customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier to a teacher of ${r.model.name}: ${choices}`,
      );
      return undefined;
    }
    const teacher = findTeacher(tm.teacherModelIdentifier);
    if (!teacher || !teachers.includes(teacher.id)) {
      problems.push(
        `customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier '${tm.teacherModelIdentifier}' is not a teacher of ${r.model.name} in TuneVault's catalog: use one of ${choices}`,
      );
      return undefined;
    }
    if (!teacher.regions.includes(d.region)) {
      problems.push(
        `teacher ${teacher.name} is available for distillation only in ${list(teacher.regions)}, and this stack runs in ${d.region}`,
      );
      return undefined;
    }
    return {
      distillationConfig: {
        teacherModelConfig: {
          teacherModelIdentifier: tm.teacherModelIdentifier,
          ...(tm.maxResponseLengthForInference !== undefined
            ? { maxResponseLengthForInference: tm.maxResponseLengthForInference }
            : {}),
        },
      },
    };
  }
  if (r.type === 'REINFORCEMENT_FINE_TUNING') {
    const rft = cc?.rftConfig;
    if (!rft) {
      problems.push(
        `customizationType REINFORCEMENT_FINE_TUNING needs a grader: set the sidecar field customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn to your reward function${d.rftGraderLambdaArns.length > 0 ? ` (this stack lets Bedrock invoke ${list(d.rftGraderLambdaArns)})` : ', and list it in the stage parameter rftGraderLambdaArns'}`,
      );
      return undefined;
    }
    const arn = rft.graderConfig.lambdaGrader.lambdaArn;
    if (!LAMBDA_ARN.test(arn) || arn.length > 512) {
      problems.push(
        `customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn '${arn}' is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>])`,
      );
      return undefined;
    }
    if (arn.split(':')[3] !== d.region) {
      problems.push(
        `the grader ${arn} is not in ${d.region}, where the job runs: use a reward function in ${d.region}`,
      );
    }
    if (!d.rftGraderLambdaArns.includes(arn)) {
      problems.push(
        `the grader ${arn} is not one this stack lets Bedrock invoke: add it to the stage parameter rftGraderLambdaArns and redeploy (the Bedrock role may invoke only the graders listed there)`,
      );
    }
    const hp = rft.hyperParameters ?? {};
    problems.push(
      ...hyperParameterProblems(
        hp,
        catalog.rftHyperParameters,
        `${r.model.name} (REINFORCEMENT_FINE_TUNING)`,
        'customizationConfig.rftConfig.hyperParameters',
      ),
    );
    // RFTHyperParameters are typed in the API: numbers, and reasoningEffort a string.
    const typed: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(hp)) {
      typed[k] = catalog.rftHyperParameters.parameters[k]?.type === 'enum' ? String(v) : Number(v);
    }
    return {
      rftConfig: {
        graderConfig: { lambdaGrader: { lambdaArn: arn } },
        ...(Object.keys(typed).length > 0 ? { hyperParameters: typed } : {}),
      },
    };
  }
  if (members.length > 0) {
    problems.push(
      `customizationConfig (${list(members)}) is only for DISTILLATION and REINFORCEMENT_FINE_TUNING, and this job is ${r.type}: remove it, or set the sidecar field customizationType`,
    );
  }
  return undefined;
}

function resolveVpc(
  dataset: DatasetOptions,
  d: JobDefaults,
  problems: string[],
): VpcConfigOption | undefined {
  const vpc = dataset.vpcConfig ?? d.vpc;
  if (!vpc) return undefined;
  const fromSidecar = dataset.vpcConfig !== undefined;
  if (vpc.subnetIds.length === 0 || vpc.securityGroupIds.length === 0) {
    problems.push(
      'vpcConfig needs both subnets and security groups (botocore VpcConfig requires both): set the stage parameters vpcSubnetIds and vpcSecurityGroupIds together',
    );
  }
  for (const id of [...vpc.subnetIds, ...vpc.securityGroupIds]) {
    if (!EC2_ID.test(id))
      problems.push(`vpcConfig: '${id}' is not a subnet or security group id ([-0-9a-zA-Z]{1,32})`);
  }
  if (fromSidecar) {
    // The Bedrock role's ec2:CreateNetworkInterface is scoped to the stage's subnets and groups.
    const stage = d.vpc;
    const missing = [
      ...vpc.subnetIds.filter((s) => !stage?.subnetIds.includes(s)),
      ...vpc.securityGroupIds.filter((s) => !stage?.securityGroupIds.includes(s)),
    ];
    if (missing.length > 0) {
      problems.push(
        `the sidecar field vpcConfig names ${list(missing)}, which the stage parameters vpcSubnetIds / vpcSecurityGroupIds do not list: add them there and redeploy (they scope the EC2 network-interface permissions of the Bedrock role)`,
      );
    }
  }
  return { subnetIds: [...vpc.subnetIds], securityGroupIds: [...vpc.securityGroupIds] };
}

function resolveDeploy(dataset: DatasetOptions, d: JobDefaults, r: Resolved, problems: string[]): DeploySpec {
  const mode = dataset.deploy ?? d.deploy;
  const field = where(dataset.deploy !== undefined, 'deploy', 'deploy');
  if (mode === 'on-demand' && !r.model.onDemandDeployment?.regions.includes(d.region)) {
    const able = catalog.models
      .filter((m) => m.onDemandDeployment?.regions.includes(d.region))
      .map((m) => m.name);
    problems.push(
      `${field} 'on-demand': Bedrock does not deploy custom ${r.model.name} models on demand in ${d.region} (it does for ${able.length > 0 ? list(able) : 'no model'} there): set it to 'none' or 'provisioned'`,
    );
  }
  if (mode !== 'provisioned') return { mode };
  const expiresInHours = dataset.provisioned?.expiresInHours ?? d.provisionedExpiryHours;
  if (expiresInHours === undefined) {
    problems.push(
      `${field} 'provisioned' needs an expiry: set the sidecar field provisioned.expiresInHours (or the stage parameter provisionedExpiryHours); the scheduled cleanup deletes the Provisioned Throughput then, so it cannot bill forever`,
    );
  }
  return {
    mode,
    modelUnits: dataset.provisioned?.modelUnits ?? d.provisionedModelUnits,
    ...(expiresInHours !== undefined ? { expiresInHours } : {}),
  };
}

/** The job for a dataset, or JobSpecError listing every problem with its fix. */
export function resolveJobSpec(dataset: DatasetOptions, defaults: JobDefaults): JobSpec {
  const problems: string[] = [];
  const r = resolveModel(dataset, defaults, problems);
  if (!r) throw new JobSpecError(problems);
  const hyperParameters = resolveHyperParameters(dataset, defaults, r, problems);
  const customizationConfig = resolveCustomizationConfig(dataset, defaults, r, problems);
  const vpcConfig = resolveVpc(dataset, defaults, problems);
  const deploy = resolveDeploy(dataset, defaults, r, problems);
  if (problems.length > 0) throw new JobSpecError(problems);
  return {
    baseModelId: r.model.id,
    modelName: r.model.name,
    customizationType: r.type,
    format: r.c.format as FormatId,
    limits: r.c.limits as CatalogLimits,
    hyperParameters,
    ...(customizationConfig ? { customizationConfig } : {}),
    ...(vpcConfig ? { vpcConfig } : {}),
    deploy,
  };
}

/** Models (name, id, Regions) customizable with a type, for docs and preflight. */
export function customizableIn(
  region: string,
): Array<{ model: CatalogModel; types: CustomizationTypeName[] }> {
  return catalog.models
    .filter((m) => m.unsupported === undefined)
    .map((m) => ({ model: m, types: typesIn(m, region) }))
    .filter((x) => x.types.length > 0);
}

export { DEFAULT_BASE_MODEL_ID };
