/** SDK clients for the CLI: the embedded AWS by endpoint, or real AWS by the usual credentials. */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface CliClients {
  endpoint?: string;
  s3: S3Client;
  sfn: SFNClient;
  bedrock: BedrockClient;
  kms: KMSClient;
  dynamo: DynamoDBDocumentClient;
}

export function cliClients(endpoint = process.env.AWS_ENDPOINT_URL): CliClients {
  const base = endpoint
    ? {
        endpoint,
        region: process.env.AWS_REGION ?? 'us-east-1',
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
          ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
        },
      }
    : {};
  return {
    ...(endpoint ? { endpoint } : {}),
    s3: new S3Client({ ...base, forcePathStyle: Boolean(endpoint) }),
    sfn: new SFNClient(base),
    bedrock: new BedrockClient(base),
    kms: new KMSClient(base),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient(base)),
  };
}

export interface StackInfo {
  stateMachineArn: string;
  trainingBucket: string;
  trainingPrefix: string;
  outputBucket: string;
  admissionTable?: string;
}

/** Asynchronous invocations (the S3 trigger) the embedded AWS gave up on; [] when the endpoint is not one. */
export async function embeddedTriggerFailures(
  endpoint: string,
): Promise<{ functionArn: string; error: string }[]> {
  try {
    const res = await fetch(new URL('/_tunevault/lambda/failures', endpoint));
    if (!res.ok) return [];
    return ((await res.json()) as { failures: { functionArn: string; error: string }[] }).failures;
  } catch {
    return [];
  }
}

/** The embedded AWS describes its stack at /_tunevault/stack; undefined when the endpoint is not one. */
export async function embeddedStack(endpoint: string): Promise<StackInfo | undefined> {
  try {
    const res = await fetch(new URL('/_tunevault/stack', endpoint));
    if (!res.ok) return undefined;
    return (await res.json()) as StackInfo;
  } catch {
    return undefined;
  }
}
