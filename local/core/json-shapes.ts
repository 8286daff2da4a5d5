/**
 * Request members of the wrong JSON type, checked against the service model the AWS SDK itself
 * ships (each client exports its operations' schemas as `<Operation>$`). AWS's JSON frontends
 * refuse such a body before the operation runs, with `SerializationException` — a number where a
 * string belongs reads "NUMBER_VALUE cannot be converted to String" (DynamoDB's wording, which
 * dynalite reproduces) — so a service here never sees `KeyId: 123`, `Tags: {}` or `Entries:
 * [null]` and cannot mistake it for a missing or odd value. Unknown members and `null` members
 * are ignored, as AWS ignores them; a null inside a list or map is refused unless it is @sparse. Written by hand: the SDK's schema serde serializes and deserializes, it does not
 * validate.
 */
import { NormalizedSchema } from '@smithy/core/schema';
import { AwsError } from './types';

const serializationError = (message: string) => new AwsError('SerializationException', message);

type Schema = ReturnType<typeof NormalizedSchema.of>;

const TOKEN = (v: unknown): string =>
  typeof v === 'number'
    ? 'NUMBER_VALUE'
    : typeof v === 'string'
      ? 'STRING_VALUE'
      : v === true
        ? 'TRUE_VALUE'
        : 'FALSE_VALUE';

function scalarMismatch(value: unknown, expected: string): Error {
  if (Array.isArray(value)) return serializationError('Start of list found where not expected');
  if (typeof value === 'object')
    return serializationError('Start of structure or map found where not expected');
  return serializationError(`${TOKEN(value)} cannot be converted to ${expected}`);
}

function check(value: unknown, schema: Schema): void {
  if (value === null || value === undefined) return;
  if (schema.isDocumentSchema()) return;
  if (schema.isStructSchema() || schema.isUnionSchema()) {
    if (typeof value !== 'object' || Array.isArray(value))
      throw Array.isArray(value)
        ? serializationError('Start of list found where not expected')
        : serializationError(`Expected a structure, found ${TOKEN(value)}`);
    const record = value as Record<string, unknown>;
    for (const [name, member] of schema.structIterator()) {
      if (Object.hasOwn(record, name)) check(record[name], member);
    }
    return;
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value))
      throw typeof value === 'object'
        ? serializationError('Start of structure or map found where not expected')
        : serializationError(`Expected a list, found ${TOKEN(value)}`);
    const item = schema.getValueSchema();
    const sparse = Boolean(schema.getMergedTraits().sparse);
    for (const v of value) {
      if (v === null && !sparse)
        throw serializationError('Null value found in a list that does not allow nulls');
      check(v, item);
    }
    return;
  }
  if (schema.isMapSchema()) {
    if (typeof value !== 'object' || Array.isArray(value))
      throw Array.isArray(value)
        ? serializationError('Start of list found where not expected')
        : serializationError(`Expected a map, found ${TOKEN(value)}`);
    const item = schema.getValueSchema();
    const sparse = Boolean(schema.getMergedTraits().sparse);
    for (const v of Object.values(value)) {
      if (v === null && !sparse)
        throw serializationError('Null value found in a map that does not allow nulls');
      check(v, item);
    }
    return;
  }
  if (schema.isStringSchema() || schema.isBlobSchema()) {
    if (typeof value !== 'string') throw scalarMismatch(value, 'String');
    return;
  }
  if (schema.isBooleanSchema()) {
    if (typeof value !== 'boolean') throw scalarMismatch(value, 'Boolean');
    return;
  }
  if (schema.isNumericSchema() || schema.isBigIntegerSchema() || schema.isBigDecimalSchema()) {
    if (typeof value !== 'number') throw scalarMismatch(value, 'Number');
    return;
  }
  if (schema.isTimestampSchema()) {
    if (typeof value !== 'number' && typeof value !== 'string') throw scalarMismatch(value, 'Timestamp');
  }
}

const cache = new WeakMap<object, Map<string, Schema | null>>();

/**
 * The input schema of `operation` in an SDK client module (`import * as model from
 * '@aws-sdk/client-kms'`), without the members bound to the URI, query or headers (restJson).
 */
function inputOf(model: Record<string, unknown>, operation: string): Schema | undefined {
  let byOp = cache.get(model);
  if (!byOp) {
    byOp = new Map();
    cache.set(model, byOp);
  }
  if (!byOp.has(operation)) {
    const op = Object.hasOwn(model, `${operation}$`) ? model[`${operation}$`] : undefined;
    // An operation schema is [9, namespace, name, traits, input, output].
    const input = Array.isArray(op) && op[0] === 9 ? NormalizedSchema.of(op[4] as never) : undefined;
    byOp.set(operation, input?.isStructSchema() ? input : null);
  }
  return byOp.get(operation) ?? undefined;
}

/** Throws SerializationException when a member of `body` has a JSON type the operation's model does not allow. */
export function checkInputShape(
  model: Record<string, unknown>,
  operation: string,
  body: Record<string, unknown>,
) {
  const input = inputOf(model, operation);
  if (!input) return;
  for (const [name, member] of input.structIterator()) {
    const traits = member.getMergedTraits();
    if (
      traits.httpLabel ||
      traits.httpQuery ||
      traits.httpHeader ||
      traits.httpQueryParams ||
      traits.httpPrefixHeaders
    )
      continue;
    if (Object.hasOwn(body, name)) check(body[name], member);
  }
}
