/**
 * SDK clients, created once per process. Endpoints come from the standard AWS_ENDPOINT_URL(_*)
 * variables, which is how the embedded AWS is reached without a line of local-only code.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// A custom endpoint on a host name such as localhost cannot serve virtual-hosted buckets.
const pathStyle = Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

// One export per client, marked pure, so each function's bundle carries only the SDK clients
// its gateways use (an object of all seven would pull every client into every bundle).
export const s3Client = /* @__PURE__ */ once(() => new S3Client({ forcePathStyle: pathStyle }));
export const kmsClient = /* @__PURE__ */ once(() => new KMSClient({}));
export const bedrockClient = /* @__PURE__ */ once(() => new BedrockClient({}));
export const sfnClient = /* @__PURE__ */ once(() => new SFNClient({}));
export const dynamoClient = /* @__PURE__ */ once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
);
export const eventsClient = /* @__PURE__ */ once(() => new EventBridgeClient({}));
export const serviceQuotasClient = /* @__PURE__ */ once(() => new ServiceQuotasClient({}));
