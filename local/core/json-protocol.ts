/** awsJson1_0 / awsJson1_1 helpers (KMS, Step Functions, EventBridge, DynamoDB). */
import { AwsError, type LocalRequest, type LocalResponse, type LocalService } from './types';

export function targetOperation(req: LocalRequest): string {
  const target = req.headers['x-amz-target'] ?? '';
  return target.slice(target.indexOf('.') + 1);
}

export function parseJsonBody<T = Record<string, unknown>>(req: LocalRequest): T {
  if (req.body.length === 0) return {} as T;
  try {
    return JSON.parse(req.body.toString('utf8')) as T;
  } catch {
    throw new AwsError('SerializationException', 'Request body is not valid JSON');
  }
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

/** A required string member; AWS's "Member must not be null" when it is absent (or empty, unless allowed). */
export function requireString(
  body: Record<string, unknown>,
  key: string,
  options: { allowEmpty?: boolean } = {},
): string {
  const v = body[key];
  if (typeof v !== 'string' || (v === '' && !options.allowEmpty)) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}

export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  return typeof v === 'string' ? v : undefined;
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

/** What every awsJson service shares: the operation from X-Amz-Target, errors as `__type`. */
export abstract class AwsJsonService implements LocalService {
  abstract readonly signingName: string;

  constructor(private readonly contentType = 'application/x-amz-json-1.1') {}

  operationOf(req: LocalRequest): string {
    return targetOperation(req);
  }

  errorResponse(error: AwsError): LocalResponse {
    return jsonError(error, this.contentType);
  }

  abstract handle(req: LocalRequest): Promise<LocalResponse>;
}
