/**
 * Every error a state can raise. The class name is the error code Step Functions sees
 * (Lambda reports `errorType` = `error.name`), and the ASL matches these names exactly.
 */

import { type BucketFailureDetails, DetailedError, type GuardFailureDetails } from './step-failure';
import type { RuleResult } from './types';

abstract class TuneVaultError extends Error {
  abstract override readonly name: string;
}

/** The S3 event or the dataset's sidecar is not something TuneVault can run. */
export class InvalidInputError extends TuneVaultError {
  override readonly name = 'InvalidInputError';
}

/**
 * A training or output bucket (or the object itself) breaks an encryption or exposure rule. It
 * carries every rule evaluated, passed or not, as data (step-failure.ts); its summary lists the
 * broken ones.
 */
export class BucketNotCompliantError extends DetailedError<BucketFailureDetails> {
  override readonly name = 'BucketNotCompliantError';
  constructor(rules: RuleResult[]) {
    super(
      `Bucket not compliant: ${rules
        .filter((r) => !r.passed)
        .map((v) => `[${v.rule}] s3://${v.bucket}: ${v.detail}`)
        .join('; ')}`,
      { rules },
    );
  }

  get violations(): RuleResult[] {
    return this.details.rules.filter((r) => !r.passed);
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

/** The training data is malformed for the base model's format or limits (the guard's report as data). */
export class InvalidTrainingDataError extends DetailedError<GuardFailureDetails> {
  override readonly name = 'InvalidTrainingDataError';
}

/** The data guard found secrets or personal data at or above the blocking severity (count and report as data). */
export class SensitiveDataError extends DetailedError<GuardFailureDetails> {
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

/**
 * Another run holds the key-bootstrap lease and has not made the alias yet within this
 * invocation's time: the ASL retries the step, and the lease's TTL bounds how long a dead
 * holder can keep others waiting.
 */
export class KeyBootstrapInProgressError extends TuneVaultError {
  override readonly name = 'KeyBootstrapInProgressError';
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
  'KeyBootstrapInProgressError',
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
