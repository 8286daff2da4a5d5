/**
 * Readers of a JSON request's members, for every JSON service (awsJson and restJson alike), and
 * AWS's validation message. The service model has already refused members of the wrong JSON type
 * (json-shapes.ts), so these readers mostly answer what AWS's own validation answers: a missing
 * required member, an empty one. Their type checks guard members the model does not describe.
 */
import { AwsError } from './types';

export type Body = Record<string, unknown>;

/**
 * AWS's validation message: `1 validation error detected: Value 'x' at 'keyId' failed to satisfy
 * constraint: Member must not be null`. FIELD is the member as AWS names it there: lower camel case
 * (`keyId` for the wire's `KeyId`, `tableName` for `TableName`), a path for nested members.
 */
export function validation(field: string, value: unknown, constraint: string): AwsError {
  const shown = value === undefined || value === null ? 'null' : `'${String(value)}'`;
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

/** `KeyId` → `keyId`: how AWS's validation messages name a member. */
export function memberLabel(field: string): string {
  return field.charAt(0).toLowerCase() + field.slice(1);
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function notA(kind: string, label: string): AwsError {
  return new AwsError('SerializationException', `${label} must be ${kind}`);
}

/** A string member, or undefined when it is absent or null. */
export function optionalString(body: Body, field: string, label = field): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw notA('a string', label);
  return v;
}

/** A required string member: absent is "Member must not be null", empty "…length greater than or equal to 1". */
export function requireString(body: Body, field: string, label = memberLabel(field)): string {
  const v = optionalString(body, field, label);
  if (v === undefined) throw validation(label, undefined, 'Member must not be null');
  if (v === '') throw validation(label, v, 'Member must have length greater than or equal to 1');
  return v;
}

export function optionalInteger(body: Body, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw notA('an integer', field);
  return v;
}

/** A blob member (base64 on the wire), or undefined. */
export function optionalBlob(body: Body, field: string): Buffer | undefined {
  const v = optionalString(body, field);
  return v === undefined ? undefined : Buffer.from(v, 'base64');
}

/** A map of strings (an encryption context, tags as a map), or undefined. */
export function optionalStringMap(body: Body, field: string): Record<string, string> | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  const map = asRecord(v);
  if (!map) throw notA('a map of strings', field);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw notA('a string', `${field}.${k}`);
    out[k] = value;
  }
  return out;
}
