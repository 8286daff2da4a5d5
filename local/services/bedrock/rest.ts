/** Helpers of the Bedrock restJson1 API shared by its jobs, models and deployments. */
import { randomBytes } from 'node:crypto';
import { type Body, validation } from '../../core/input';
import { AwsError } from '../../core/types';

export interface Tag {
  key: string;
  value: string;
}

const TAG_CHARS = /^[a-zA-Z0-9\s._:/=+@-]*$/;
export const MAX_TAGS = 200;

export function parseTags(raw: unknown, label: string): Tag[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new AwsError('SerializationException', `${label} must be a list`);
  if (raw.length > MAX_TAGS)
    throw validation(
      label,
      `${raw.length} tags`,
      `Member must have length less than or equal to ${MAX_TAGS}`,
    );
  const seen = new Set<string>();
  return raw.map((t: unknown, i) => {
    const tag = (t ?? {}) as Body;
    const key = tag['key'];
    const value = tag['value'];
    if (typeof key !== 'string' || key.length < 1 || key.length > 128) {
      throw validation(`${label}.${i + 1}.member.key`, key, 'Member must have length between 1 and 128');
    }
    if (!TAG_CHARS.test(key)) {
      throw validation(
        `${label}.${i + 1}.member.key`,
        key,
        `Member must satisfy regular expression pattern: ${TAG_CHARS.source}`,
      );
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw new AwsError('ValidationException', `Tag key '${key}' uses the reserved prefix 'aws:'.`);
    }
    if (typeof value !== 'string' || value.length > 256) {
      throw validation(`${label}.${i + 1}.member.value`, value, 'Member must have length between 0 and 256');
    }
    if (!TAG_CHARS.test(value)) {
      throw validation(
        `${label}.${i + 1}.member.value`,
        value,
        `Member must satisfy regular expression pattern: ${TAG_CHARS.source}`,
      );
    }
    if (seen.has(key)) throw new AwsError('ValidationException', `Duplicate tag key '${key}' in ${label}.`);
    seen.add(key);
    return { key, value };
  });
}

/** 12 lowercase alphanumerics, the shape of Bedrock job and model ids. */
export function newId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function paginate<T>(items: T[], query: URLSearchParams): { page: T[]; nextToken?: string } {
  const rawMax = query.get('maxResults');
  const max = rawMax === null ? 100 : Number(rawMax);
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw validation('maxResults', rawMax, 'Member must have value between 1 and 1000');
  }
  const token = query.get('nextToken');
  let start = 0;
  if (token !== null) {
    start = Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0)
      throw new AwsError('ValidationException', 'The nextToken is not valid.');
  }
  const page = items.slice(start, start + max);
  return start + max < items.length
    ? { page, nextToken: Buffer.from(String(start + max)).toString('base64') }
    : { page };
}

export function timeFilter(query: URLSearchParams, field: string): number | undefined {
  const raw = query.get(field);
  if (raw === null) return undefined;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw validation(field, raw, 'Member must be a timestamp');
  return t;
}
