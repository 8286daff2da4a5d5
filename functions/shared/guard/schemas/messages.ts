/**
 * Zod's issues translated into sentences a person can act on. No message ever quotes a value
 * from the record: only paths, types and the fixed role names.
 */
import type * as z from 'zod';
import type { ProblemCode, ProblemLevel } from '../types';
import type { FamilySpec } from './families';

export interface RecordIssue {
  level: ProblemLevel;
  code: ProblemCode;
  reason: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/**
 * A field name is echoed only when it is a plain identifier: an unknown key can itself be a
 * secret or a line of text pasted in the wrong place.
 */
export function safeFieldName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]{0,31}$/.test(key) && !/\d{4}|[A-Z0-9]{12}/.test(key)
    ? `"${key}"`
    : '(a field whose name is not shown)';
}

export function issueToRecordIssue(issue: z.core.$ZodIssue, root: unknown, spec: FamilySpec): RecordIssue[] {
  const where = formatPath(issue.path);
  const subject = where || 'the record';
  switch (issue.code) {
    case 'invalid_type': {
      const actual = valueAt(root, issue.path);
      if (where === '' && (typeof root !== 'object' || root === null || Array.isArray(root))) {
        return [
          {
            level: 'error',
            code: 'SCHEMA',
            reason: `the record must be a JSON object with the ${spec.label} fields (got ${describeType(root)})`,
          },
        ];
      }
      const reason =
        actual === undefined
          ? `${subject} is missing`
          : `${subject} must be ${article(String(issue.expected))} (got ${describeType(actual)})`;
      return [{ level: 'error', code: 'SCHEMA', reason }];
    }
    case 'invalid_value':
      return [
        {
          level: 'error',
          code: 'SCHEMA',
          reason: `${subject} must be ${issue.values.map((v) => `'${String(v)}'`).join(' or ')}`,
        },
      ];
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        level: spec.unknownFields,
        code: 'UNKNOWN_FIELD' as const,
        reason:
          spec.unknownFields === 'error'
            ? `unknown field ${safeFieldName(key)} in ${subject}: the ${spec.label} format allows no extra fields`
            : `unknown field ${safeFieldName(key)} in ${subject} is not part of the ${spec.label} format`,
      }));
    case 'too_small': {
      const minimum = Number(issue.minimum);
      if (issue.origin === 'array' && where === 'messages') {
        // Two for a training record; one for prompts (distillation, RFT), which have no answer yet.
        const reason =
          minimum >= 2
            ? `messages must have at least ${minimum} entries (a user turn, then the assistant's answer)`
            : 'messages must have at least one entry (the user turn to answer)';
        return [{ level: 'error', code: 'SCHEMA', reason }];
      }
      const unit = issue.origin === 'array' ? ['entry', 'entries'] : ['character', 'characters'];
      return [
        {
          level: 'error',
          code: 'SCHEMA',
          reason: `${subject} must have at least ${minimum} ${minimum === 1 ? unit[0] : unit[1]}`,
        },
      ];
    }
    case 'custom':
      return [{ level: 'error', code: 'SCHEMA', reason: issue.message }];
    default:
      return [
        { level: 'error', code: 'SCHEMA', reason: `${subject} is not valid for the ${spec.label} format` },
      ];
  }
}
