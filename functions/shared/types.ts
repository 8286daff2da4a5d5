/**
 * The run's state as it moves through the state machine. Each step parses the part it needs
 * (zod strips the rest), and each step's result lands under its own ResultPath.
 */
import * as z from 'zod';
import { SEVERITIES } from './guard/types';

export const severitySchema = z.enum(SEVERITIES);

/** How a run ended, as the notification and the metrics name it. */
export const RUN_OUTCOMES = ['completed', 'failed', 'remediated'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export const sourceObjectSchema = z.object({
  bucket: z.string().min(3),
  key: z.string().min(1),
  versionId: z.string().min(1).optional(),
  etag: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
});
export type SourceObject = z.infer<typeof sourceObjectSchema>;

/** Bedrock takes hyper-parameter values as strings; a sidecar may write numbers. */
const hyperParameterValues = z
  .record(z.string(), z.union([z.string(), z.number()]))
  .transform((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])));

/**
 * Bedrock's CustomizationConfig (botocore bedrock 2023-04-20): a union, so at most one member;
 * which one a job needs is checked against the catalog (catalog/job-spec.ts).
 */
export const customizationConfigSchema = z
  .object({
    distillationConfig: z
      .object({
        teacherModelConfig: z
          .object({
            teacherModelIdentifier: z.string().min(1),
            maxResponseLengthForInference: z.number().int().min(1).optional(),
          })
          .strict(),
      })
      .strict()
      .optional(),
    rftConfig: z
      .object({
        graderConfig: z
          .object({ lambdaGrader: z.object({ lambdaArn: z.string().min(1) }).strict() })
          .strict(),
        hyperParameters: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type CustomizationConfigOption = z.infer<typeof customizationConfigSchema>;

export const vpcConfigSchema = z
  .object({
    subnetIds: z.array(z.string().min(1)).min(1).max(16),
    securityGroupIds: z.array(z.string().min(1)).min(1).max(5),
  })
  .strict();
export type VpcConfigOption = z.infer<typeof vpcConfigSchema>;

export const DEPLOY_MODES = ['none', 'on-demand', 'provisioned'] as const;
export type DeployMode = (typeof DEPLOY_MODES)[number];

/** Optional `<name>.job.json` beside the data: per-dataset overrides. Unknown fields are refused. */
export const datasetOptionsSchema = z
  .object({
    baseModelId: z.string().min(1).optional(),
    customizationType: z
      .enum(['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION', 'REINFORCEMENT_FINE_TUNING'])
      .optional(),
    /** Replaces the stage's hyper-parameters for this dataset; see catalog/job-spec.ts. */
    hyperParameters: hyperParameterValues.optional(),
    customizationConfig: customizationConfigSchema.optional(),
    vpcConfig: vpcConfigSchema.optional(),
    /** After tagging: none, an on-demand custom model deployment, or Provisioned Throughput. */
    deploy: z.enum(DEPLOY_MODES).optional(),
    provisioned: z
      .object({
        modelUnits: z.number().int().min(1).optional(),
        /** Hours after which the scheduled cleanup deletes the Provisioned Throughput. */
        expiresInHours: z
          .number()
          .positive()
          .max(24 * 366)
          .optional(),
      })
      .strict()
      .optional(),
    /** Key of the validation data in the training bucket. */
    validationKey: z.string().min(1).optional(),
    dataPolicy: z
      .object({
        policy: z.enum(['block', 'redact', 'report']).optional(),
        blockAtOrAbove: severitySchema.optional(),
        allow: z.array(z.string()).max(200).optional(),
      })
      .strict()
      .optional(),
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
  })
  .strict();
export type DatasetOptions = z.infer<typeof datasetOptionsSchema>;

/** What startCustomization hands the state machine. */
export const runInputSchema = z.object({
  source: sourceObjectSchema,
  dataset: datasetOptionsSchema.default({}),
});
export type RunInput = z.infer<typeof runInputSchema>;

export const ruleResultSchema = z.object({
  bucket: z.string(),
  rule: z.string(),
  passed: z.boolean(),
  detail: z.string(),
});
export type RuleResult = z.infer<typeof ruleResultSchema>;

export const keyResultSchema = z.object({
  keyArn: z.string().startsWith('arn:'),
  keyId: z.string(),
  alias: z.string().optional(),
  created: z.boolean(),
  /** The key a bootstrap holder that died had created, taken over by this run. */
  adopted: z.boolean().optional(),
  policyChanged: z.boolean(),
  statementsAdded: z.array(z.string()),
});
export type KeyResult = z.infer<typeof keyResultSchema>;

export const scanSummarySchema = z.object({
  verdict: z.enum(['pass', 'redact', 'block', 'invalid']),
  records: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
  totalFindings: z.number().int().nonnegative(),
  bySeverity: z.record(z.string(), z.number()),
  byType: z.record(z.string(), z.number()),
  /** The data the job trains on: a copy of the version scanned, or its redacted copy. */
  trainingS3Uri: z.string().startsWith('s3://'),
  reportS3Uri: z.string().startsWith('s3://'),
  /** The sidecar's validation data, judged the same way; the job validates on this copy. */
  validation: z
    .object({
      verdict: z.enum(['pass', 'redact']),
      records: z.number().int().nonnegative(),
      totalFindings: z.number().int().nonnegative(),
      s3Uri: z.string().startsWith('s3://'),
      reportS3Uri: z.string().startsWith('s3://'),
    })
    .optional(),
});
export type ScanSummary = z.infer<typeof scanSummarySchema>;

export const jobRefSchema = z.object({
  jobArn: z.string().startsWith('arn:'),
  jobName: z.string(),
  customModelName: z.string(),
  clientRequestToken: z.string(),
  baseModelId: z.string(),
  customizationType: z.string().optional(),
});
export type JobRef = z.infer<typeof jobRefSchema>;

export const jobStatusSchema = z.enum(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']);
export type JobStatus = z.infer<typeof jobStatusSchema>;

/** What WaitForJob resumes with (from the event or the poll) and CheckCustomizationJob returns. */
export const jobResultSchema = z.object({
  status: jobStatusSchema,
  jobArn: z.string(),
  outputModelArn: z.string().optional(),
  failureMessage: z.string().optional(),
  resumedBy: z.enum(['event', 'poll', 'register']),
});
export type JobResult = z.infer<typeof jobResultSchema>;

/** Catch writes `{Error, Cause}` here. */
export const stateErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
