/**
 * Contracts shared by every emulated service of the embedded AWS.
 * A service sees a fully read request and answers in its own wire protocol.
 */
import type { Readable } from 'node:stream';
import type { AccessRequest } from '../iam/types';
import type { Authenticated } from './sigv4';

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
  /**
   * The body as it arrives, for the operations that stream it (S3 PutObject and UploadPart, see
   * LocalService.streamsBody); `body` is empty then. Read it once, through s3/body.ts.
   */
  bodyStream?: Readable;
  /** SigV4 service name from the credential scope: s3, kms, bedrock, states, events, dynamodb. */
  service: string;
  region: string;
  /** Set by the endpoint once SigV4 has verified the request (S3 verifies aws-chunked chunks with it). */
  auth?: Authenticated;
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
  /**
   * The IAM questions this request asks (action, resource ARN, condition keys, resource policy),
   * answered by the endpoint's authorizer before `handle` runs. Services without it are refused.
   */
  accessRequests?(req: LocalRequest): AccessRequest[] | Promise<AccessRequest[]>;
  /** Whether this request's body should stream to the service instead of being read into memory first. */
  streamsBody?(req: LocalRequest): boolean;
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

/**
 * How one local service calls a Lambda function of the stack (in-process). S3 and EventBridge pass
 * the source the function's resource policy conditions on (bucket / rule ARN); Step Functions
 * passes the state machine's role and its session name (the invocation is authorized as them).
 */
export type InvokeLambda = (
  functionArn: string,
  event: unknown,
  sourceOrRoleArn?: string,
  sessionName?: string,
) => Promise<unknown>;

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
  /**
   * The in-process face for services that use a key for their caller. VIA names that service
   * (`s3`, `bedrock`): the use is authorized as the current caller with kms:ViaService set.
   * Resolves a key id, key ARN, alias name or alias ARN. Throws AwsError NotFoundException.
   */
  describe(
    keyIdOrAlias: string,
    via?: string,
  ): Promise<{
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
    via?: string,
  ): Promise<{ keyArn: string; plaintext: Buffer; ciphertextBlob: Buffer }>;
  decrypt(
    ciphertextBlob: Buffer,
    context?: Record<string, string>,
    via?: string,
  ): Promise<{ keyArn: string; plaintext: Buffer }>;
  /** A grant made for the current caller through VIA (Bedrock grants itself the model key). */
  createGrantVia(
    keyIdOrAlias: string,
    grant: { grantee: string; operations: string[]; name: string; retiringPrincipal?: string },
    via: string,
  ): Promise<{ grantId: string }>;
}
