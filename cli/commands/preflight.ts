/**
 * `tunevault preflight`: read-only checks of what a deploy and its runs need, against real AWS
 * (the usual credentials) or the embedded AWS (--endpoint): the Region and base model can be
 * customized (the catalog, then ListFoundationModels byCustomizationType), the concurrent-job
 * quota, the configured role ARNs exist, the buckets' encryption and exposure, the key's state.
 * Every failed line says how to fix it; the exit status is non-zero when one fails.
 * Nothing is created or changed.
 */
import {
  GetFoundationModelCommand,
  ListFoundationModelsCommand,
  ListModelCustomizationJobsCommand,
  type ModelCustomization,
} from '@aws-sdk/client-bedrock';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { BEDROCK_JOB_QUOTA } from '../../functions/shared/admission';
import { KmsGateway } from '../../functions/shared/aws/kms';
import { QuotasGateway } from '../../functions/shared/aws/quotas';
import { S3Gateway } from '../../functions/shared/aws/s3';
import {
  customizableIn,
  type JobDefaults,
  JobSpecError,
  resolveJobSpec,
} from '../../functions/shared/catalog/job-spec';
import { CUSTOMIZATION_TYPES, type CustomizationTypeName } from '../../functions/shared/catalog';
import { DEPLOY_MODES, type DeployMode } from '../../functions/shared/types';
import { unusableReason } from '../../functions/ensure-customer-managed-key/core';
import { checkBucket, type RequiredEncryption } from '../../functions/validate-bucket-encryption/core';
import { printServerlessConfig } from '../../local/stack';
import { type CliClients, cliClients, endpointOption } from '../lib/clients';
import { printableLines } from '../lib/text';
import { parseCommandArgs, UsageError } from '../lib/usage';

const HELP = `tunevault preflight [--stage dev] [--param name=value]... [--region R] [--endpoint URL] [--json]
  Read-only checks before deploying or dropping data: the Region and base model can be customized
  (TuneVault's model catalog, then ListFoundationModels), the concurrent-job quota, the configured
  role ARNs exist, the buckets' encryption, Block Public Access and TLS-only policy, the key's
  state. The stage settings come from serverless.yml with the same --stage and --param as a deploy.
  Real AWS by default (the usual credentials); the embedded AWS with --endpoint or AWS_ENDPOINT_URL.

Exit status: 0 every check passed (warnings allowed), 1 a check failed, 64 usage error.`;

export type CheckStatus = 'pass' | 'fail' | 'warn';

export interface Check {
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to change when the check failed (or warns). */
  fix?: string;
}

export interface PreflightSettings {
  region: string;
  job: JobDefaults;
  trainingBucket: string;
  createTrainingBucket: boolean;
  outputBucket: string;
  createOutputBucket: boolean;
  requiredEncryption: RequiredEncryption;
  keyAlias: string;
  keyArn?: string;
  builderRoleArns: string[];
  userRoleArns: string[];
}

export interface PreflightClients extends CliClients {
  iam: IAMClient;
  quotas: ServiceQuotasClient;
}

