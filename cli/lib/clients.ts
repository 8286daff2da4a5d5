/** SDK clients for the CLI: the embedded AWS by endpoint, or real AWS by the usual credentials. */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import http from 'node:http';
import https from 'node:https';
import {
  chosenEndpoint,
  EndpointUnreachableError,
  rememberEndpoint,
  UsageError,
  unreachableReason,
} from './usage';

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
    const answer = await getText(new URL('/_tunevault/lambda/failures', endpoint));
    if (answer.status !== 200) return [];
    return (JSON.parse(answer.body) as { failures: { functionArn: string; error: string }[] }).failures;
  } catch {
    return [];
  }
}

/** The endpoint a command talks to: --endpoint, else AWS_ENDPOINT_URL, else none (real AWS). */
export function endpointOption(flag: string | undefined): string | undefined {
  const endpoint = flag ?? process.env.AWS_ENDPOINT_URL;
  if (endpoint === undefined || endpoint === '') return undefined;
  rememberEndpoint({ url: endpoint, source: flag !== undefined ? 'flag' : 'env' });
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(
      `${flag !== undefined ? '--endpoint' : 'AWS_ENDPOINT_URL'} '${endpoint}' is not an http(s) URL (e.g. http://127.0.0.1:4566).`,
    );
  return endpoint;
}

/**
 * The embedded AWS describes its stack at /_tunevault/stack; undefined when the endpoint answers
 * but is not one. Throws EndpointUnreachableError when nothing answers there at all.
 */
export async function embeddedStack(endpoint: string): Promise<StackInfo | undefined> {
  let answer: { status: number; body: string };
  try {
    answer = await getText(new URL('/_tunevault/stack', endpoint));
  } catch (err) {
    const reason = unreachableReason(err);
    if (reason) {
      const chosen = chosenEndpoint();
      throw new EndpointUnreachableError(endpoint, reason, chosen?.url === endpoint ? chosen.source : 'flag');
    }
    throw err;
  }
  if (answer.status !== 200) return undefined;
  try {
    return JSON.parse(answer.body) as StackInfo;
  } catch {
    return undefined;
  }
}

/** node:http rather than fetch, which refuses some ports (e.g. 6000) that the SDK reaches fine. */
function getText(url: URL, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}
