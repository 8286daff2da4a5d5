/** awsJson1_0 / awsJson1_1 helpers (KMS, Step Functions, EventBridge, DynamoDB). */
import type { AccessRequest } from '../iam/types';
import { checkInputShape } from './json-shapes';
import { type OperationTable, operationIn } from './operations';
import { AwsError, type LocalRequest, type LocalResponse, type LocalService } from './types';

export function targetOperation(req: LocalRequest): string {
  const target = req.headers['x-amz-target'] ?? '';
  return target.slice(target.indexOf('.') + 1);
}

/**
 * Deeper JSON is refused before it is parsed: 1000 is Jackson's default nesting limit
 * (StreamReadConstraints.maxNestingDepth), which the Java frontends of AWS services enforce; and
 * what is parsed deeper than that would overflow the stack of any recursive walk over it.
 */
export const MAX_JSON_DEPTH = 1000;

/** Whether `text` nests arrays and objects deeper than `max` (a linear scan that skips strings). */
export function jsonDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function serializationError(message: string): AwsError {
  return new AwsError('SerializationException', message);
}

/**
 * JSON text as a service reads it, or undefined: valid UTF-8, at most MAX_JSON_DEPTH deep, one
 * JSON value. Services use it for request bodies and for JSON carried in string members.
 */
export function readJson(bytes: Buffer | string): { value: unknown } | { problem: string } {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : strictUtf8.decode(bytes);
  } catch {
    return { problem: 'Invalid UTF-8 in the request body' };
  }
  if (jsonDeeperThan(text)) return { problem: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { problem: `Invalid JSON: ${(err as Error).message}` };
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The request's JSON object (an empty body is `{}`, as the SDK sends for operations without
 * input). Anything else — not UTF-8, not JSON, too deep, or a JSON value that is not an object
 * (`null`, `123`, `[]`) — is AWS's `SerializationException` (400).
 */
export function parseJsonBody<T = Record<string, unknown>>(req: LocalRequest): T {
  if (req.body.length === 0) return {} as T;
  const read = readJson(req.body);
  if ('problem' in read) throw serializationError(read.problem);
  if (!isJsonObject(read.value))
    throw serializationError(
      `Expected a JSON object as the request body, found ${read.value === null ? 'null' : Array.isArray(read.value) ? 'an array' : `a ${typeof read.value}`}`,
    );
  return read.value as T;
}

export function jsonResponse(body: unknown, contentType = 'application/x-amz-json-1.1'): LocalResponse {
  return {
    status: 200,
    headers: { 'content-type': contentType },
    // Date.toJSON runs before a replacer sees the value, so look at the holder's raw property.
    body: JSON.stringify(body ?? {}, function (this: Record<string, unknown>, key, value: unknown) {
      const raw = this[key];
      return raw instanceof Date ? raw.getTime() / 1000 : value;
    }),
  };
}

export function jsonError(error: AwsError, contentType = 'application/x-amz-json-1.1'): LocalResponse {
  return {
    status: error.status,
    headers: { 'content-type': contentType, 'x-amzn-errortype': error.code },
    body: JSON.stringify({ __type: error.code, message: error.message, ...error.extra }),
  };
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/**
 * Offset pagination with an opaque token (base64url of the next offset), as the list operations
 * of Step Functions and EventBridge answer: at most `cap` items a page, 100 by default.
 */
export function paginate<T>(
  all: T[],
  rawMax: unknown,
  rawToken: unknown,
  options: { cap: number; invalidToken: () => AwsError },
): Page<T> {
  const max = typeof rawMax === 'number' && rawMax > 0 ? Math.min(rawMax, options.cap) : 100;
  let start = 0;
  if (typeof rawToken === 'string' && rawToken !== '') {
    const decoded = Number(Buffer.from(rawToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(decoded) || decoded < 0) throw options.invalidToken();
    start = decoded;
  }
  const items = all.slice(start, start + max);
  const next = start + max;
  return next < all.length
    ? { items, nextToken: Buffer.from(String(next)).toString('base64url') }
    : { items };
}

/** What an awsJson service is on the wire. */
export interface AwsJsonProtocol {
  /** How its errors name it: `The embedded ${name} does not implement …`. */
  name: string;
  /** `application/x-amz-json-1.0` or `-1.1`. */
  contentType: string;
  /**
   * The service's SDK client module (its `<Operation>$` schemas): with it, the input is refused
   * with SerializationException when a member has the wrong JSON type, as AWS does.
   */
  model: Record<string, unknown>;
}

/**
 * What every awsJson service shares: the operation from X-Amz-Target, its input read and checked
 * against the service model, dispatch through the service's one operation table, errors as
 * `__type`. A service supplies the table and the IAM questions each operation asks.
 */
export abstract class AwsJsonService implements LocalService {
  abstract readonly signingName: string;
  protected abstract readonly operations: OperationTable<Record<string, unknown>>;

  constructor(protected readonly protocol: AwsJsonProtocol) {}

  operationOf(req: LocalRequest): string {
    return targetOperation(req);
  }

  /** The operation's input: a JSON object whose members have the types the service model gives them. */
  protected readInput(req: LocalRequest): Record<string, unknown> {
    const body = parseJsonBody<Record<string, unknown>>(req);
    checkInputShape(this.protocol.model, this.operationOf(req), body);
    return body;
  }

  /** The IAM questions of OPERATION with INPUT (see local/iam). */
  protected abstract access(
    operation: string,
    input: Record<string, unknown>,
  ): AccessRequest[] | Promise<AccessRequest[]>;

  /** Whether OPERATION is served: one outside the table is UnknownOperationException, whoever asks. */
  protected serves(operation: string): boolean {
    return operationIn(this.operations, operation) !== undefined;
  }

  accessRequests(req: LocalRequest): AccessRequest[] | Promise<AccessRequest[]> {
    const operation = this.operationOf(req);
    const input = this.readInput(req);
    return this.serves(operation) ? this.access(operation, input) : [];
  }

  async handle(req: LocalRequest): Promise<LocalResponse> {
    const operation = this.operationOf(req);
    const input = this.readInput(req);
    const handler = operationIn(this.operations, operation);
    if (!handler) return this.unknownOperation(operation, req);
    return jsonResponse(await handler(input, req), this.protocol.contentType);
  }

  /** An operation outside the table. */
  protected async unknownOperation(operation: string, _req: LocalRequest): Promise<LocalResponse> {
    throw new AwsError(
      'UnknownOperationException',
      `The embedded ${this.protocol.name} does not implement ${operation}`,
    );
  }

  errorResponse(error: AwsError): LocalResponse {
    return jsonError(error, this.protocol.contentType);
  }
}
