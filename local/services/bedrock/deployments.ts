/**
 * Custom model deployments (on-demand inference) and Provisioned Throughput, as the Bedrock
 * control plane serves them (botocore bedrock 2023-04-20: CreateCustomModelDeployment 202,
 * Get/List/Delete; CreateProvisionedModelThroughput 201, Get/List/Delete). A deployment is
 * Creating, then Active; a provisioned model Creating, then InService. On-demand deployment is
 * refused for base models the catalog does not list for it in the Region
 * (deploy-custom-model-on-demand: Nova Lite, Micro, Pro in us-east-1).
 */
import { findModel } from '../../../functions/shared/catalog';
import { type Body, optionalString, requireString, validation } from '../../core/input';
import { AwsError } from '../../core/types';
import { iso, newId, paginate, parseTags, type Tag, timeFilter } from './rest';

const NAME = /^([0-9a-zA-Z][_-]?){1,63}$/;
const TOKEN = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?$/;

interface DeploymentRecord {
  kind: 'deployment' | 'provisioned';
  arn: string;
  name: string;
  modelArn: string;
  baseModelId: string;
  modelUnits?: number;
  description?: string;
  createdAt: number;
  clientRequestToken?: string;
}

export interface DeploymentSnapshot {
  records: DeploymentRecord[];
}

export interface DeploymentHost {
  accountId: string;
  region: string;
  /** The custom model an ARN or name names (its base model id), or undefined. */
  customModel(
    identifier: string,
  ): { modelArn: string; baseModelId: string; modelKmsKeyArn?: string } | undefined;
  /** Throws when the model's key cannot be used (the deployment would fail to decrypt it). */
  checkModelKey(keyArn: string): Promise<void>;
  setTags(arn: string, tags: Tag[]): void;
  dropTags(arn: string): void;
  /** How long Creating lasts. */
  readyAfterMs(): number;
}

export class DeploymentService {
  private records = new Map<string, DeploymentRecord>();

  constructor(private readonly host: DeploymentHost) {}

  has(arn: string): boolean {
    return this.records.has(arn);
  }

  /** Routes of this part of the API, or undefined. */
  route(method: string, segments: string[]): { operation: string; id?: string } | undefined {
    const [root, second, id] = segments;
    const n = segments.length;
    if (root === 'model-customization' && second === 'custom-model-deployments') {
      if (n === 2 && method === 'POST') return { operation: 'CreateCustomModelDeployment' };
      if (n === 2 && method === 'GET') return { operation: 'ListCustomModelDeployments' };
      if (n === 3 && method === 'GET') return { operation: 'GetCustomModelDeployment', id: id as string };
      if (n === 3 && method === 'DELETE')
        return { operation: 'DeleteCustomModelDeployment', id: id as string };
    }
    if (root === 'provisioned-model-throughput') {
      if (n === 1 && method === 'POST') return { operation: 'CreateProvisionedModelThroughput' };
      if (n === 2 && method === 'GET')
        return { operation: 'GetProvisionedModelThroughput', id: second as string };
      if (n === 2 && method === 'DELETE')
        return { operation: 'DeleteProvisionedModelThroughput', id: second as string };
    }
    if (root === 'provisioned-model-throughputs' && n === 1 && method === 'GET') {
      return { operation: 'ListProvisionedModelThroughputs' };
    }
    return undefined;
  }