const csv = (s: unknown) =>
  String(s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The stage's settings as a deploy with these --stage/--param would resolve them. */
export function settingsFrom(params: Record<string, unknown>, region: string): PreflightSettings {
  const str = (k: string) => String(params[k] ?? '');
  let hyperParameters: Record<string, string> = {};
  try {
    hyperParameters = JSON.parse(str('hyperParameters') || '{}') as Record<string, string>;
  } catch {
    throw new UsageError(`the stage parameter hyperParameters is not JSON: ${str('hyperParameters')}`);
  }
  const type = str('customizationType') || 'FINE_TUNING';
  if (!(CUSTOMIZATION_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(
      `the stage parameter customizationType '${type}' is not one of ${CUSTOMIZATION_TYPES.join(', ')}`,
    );
  }
  const deploy = str('deploy') || 'none';
  if (!(DEPLOY_MODES as readonly string[]).includes(deploy)) {
    throw new UsageError(`the stage parameter deploy '${deploy}' is not one of ${DEPLOY_MODES.join(', ')}`);
  }
  const subnets = csv(params['vpcSubnetIds']);
  const groups = csv(params['vpcSecurityGroupIds']);
  const expiry = Number(str('provisionedExpiryHours'));
  return {
    region,
    job: {
      region,
      baseModelId: str('baseModelId'),
      customizationType: type as CustomizationTypeName,
      hyperParameters,
      ...(subnets.length > 0 || groups.length > 0
        ? { vpc: { subnetIds: subnets, securityGroupIds: groups } }
        : {}),
      rftGraderLambdaArns: csv(params['rftGraderLambdaArns']),
      deploy: deploy as DeployMode,
      provisionedModelUnits: Number(str('provisionedModelUnits') || '1'),
      ...(expiry > 0 ? { provisionedExpiryHours: expiry } : {}),
    },
    trainingBucket: str('trainingBucketName'),
    createTrainingBucket: str('createTrainingBucket') !== 'false',
    outputBucket: str('outputBucketName'),
    createOutputBucket: str('createOutputBucket') !== 'false',
    requiredEncryption: str('requiredEncryption') === 'AES256' ? 'AES256' : 'aws:kms',
    keyAlias: str('keyAlias'),
    ...(str('keyArn') ? { keyArn: str('keyArn') } : {}),
    builderRoleArns: csv(params['builderRoleArns']),
    userRoleArns: csv(params['userRoleArns']),
  };
}

const errorName = (err: unknown) => (err instanceof Error ? err.name : 'Error');
const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** The embedded AWS answers services it does not emulate with this; such checks become warnings. */
function notServed(err: unknown): boolean {
  return /does not serve/.test(err instanceof Error ? err.message : '');
}

function checkRegionAndJob(s: PreflightSettings): Check[] {
  const here = customizableIn(s.region);
  const out: Check[] = [
    here.length > 0
      ? {
          check: 'region',
          status: 'pass',
          detail: `${s.region}: ${here.map((x) => `${x.model.name} (${x.types.join(', ')})`).join('; ')}`,
        }
      : {
          check: 'region',
          status: 'fail',
          detail: `TuneVault's model catalog lists no customizable model in ${s.region}`,
          fix: 'deploy in us-east-1 (Nova) or us-west-2 (Claude 3 Haiku, Llama): serverless deploy --region …',
        },
  ];
  try {
    const spec = resolveJobSpec({}, s.job);
    out.push({
      check: 'job settings',
      status: 'pass',
      detail: `${spec.customizationType} of ${spec.baseModelId} (${spec.modelName}), records in ${spec.format}, hyper-parameters ${JSON.stringify(spec.hyperParameters)}, deploy ${spec.deploy.mode}`,
    });
  } catch (err) {
    if (!(err instanceof JobSpecError)) throw err;
    for (const p of err.problems) out.push({ check: 'job settings', status: 'fail', detail: p, fix: p });
  }
  return out;
}

async function checkModelOffered(c: PreflightClients, s: PreflightSettings): Promise<Check> {
  let spec: ReturnType<typeof resolveJobSpec>;
  try {
    spec = resolveJobSpec({}, s.job);
  } catch {
    return {
      check: 'base model offered',
      status: 'warn',
      detail: 'skipped: the job settings are not valid (above)',
    };
  }
  const fix = `enable access to ${spec.modelName} in the Amazon Bedrock console (Model access) in ${s.region}, or set the stage parameter baseModelId to a model this account can customize there`;
  try {
    if (spec.customizationType === 'REINFORCEMENT_FINE_TUNING') {
      // ListFoundationModels cannot filter on it (botocore ModelCustomization): look the model up.
      await c.bedrock.send(new GetFoundationModelCommand({ modelIdentifier: spec.baseModelId }));
      return {
        check: 'base model offered',
        status: 'pass',
        detail: `${spec.baseModelId} is available in ${s.region}`,
      };
    }
    const list = await c.bedrock.send(
      new ListFoundationModelsCommand({ byCustomizationType: spec.customizationType as ModelCustomization }),
    );
    const ids = (list.modelSummaries ?? []).map((m) => m.modelId);
    return ids.includes(spec.baseModelId)
      ? {
          check: 'base model offered',
          status: 'pass',
          detail: `ListFoundationModels byCustomizationType=${spec.customizationType} lists ${spec.baseModelId}`,
        }
      : {
          check: 'base model offered',
          status: 'fail',
          detail: `ListFoundationModels byCustomizationType=${spec.customizationType} in ${s.region} does not list ${spec.baseModelId} (it lists ${ids.join(', ') || 'nothing'})`,
          fix,
        };
  } catch (err) {
    return { check: 'base model offered', status: 'fail', detail: errorText(err), fix };
  }
}

async function checkQuota(c: PreflightClients, s: PreflightSettings): Promise<Check> {
  let running = 0;
  try {
    const jobs = await c.bedrock.send(
      new ListModelCustomizationJobsCommand({ statusEquals: 'InProgress', maxResults: 1000 }),
    );
    running = jobs.modelCustomizationJobSummaries?.length ?? 0;
  } catch (err) {
    return { check: 'job quota', status: 'warn', detail: `could not count running jobs: ${errorText(err)}` };
  }
  // By its code, as admitJob reads it: the quota's name, "(Model customization) Scheduled
  // customization jobs", is the Service Quotas listing's, not a documented contract.
  const { serviceCode, quotaCode } = BEDROCK_JOB_QUOTA;
  const name = `(Model customization) Scheduled customization jobs, ${serviceCode}/${quotaCode}`;
  try {
    const limit = await new QuotasGateway(c.quotas).quotaValue(serviceCode, quotaCode);
    if (limit === undefined) {
      return {
        check: 'job quota',
        status: 'warn',
        detail: `${running} job(s) in progress; Service Quotas has no value for ${name} in ${s.region}`,
        fix: 'check the Amazon Bedrock quotas in the Service Quotas console',
      };
    }
    return running < limit
      ? {
          check: 'job quota',
          status: 'pass',
          detail: `${running} job(s) in progress, quota ${name} = ${limit}`,
        }
      : {
          check: 'job quota',
          status: 'fail',
          detail: `${running} job(s) in progress reach the quota (${name} = ${limit}): a new job would wait or be refused`,
          fix: 'wait for running jobs to end, stop one (StopModelCustomizationJob), or request a quota increase in Service Quotas',
        };
  } catch (err) {
    return {
      check: 'job quota',
      status: 'warn',
      detail: `${running} job(s) in progress; the quota could not be read (${notServed(err) ? 'Service Quotas is not served by this endpoint' : errorText(err)})`,
    };
  }
}

async function checkRoles(c: PreflightClients, s: PreflightSettings): Promise<Check[]> {
  const roles = [
    ...s.builderRoleArns.map((arn) => ({ arn, param: 'builderRoleArns' })),
    ...s.userRoleArns.map((arn) => ({ arn, param: 'userRoleArns' })),
  ];
  if (roles.length === 0) {
    return [
      {
        check: 'roles',
        status: 'pass',
        detail: 'no builderRoleArns or userRoleArns configured (the stack creates its own roles)',
      },
    ];
  }
  return Promise.all(
    roles.map(async ({ arn, param }): Promise<Check> => {
      const name = /:role\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];
      if (!name) {
        return {
          check: `role ${arn}`,
          status: 'fail',
          detail: 'not an IAM role ARN',
          fix: `fix it in the stage parameter ${param}`,
        };
      }
      try {
        await c.iam.send(new GetRoleCommand({ RoleName: name }));
        return { check: `role ${arn}`, status: 'pass', detail: `exists (${param})` };
      } catch (err) {
        if (errorName(err) === 'NoSuchEntityException' || errorName(err) === 'NoSuchEntity') {
          return {
            check: `role ${arn}`,
            status: 'fail',
            detail: `does not exist (${param})`,
            fix: `create the role, or remove it from the stage parameter ${param}`,
          };
        }
        return {
          check: `role ${arn}`,
          status: 'warn',
          detail: notServed(err)
            ? 'IAM is not served by this endpoint: not checked'
            : `could not be read: ${errorText(err)}`,
        };
      }
    }),
  );
}

async function checkBuckets(c: PreflightClients, s: PreflightSettings): Promise<Check[]> {
  const s3 = new S3Gateway(c.s3);
  const out: Check[] = [];
  for (const [label, bucket, created, param] of [
    ['training bucket', s.trainingBucket, s.createTrainingBucket, 'trainingBucketName'],
    ['output bucket', s.outputBucket, s.createOutputBucket, 'outputBucketName'],
  ] as const) {
    let rules: Awaited<ReturnType<typeof checkBucket>>;
    try {
      rules = await checkBucket(bucket, s.requiredEncryption, s3);
    } catch (err) {
      if (errorName(err) === 'NoSuchBucket') {
        out.push(
          created
            ? {
                check: `${label} ${bucket}`,
                status: 'pass',
                detail: 'does not exist yet: the stack creates it, hardened',
              }
            : {
                check: `${label} ${bucket}`,
                status: 'fail',
                detail: 'does not exist, and the stack is told to use an existing one',
                fix: `create it, set the stage parameter ${param} to one that exists, or let the stack create it (create${param.startsWith('training') ? 'Training' : 'Output'}Bucket=true)`,
              },
        );
        continue;
      }
      out.push({
        check: `${label} ${bucket}`,
        status: 'fail',
        detail: errorText(err),
        fix: 'check that these credentials may read the bucket configuration',
      });
      continue;
    }
    for (const r of rules) {
      out.push(
        r.passed
          ? { check: `${label} ${bucket}: ${r.rule}`, status: 'pass', detail: r.detail }
          : { check: `${label} ${bucket}: ${r.rule}`, status: 'fail', detail: r.detail, fix: r.detail },
      );
    }
  }
  return out;
}

async function checkKey(c: PreflightClients, s: PreflightSettings): Promise<Check[]> {
  const kms = new KmsGateway(c.kms);
  const id = s.keyArn ?? s.keyAlias;
  const label = s.keyArn ? `key ${s.keyArn} (keyArn)` : `key ${s.keyAlias}`;
  let key: Awaited<ReturnType<KmsGateway['describeKey']>>;
  try {
    key = await kms.describeKey(id);
  } catch (err) {
    return [
      {
        check: label,
        status: 'fail',
        detail: errorText(err),
        fix: 'check that these credentials may describe the key',
      },
    ];
  }
  if (!key) {
    return [
      s.keyArn
        ? {
            check: label,
            status: 'fail',
            detail: 'does not exist or is not visible to this account',
            fix: 'fix the stage parameter keyArn, or leave it empty so the workflow creates a key under keyAlias',
          }
        : {
            check: label,
            status: 'pass',
            detail: 'no key under the alias yet: the first run creates it (rotation on)',
          },
    ];
  }
  const reason = unusableReason(key);
  if (reason) {
    return [
      { check: label, status: 'fail', detail: `${key.keyArn} ${reason}`, fix: `${key.keyArn} ${reason}` },
    ];
  }
  const rotating = await kms.isRotationEnabled(key.keyId).catch(() => undefined);
  return [
    { check: label, status: 'pass', detail: `${key.keyArn}: enabled, symmetric, customer managed` },
    rotating === false
      ? {
          check: `${label}: rotation`,
          status: 'fail',
          detail: 'automatic rotation is off',
          fix: `aws kms enable-key-rotation --key-id ${key.keyId}`,
        }
      : {
          check: `${label}: rotation`,
          status: rotating ? 'pass' : 'warn',
          detail: rotating ? 'automatic rotation is on' : 'rotation status could not be read',
        },
  ];
}

export async function preflight(c: PreflightClients, s: PreflightSettings): Promise<Check[]> {
  const [offered, quota, roles, buckets, key] = await Promise.all([
    checkModelOffered(c, s),
    checkQuota(c, s),
    checkRoles(c, s),
    checkBuckets(c, s),
    checkKey(c, s),
  ]);
  return [...checkRegionAndJob(s), offered, quota, ...roles, ...buckets, ...key];
}

const MARK: Record<CheckStatus, string> = { pass: '✔', fail: '✘', warn: '!' };

export function formatChecks(checks: Check[]): string {
  const lines = checks.map((c) => {
    const head = `${MARK[c.status]} ${c.check}: ${c.detail}`;
    return c.status !== 'pass' && c.fix && c.fix !== c.detail ? `${head}\n    fix: ${c.fix}` : head;
  });
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  lines.push(
    '',
    failed === 0
      ? `Ready: ${checks.length} checks, ${warned} warning(s).`
      : `${failed} check(s) failed: fix them before deploying or dropping data.`,
  );
  return lines.join('\n');
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('preflight', {
    args,
    strict: true,
    options: {
      stage: { type: 'string', default: 'dev' },
      param: { type: 'string', multiple: true },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const params: Record<string, string> = {};
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=');
    if (eq < 1) throw new UsageError(`--param '${p}' is not name=value.`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const endpoint = endpointOption(values.endpoint);
  const region = values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  process.env.AWS_REGION = region;
  let settings: PreflightSettings;
  try {
    const config = await printServerlessConfig(values.stage, params);
    const defaults = ((config.params as Record<string, Record<string, unknown>> | undefined)?.['default'] ??
      {}) as Record<string, unknown>;
    settings = settingsFrom({ ...defaults, ...params }, region);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
  const base = cliClients(endpoint);
  const cfg = endpoint
    ? {
        endpoint,
        region,
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
        },
      }
    : { region };
  const clients: PreflightClients = {
    ...base,
    iam: new IAMClient(cfg),
    quotas: new ServiceQuotasClient(cfg),
  };
  const checks = await preflight(clients, settings);
  // Names and AWS messages in the checks come from the account: shown with control characters escaped.
  console.log(
    values.json ? JSON.stringify({ region, checks }, null, 2) : printableLines(formatChecks(checks)),
  );
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
