/** Custom models (Get, List, Delete) and foundation models (Get, List) as the control plane shows them. */
import type { Body } from '../../core/input';
import { validation } from '../../core/input';
import { AwsError } from '../../core/types';
import {
  type FoundationModel,
  findFoundationModel,
  foundationModels,
  LISTED_CUSTOMIZATIONS,
} from './catalog';
import type { BedrockResources, ModelRecord } from './model';
import { byCreation, filter, iso, paginate, timeFilter } from './rest';

/** GetCustomModel's answer. */
export function modelView(m: ModelRecord): Body {
  const view: Body = {
    modelArn: m.modelArn,
    modelName: m.modelName,
    jobName: m.jobName,
    jobArn: m.jobArn,
    baseModelArn: m.baseModelArn,
    customizationType: m.customizationType,
    hyperParameters: { ...m.hyperParameters },
    trainingDataConfig: { ...m.trainingDataConfig },
    validationDataConfig: { validators: m.validators.map((v) => ({ ...v })) },
    outputDataConfig: { ...m.outputDataConfig },
    trainingMetrics: { trainingLoss: m.trainingLoss },
    creationTime: iso(m.creationTime),
    modelStatus: 'Active',
  };
  if (m.modelKmsKeyArn !== undefined) view['modelKmsKeyArn'] = m.modelKmsKeyArn;
  if (m.validationLoss !== undefined) view['validationMetrics'] = [{ validationLoss: m.validationLoss }];
  return view;
}

export function deleteModel(resources: BedrockResources, identifier: string): void {
  const model = resources.findModel(identifier);
  resources.models.delete(model.modelArn);
  resources.tags.delete(model.modelArn);
}

export function listModels(resources: BedrockResources, input: Body) {
  const nameContains = filter(input, 'nameContains');
  const baseArn = filter(input, 'baseModelArnEquals');
  const foundationArn = filter(input, 'foundationModelArnEquals');
  const status = filter(input, 'modelStatus');
  const after = timeFilter(input, 'creationTimeAfter');
  const before = timeFilter(input, 'creationTimeBefore');
  const sortBy = filter(input, 'sortBy');
  if (sortBy !== null && sortBy !== 'CreationTime') {
    throw validation('sortBy', sortBy, 'Member must satisfy enum value set: [CreationTime]');
  }
  const items = [...resources.models.values()]
    .filter((m) => nameContains === null || m.modelName.includes(nameContains))
    .filter((m) => baseArn === null || m.baseModelArn === baseArn)
    .filter((m) => foundationArn === null || m.baseModelArn === foundationArn)
    .filter(() => status === null || status === 'Active')
    .filter((m) => after === undefined || m.creationTime > after)
    .filter((m) => before === undefined || m.creationTime < before)
    .sort(byCreation(input, (m: ModelRecord) => m.creationTime))
    .map((m) => ({
      modelArn: m.modelArn,
      modelName: m.modelName,
      creationTime: iso(m.creationTime),
      baseModelArn: m.baseModelArn,
      baseModelName: resources.foundationName(m.baseModelId),
      customizationType: m.customizationType,
      ownerAccountId: resources.accountId,
      modelStatus: 'Active',
    }));
  const { page, nextToken } = paginate(items, input);
  return nextToken ? { modelSummaries: page, nextToken } : { modelSummaries: page };
}

function foundationView(resources: BedrockResources, f: FoundationModel) {
  return {
    modelArn: resources.foundationArn(f.modelId),
    modelId: f.modelId,
    modelName: f.modelName,
    providerName: f.providerName,
    inputModalities: [...f.inputModalities],
    outputModalities: [...f.outputModalities],
    responseStreamingSupported: f.outputModalities.includes('TEXT'),
    customizationsSupported: [...f.customizations],
    inferenceTypesSupported: [...f.inferenceTypes],
    modelLifecycle: { status: 'ACTIVE' },
  };
}

export function getFoundationModel(resources: BedrockResources, identifier: string) {
  const model = findFoundationModel(resources.region, identifier);
  if (!model) {
    throw new AwsError('ValidationException', `The provided model identifier '${identifier}' is invalid.`);
  }
  return { modelDetails: foundationView(resources, model) };
}

export function listFoundationModels(resources: BedrockResources, input: Body) {
  const provider = filter(input, 'byProvider')?.toLowerCase();
  const customization = filter(input, 'byCustomizationType');
  const output = filter(input, 'byOutputModality');
  const inference = filter(input, 'byInferenceType');
  // botocore ModelCustomization: REINFORCEMENT_FINE_TUNING is not a value of this filter.
  if (customization !== null && !(LISTED_CUSTOMIZATIONS as readonly string[]).includes(customization)) {
    throw validation(
      'byCustomizationType',
      customization,
      `Member must satisfy enum value set: [${LISTED_CUSTOMIZATIONS.join(', ')}]`,
    );
  }
  const summaries = foundationModels(resources.region)
    .filter((f) => provider === undefined || f.providerName.toLowerCase() === provider)
    .filter((f) => customization === null || f.customizations.includes(customization))
    .filter((f) => output === null || f.outputModalities.includes(output))
    .filter((f) => inference === null || f.inferenceTypes.includes(inference))
    .map((f) => foundationView(resources, f));
  return { modelSummaries: summaries };
}