  /** Status and HTTP status of each operation's answer. */
  async handle(
    operation: string,
    id: string,
    body: Body,
    query: URLSearchParams,
  ): Promise<{ status: number; body: unknown }> {
    switch (operation) {
      case 'CreateCustomModelDeployment':
        return { status: 202, body: { customModelDeploymentArn: await this.create('deployment', body) } };
      case 'CreateProvisionedModelThroughput':
        return { status: 201, body: { provisionedModelArn: await this.create('provisioned', body) } };
      case 'GetCustomModelDeployment':
        return { status: 200, body: this.deploymentView(this.find('deployment', id)) };
      case 'GetProvisionedModelThroughput':
        return { status: 200, body: this.provisionedView(this.find('provisioned', id)) };
      case 'ListCustomModelDeployments':
        return { status: 200, body: this.list('deployment', query) };
      case 'ListProvisionedModelThroughputs':
        return { status: 200, body: this.list('provisioned', query) };
      case 'DeleteCustomModelDeployment':
      case 'DeleteProvisionedModelThroughput': {
        const r = this.find(operation === 'DeleteCustomModelDeployment' ? 'deployment' : 'provisioned', id);
        this.records.delete(r.arn);
        this.host.dropTags(r.arn);
        return { status: 200, body: {} };
      }
      default:
        throw new AwsError(
          'UnknownOperationException',
          `The embedded Bedrock does not implement ${operation}`,
          404,
        );
    }
  }

  private async create(kind: DeploymentRecord['kind'], b: Body): Promise<string> {
    const token = optionalString(b, 'clientRequestToken');
    if (token !== undefined) {
      if (!TOKEN.test(token)) {
        throw validation(
          'clientRequestToken',
          token,
          `Member must satisfy regular expression pattern: ${TOKEN.source}`,
        );
      }
      const same = [...this.records.values()].find((r) => r.kind === kind && r.clientRequestToken === token);
      if (same) return same.arn;
    }
    const nameField = kind === 'deployment' ? 'modelDeploymentName' : 'provisionedModelName';
    const name = requireString(b, nameField);
    if (!NAME.test(name)) {
      throw validation(
        nameField,
        name,
        'Member must satisfy regular expression pattern: ([0-9a-zA-Z][_-]?){1,63}',
      );
    }
    if ([...this.records.values()].some((r) => r.kind === kind && r.name === name)) {
      throw new AwsError('ValidationException', `The provided name '${name}' is already in use.`);
    }
    const modelField = kind === 'deployment' ? 'modelArn' : 'modelId';
    const modelId = requireString(b, modelField);
    const model = this.host.customModel(modelId);
    if (!model) {
      throw new AwsError('ResourceNotFoundException', `Custom model ${modelId} was not found.`, 404);
    }
    let modelUnits: number | undefined;
    if (kind === 'deployment') {
      const base = findModel(model.baseModelId);
      if (!base?.onDemandDeployment?.regions.includes(this.host.region)) {
        throw new AwsError(
          'ValidationException',
          `On-demand deployment is not supported for custom models of ${model.baseModelId} in ${this.host.region}.`,
        );
      }
    } else {
      const units = b['modelUnits'];
      if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) {
        throw validation('modelUnits', units, 'Member must have value greater than or equal to 1');
      }
      modelUnits = units;
      const term = optionalString(b, 'commitmentDuration');
      if (term !== undefined && term !== 'OneMonth' && term !== 'SixMonths') {
        throw validation(
          'commitmentDuration',
          term,
          'Member must satisfy enum value set: [OneMonth, SixMonths]',
        );
      }
    }
    if (model.modelKmsKeyArn) await this.host.checkModelKey(model.modelKmsKeyArn);
    const tags = parseTags(b['tags'], 'tags');
    const resource = kind === 'deployment' ? 'custom-model-deployment' : 'provisioned-model';
    const arn = `arn:aws:bedrock:${this.host.region}:${this.host.accountId}:${resource}/${newId()}`;
    const description = optionalString(b, 'description');
    this.records.set(arn, {
      kind,
      arn,
      name,
      modelArn: model.modelArn,
      baseModelId: model.baseModelId,
      createdAt: Date.now(),
      ...(modelUnits !== undefined ? { modelUnits } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(token !== undefined ? { clientRequestToken: token } : {}),
    });
    if (tags.length > 0) this.host.setTags(arn, tags);
    return arn;
  }

