/**
 * AWS's public on-demand prices in US East (N. Virginia), as looked up on 2026-12-06 (free tiers
 * ignored). Sources: aws.amazon.com/lambda/pricing (Arm), /step-functions/pricing (Standard),
 * /kms/pricing, /s3/pricing (S3 Standard), /dynamodb/pricing/on-demand (the on-demand rates as
 * cut by 50% on 2024-11-01), /eventbridge/pricing. The README's cost table cites the same.
 */
export const USD = {
  /** Lambda, arm64, first 7.5 billion GB-seconds a month. */
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** Step Functions Standard. */
  stateTransition: 0.025 / 1000,
  /** KMS API requests (symmetric keys), and one customer managed key a month. */
  kmsRequest: 0.03 / 10_000,
  kmsKeyMonth: 1,
  /** S3 Standard: PUT, COPY, POST, LIST … and GET, HEAD, SELECT and all other requests. */
  s3Tier1Request: 0.005 / 1000,
  s3Tier2Request: 0.0004 / 1000,
  /** DynamoDB on-demand: per write request unit (≤ 1 KB) and read request unit (≤ 4 KB, strongly consistent). */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  /** EventBridge custom events (AWS services' own events, such as Bedrock's, are free). */
  eventBridgeEvent: 1 / 1e6,
} as const;

/** S3 bills PUT, COPY, POST and LIST at the first rate, the rest at the second. */
export function s3Tier(operation: string): 1 | 2 {
  return /^(Put|Copy|Post|List|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)/.test(operation)
    ? 1
    : 2;
}

const DYNAMO_WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

export function isDynamoWrite(operation: string): boolean {
  return DYNAMO_WRITES.has(operation);
}

export function usd(n: number): string {
  if (n === 0) return '$0';
  if (n >= 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toPrecision(2)}`;
}
