/**
 * Environment, read once per handler module and failing fast with the variable's name.
 * Each handler picks the variables it needs from `vars`, so a function never depends on
 * settings it does not use.
 */
import * as z from 'zod';
import { CUSTOMIZATION_TYPES, DEFAULT_BASE_MODEL_ID } from './catalog';
import type { JobDefaults } from './catalog/job-spec';
import { SEVERITIES } from './guard/types';
import { DEPLOY_MODES } from './types';

const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

const roleArnList = csv.pipe(
  z.array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/, 'must be IAM role or user ARNs')),
);

export const vars = {
  AWS_REGION: z.string().min(1),
  ACCOUNT_ID: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  STAGE: z.string().min(1).default('dev'),
  /** `<service>-<stage>`, the tag value that marks what this stack provisioned. */
  STACK_NAME: z.string().min(1).default('tunevault-dev'),
  TRAINING_BUCKET: z.string().min(3),
  TRAINING_PREFIX: z.string().default('training/'),
  TRAINING_SUFFIX: z.string().default('.jsonl'),
  OUTPUT_BUCKET: z.string().min(3),
  OUTPUT_PREFIX: z.string().default('output/'),
  STATE_MACHINE_ARN: z.string().startsWith('arn:'),
  TASK_TOKEN_TABLE: z.string().min(3),
  BEDROCK_ROLE_ARN: z.string().startsWith('arn:'),
  BASE_MODEL_ID: z.string().min(1).default(DEFAULT_BASE_MODEL_ID),
  CUSTOMIZATION_TYPE: z.enum(CUSTOMIZATION_TYPES).default('FINE_TUNING'),
  HYPER_PARAMETERS: z
    .string()
    .default('{}')
    .transform((s, ctx) => {
      try {
        return z.record(z.string(), z.string()).parse(JSON.parse(s));
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a JSON object of string values, e.g. {"epochCount":"2"}',
        });
        return z.NEVER;
      }
    }),
  VPC_SUBNET_IDS: csv,
  VPC_SECURITY_GROUP_IDS: csv,
  RFT_GRADER_LAMBDA_ARNS: csv,
  DEPLOY_MODE: z.enum(DEPLOY_MODES).default('none'),
  PROVISIONED_MODEL_UNITS: z.coerce.number().int().min(1).default(1),
  /** Empty: no default expiry, so a provisioned deploy must set one in its sidecar. */
  PROVISIONED_EXPIRY_HOURS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      if (s.trim() === '') return undefined;
      const n = Number(s);
      if (!(n > 0)) {
        ctx.addIssue({ code: 'custom', message: 'must be a positive number of hours or empty' });
        return z.NEVER;
      }
      return n;
    }),
  KEY_ALIAS: z.string().startsWith('alias/').default('alias/tunevault'),
  KEY_ARN: z
    .string()
    .default('')
    .refine((s) => s === '' || s.startsWith('arn:'), 'must be a KMS key ARN or empty'),
  KEY_BUILDER_ROLE_ARNS: roleArnList,
  KEY_USER_ROLE_ARNS: roleArnList,
  REQUIRED_ENCRYPTION: z.enum(['aws:kms', 'AES256']).default('aws:kms'),
  DATA_POLICY: z.enum(['block', 'redact', 'report']).default('block'),
  DATA_BLOCK_SEVERITY: z.enum(SEVERITIES).default('high'),
  ADMISSION_TABLE: z.string().min(3),
  /** `auto`: the account's Bedrock quota (Service Quotas), else DEFAULT_MAX_CONCURRENT_JOBS. */
  MAX_CONCURRENT_JOBS: z
    .string()
    .default('auto')
    .refine(
      (s) => s === 'auto' || /^[1-9]\d{0,3}$/.test(s),
      "must be 'auto' or a whole number from 1 to 9999",
    )
    .transform((s) => (s === 'auto' ? ('auto' as const) : Number(s))),
  KEY_BOOTSTRAP: z.enum(['lease', 'alias-race']).default('lease'),
  KEY_LEASE_SECONDS: z.coerce.number().int().min(1).max(900).default(60),
  SLOT_LEASE_SECONDS: z.coerce.number().int().min(1).default(1800),
  QUOTA_RETRY_SECONDS: z.coerce.number().int().min(1).default(900),
  // Set by the Lambda runtime; 0 elsewhere (the embedded AWS runs handlers in its own process).
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number().int().min(0).default(0),
  TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(7 * 86_400),
} as const;

type Vars = typeof vars;
export type ConfigOf<K extends keyof Vars> = { [P in K]: z.output<Vars[P]> };

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Reads the named variables from `env`; throws one error listing every bad or missing variable. */
export function loadConfig<K extends keyof Vars>(
  names: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<K> {
  const shape = Object.fromEntries(names.map((n) => [n, vars[n]])) as { [P in K]: Vars[P] };
  const parsed = z.object(shape).safeParse(Object.fromEntries(names.map((n) => [n, env[n] || undefined])));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ');
    throw new ConfigurationError(
      `Invalid environment — ${problems}. Set these in serverless.yml (stage params) or the shell.`,
    );
  }
  return parsed.data as ConfigOf<K>;
}

/** The variables the job resolution reads (catalog/job-spec.ts): every step that resolves a job loads these. */
export const JOB_VARS = [
  'AWS_REGION',
  'BASE_MODEL_ID',
  'CUSTOMIZATION_TYPE',
  'HYPER_PARAMETERS',
  'VPC_SUBNET_IDS',
  'VPC_SECURITY_GROUP_IDS',
  'RFT_GRADER_LAMBDA_ARNS',
  'DEPLOY_MODE',
  'PROVISIONED_MODEL_UNITS',
  'PROVISIONED_EXPIRY_HOURS',
] as const;

export function jobDefaultsFrom(c: ConfigOf<(typeof JOB_VARS)[number]>): JobDefaults {
  const vpc =
    c.VPC_SUBNET_IDS.length > 0 || c.VPC_SECURITY_GROUP_IDS.length > 0
      ? { subnetIds: c.VPC_SUBNET_IDS, securityGroupIds: c.VPC_SECURITY_GROUP_IDS }
      : undefined;
  return {
    region: c.AWS_REGION,
    baseModelId: c.BASE_MODEL_ID,
    customizationType: c.CUSTOMIZATION_TYPE,
    hyperParameters: c.HYPER_PARAMETERS,
    ...(vpc ? { vpc } : {}),
    rftGraderLambdaArns: c.RFT_GRADER_LAMBDA_ARNS,
    deploy: c.DEPLOY_MODE,
    provisionedModelUnits: c.PROVISIONED_MODEL_UNITS,
    ...(c.PROVISIONED_EXPIRY_HOURS !== undefined
      ? { provisionedExpiryHours: c.PROVISIONED_EXPIRY_HOURS }
      : {}),
  };
}