  /** The ARN an identifier (name or ARN) names, for IAM: a pattern ARN when nothing matches. */
  arnOf(kind: DeploymentRecord['kind'], identifier: string): string {
    if (identifier.startsWith('arn:')) return identifier;
    const r = [...this.records.values()].find((x) => x.kind === kind && x.name === identifier);
    const type = kind === 'deployment' ? 'custom-model-deployment' : 'provisioned-model';
    return r?.arn ?? `arn:aws:bedrock:${this.host.region}:${this.host.accountId}:${type}/${identifier}`;
  }

  private find(kind: DeploymentRecord['kind'], identifier: string): DeploymentRecord {
    const r = this.records.get(identifier) ?? [...this.records.values()].find((x) => x.name === identifier);
    if (!r || r.kind !== kind) {
      const what = kind === 'deployment' ? 'Custom model deployment' : 'Provisioned model';
      throw new AwsError('ResourceNotFoundException', `${what} ${identifier} was not found.`, 404);
    }
    return r;
  }

  private ready(r: DeploymentRecord): boolean {
    return Date.now() - r.createdAt >= this.host.readyAfterMs();
  }

  private deploymentView(r: DeploymentRecord) {
    return {
      customModelDeploymentArn: r.arn,
      modelDeploymentName: r.name,
      modelArn: r.modelArn,
      createdAt: iso(r.createdAt),
      status: this.ready(r) ? 'Active' : 'Creating',
      lastUpdatedAt: iso(r.createdAt),
      ...(r.description !== undefined ? { description: r.description } : {}),
    };
  }

  private provisionedView(r: DeploymentRecord) {
    return {
      modelUnits: r.modelUnits ?? 1,
      desiredModelUnits: r.modelUnits ?? 1,
      provisionedModelName: r.name,
      provisionedModelArn: r.arn,
      modelArn: r.modelArn,
      desiredModelArn: r.modelArn,
      foundationModelArn: `arn:aws:bedrock:${this.host.region}::foundation-model/${r.baseModelId}`,
      status: this.ready(r) ? 'InService' : 'Creating',
      creationTime: iso(r.createdAt),
      lastModifiedTime: iso(r.createdAt),
    };
  }

  private list(kind: DeploymentRecord['kind'], query: URLSearchParams) {
    const modelArn = query.get('modelArnEquals');
    const nameContains = query.get('nameContains');
    const status = query.get('statusEquals');
    const after = timeFilter(query, kind === 'deployment' ? 'createdAfter' : 'creationTimeAfter');
    const before = timeFilter(query, kind === 'deployment' ? 'createdBefore' : 'creationTimeBefore');
    const descending = (query.get('sortOrder') ?? 'Descending') !== 'Ascending';
    const items = [...this.records.values()]
      .filter((r) => r.kind === kind)
      .filter((r) => modelArn === null || r.modelArn === modelArn)
      .filter((r) => nameContains === null || r.name.includes(nameContains))
      .filter((r) => after === undefined || r.createdAt > after)
      .filter((r) => before === undefined || r.createdAt < before)
      .sort((x, y) => (descending ? y.createdAt - x.createdAt : x.createdAt - y.createdAt))
      .map((r) => {
        if (kind === 'provisioned') return this.provisionedView(r);
        const v = this.deploymentView(r);
        return {
          customModelDeploymentArn: v.customModelDeploymentArn,
          customModelDeploymentName: v.modelDeploymentName,
          modelArn: v.modelArn,
          createdAt: v.createdAt,
          status: v.status,
          lastUpdatedAt: v.lastUpdatedAt,
        };
      })
      .filter((v) => status === null || v.status === status);
    const { page, nextToken } = paginate(items, query);
    const key = kind === 'deployment' ? 'modelDeploymentSummaries' : 'provisionedModelSummaries';
    return nextToken ? { [key]: page, nextToken } : { [key]: page };
  }

  snapshot(): DeploymentSnapshot {
    return { records: [...this.records.values()].map((r) => ({ ...r })) };
  }

  restore(snap: DeploymentSnapshot | undefined): void {
    this.records = new Map((snap?.records ?? []).map((r) => [r.arn, { ...r }]));
  }
}
