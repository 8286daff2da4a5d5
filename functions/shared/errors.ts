/**
 * Every error a state can raise. The class name is the error code Step Functions sees
 * (Lambda reports `errorType` = `error.name`), and the ASL matches these names exactly.
 */

abstract class TuneVaultError extends Error {
  abstract override readonly name: string;
}

/** The S3 event or the dataset's sidecar is not something TuneVault can run. */
export class InvalidInputError extends TuneVaultError {
  override readonly name = 'InvalidInputError';
}

export interface BucketRuleViolation {
  bucket: string;
  rule: string;
  detail: string;
}

/** A training or output bucket (or the object itself) breaks an encryption or exposure rule. */
export class BucketNotCompliantError extends TuneVaultError {
  override readonly name = 'BucketNotCompliantError';
  constructor(readonly violations: BucketRuleViolation[]) {
    super(
      `Bucket not compliant: ${violations.map((v) => `[${v.rule}] s3://${v.bucket}: ${v.detail}`).join('; ')}`,
    );
  }
}

/** The configured or aliased key exists but cannot protect a custom model. */
export class KeyNotUsableError extends TuneVaultError {
  override readonly name = 'KeyNotUsableError';
}

/** The key policy could not be read or brought to the required statements. */
export class KeyPolicyError extends TuneVaultError {
  override readonly name = 'KeyPolicyError';
}

/** The training data is malformed for the base model's format or limits. */
export class InvalidTrainingDataError extends TuneVaultError {
  override readonly name = 'InvalidTrainingDataError';
}

/** The data guard found secrets or personal data at or above the blocking severity. */
export class SensitiveDataError extends TuneVaultError {
  override readonly name = 'SensitiveDataError';
}

/** Bedrock refused the customization job for a reason retrying will not fix. */
export class JobSubmissionError extends TuneVaultError {
  override readonly name = 'JobSubmissionError';
}

/** The customization job ended Failed or Stopped. */
export class CustomizationJobFailedError extends TuneVaultError {
  override readonly name = 'CustomizationJobFailedError';
}

/** The custom model is not encrypted with our customer managed key. */
export class ModelNotCompliantError extends TuneVaultError {
  override readonly name = 'ModelNotCompliantError';
}

/** The opted-in deployment of a tagged model (on demand or provisioned) could not be created. */
export class DeploymentError extends TuneVaultError {
  override readonly name = 'DeploymentError';
}

/** Error names the state machine may match, by who raises them. */
export const STEP_ERROR_NAMES = [
  'InvalidInputError',
  'BucketNotCompliantError',
  'KeyNotUsableError',
  'KeyPolicyError',
  'InvalidTrainingDataError',
  'SensitiveDataError',
  'JobSubmissionError',
  'CustomizationJobFailedError',
  'ModelNotCompliantError',
  'DeploymentError',
] as const;

/** AWS errors the gateways let bubble unchanged and the ASL retries on. */
export const RETRIED_AWS_ERROR_NAMES = ['ThrottlingException', 'ServiceQuotaExceededException'] as const;

/**
 * Server-side AWS errors (5xx) of the services the steps call, by the names the SDK gives them.
 * The SDK already retries these (3 attempts); the ASL retries the step when the SDK gives up,
 * so a short outage delays a run instead of failing it.
 */
export const TRANSIENT_AWS_ERROR_NAMES = [
  'InternalServerException', // Bedrock
  'ServiceUnavailableException', // Bedrock
  'KMSInternalException',
  'DependencyTimeoutException', // KMS
  'InternalError', // S3
  'ServiceUnavailable', // S3
  'SlowDown', // S3
  'InternalServerError', // DynamoDB
  'ProvisionedThroughputExceededException', // DynamoDB
  'RequestLimitExceeded', // DynamoDB
  'InternalException', // EventBridge
] as const;
