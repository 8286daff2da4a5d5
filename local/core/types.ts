/**
 * Contracts shared by every emulated service of the embedded AWS.
 * A service sees a fully read request and answers in its own wire protocol.
 */
import type { Readable } from 'node:stream';

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

export interface LocalRequest {
  method: string;
  /** Path as sent (still percent-encoded), without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** SigV4 service name from the credential scope: s3, kms, bedrock, states, events, dynamodb. */
  service: string;
  region: string;
}

export interface LocalResponse {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
}

export interface LocalService {
  /** SigV4 signing name this service answers to. */
  readonly signingName: string;
  /** The API operation a request asks for, e.g. `CreateKey` or `PutObject` (used for fault injection). */
  operationOf(req: LocalRequest): string;
  handle(req: LocalRequest): Promise<LocalResponse>;
  /** An error response in this service's protocol. */
  errorResponse(error: AwsError): LocalResponse;
  /** Plain-JSON state for `--state-dir`; restore() takes what snapshot() gave. */
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

/** An AWS error as the wire shows it: the code (`__type` / `<Code>`), a message and the HTTP status. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra protocol fields (e.g. S3 `<BucketName>`). */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** How one local service calls a Lambda function of the stack (in-process). */
export type InvokeLambda = (functionArn: string, event: unknown) => Promise<unknown>;

/** An EventBridge entry as PutEvents takes it. */
export interface BusEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  Resources?: string[];
  EventBusName?: string;
  Time?: Date;
}
export type PutEvents = (entries: BusEntry[]) => Promise<void>;

/** The S3 service's in-process face, for services that read or write objects as AWS would. */
export interface ObjectStore {
  /** Writes under the bucket's default encryption (SSE-S3 or SSE-KMS) and fires its notifications. */
  putObject(
    bucket: string,
    key: string,
    body: Buffer,
    opts?: { contentType?: string },
  ): Promise<{ etag: string; versionId?: string }>;
  /** Throws AwsError NoSuchBucket / NoSuchKey (and KMS errors for SSE-KMS objects whose key is unusable). */
  getObject(bucket: string, key: string, versionId?: string): Promise<Buffer>;
  headObject(
    bucket: string,
    key: string,
  ): Promise<{ size: number; etag: string; versionId?: string } | undefined>;
}

/** The KMS service's in-process face, for S3 (SSE-KMS) and Bedrock (customModelKmsKeyId). */
export interface KeyStore {
  /** Resolves a key id, key ARN, alias name or alias ARN. Throws AwsError NotFoundException. */
  describe(keyIdOrAlias: string): Promise<{
    keyArn: string;
    keyId: string;
    keyState: string;
    keySpec: string;
    keyUsage: string;
    keyManager: 'CUSTOMER' | 'AWS';
  }>;
  /** Throws DisabledException / KMSInvalidStateException / NotFoundException as KMS does. */
  generateDataKey(
    keyIdOrAlias: string,
    context?: Record<string, string>,
  ): Promise<{ keyArn: string; plaintext: Buffer; ciphertextBlob: Buffer }>;
  decrypt(
    ciphertextBlob: Buffer,
    context?: Record<string, string>,
  ): Promise<{ keyArn: string; plaintext: Buffer }>;
}
