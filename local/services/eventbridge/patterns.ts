/**
 * EventBridge event patterns: parsing and validation (InvalidEventPatternException, as PutRule
 * answers) and content filtering as the EventBridge user guide specifies it.
 *
 * No maintained npm package implements EventBridge pattern matching (the one candidate found,
 * `eb-patterns`, is not in the registry), so the matcher is written here.
 */
import { isIPv4 } from 'node:net';
import { asRecord } from '../../core/input';
import { AwsError } from '../../core/types';

export type Pattern = Record<string, unknown>;

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
]);
const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

/** Parses and validates a pattern (InvalidEventPatternException as PutRule answers). */
export function parsePattern(text: string): Pattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badPattern('Filter is not valid JSON');
  }
  const pattern = asRecord(parsed);
  if (!pattern || Object.keys(pattern).length === 0)
    throw badPattern('Event pattern must be a non-empty JSON object');
  validateObject(pattern, '');
  return pattern;
}

function validateObject(pattern: Pattern, path: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every((v) => asRecord(v)))
        throw badPattern(`${here} needs an array of at least two patterns`);
      for (const v of value) validateObject(v as Pattern, path);
    } else if (Array.isArray(value)) {
      for (const rule of value) validateRule(rule, here);
    } else if (asRecord(value)) {
      if (Object.keys(value as Pattern).length === 0) throw badPattern(`${here} is an empty object`);
      validateObject(value as Pattern, here);
    } else {
      throw badPattern(`${here} must be an object or an array`);
    }
  }
}

function validateRule(rule: unknown, where: string): void {
  if (rule === null || ['string', 'number', 'boolean'].includes(typeof rule)) return;
  const op = asRecord(rule);
  const keys = op ? Object.keys(op) : [];
  const name = keys[0];
  if (!op || keys.length !== 1 || name === undefined || !OPERATORS.has(name)) {
    throw badPattern(`${where}: unrecognized match type ${JSON.stringify(rule)}`);
  }
  const arg = op[name];
  const stringOrIgnoreCase = (v: unknown) =>
    typeof v === 'string' || typeof asRecord(v)?.['equals-ignore-case'] === 'string';
  const ok = (() => {
    switch (name) {
      case 'prefix':
      case 'suffix':
        return stringOrIgnoreCase(arg);
      case 'equals-ignore-case':
      case 'wildcard':
      case 'cidr':
        return typeof arg === 'string';
      case 'exists':
        return typeof arg === 'boolean';
      case 'numeric':
        return validNumeric(arg);
      default: {
        // anything-but
        if (typeof arg === 'string' || typeof arg === 'number') return true;
        if (Array.isArray(arg))
          return (
            arg.length > 0 &&
            (arg.every((v) => typeof v === 'string') || arg.every((v) => typeof v === 'number'))
          );
        const inner = asRecord(arg);
        const [innerOp, innerArg] = inner ? (Object.entries(inner)[0] ?? []) : [];
        if (!inner || Object.keys(inner).length !== 1) return false;
        if (innerOp === 'prefix' || innerOp === 'suffix') return typeof innerArg === 'string';
        if (innerOp === 'equals-ignore-case' || innerOp === 'wildcard') {
          return (
            typeof innerArg === 'string' ||
            (Array.isArray(innerArg) && innerArg.every((v) => typeof v === 'string'))
          );
        }
        return false;
      }
    }
  })();
  if (!ok) throw badPattern(`${where}: invalid value for ${name}`);
}

function validNumeric(arg: unknown): boolean {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) return false;
  for (let i = 0; i < arg.length; i += 2) {
    if (typeof arg[i] !== 'string' || !NUMERIC_OPS.has(arg[i] as string) || typeof arg[i + 1] !== 'number')
      return false;
  }
  return true;
}

/** Content filtering as the EventBridge user guide specifies it (fields AND, array values OR). */
export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  const obj = asRecord(event);
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as Pattern[]).some((alt) => matchesPattern(alt, event));
    const present = obj !== undefined && Object.hasOwn(obj, key);
    const value = present ? obj[key] : undefined;
    if (Array.isArray(expected)) return matchLeaf(expected, present, value);
    const nested = expected as Pattern;
    // Arrays of objects match when any element matches the nested pattern.
    if (Array.isArray(value))
      return value.some((el) => asRecord(el) !== undefined && matchesPattern(nested, el));
    if (present && !asRecord(value)) return false;
    return matchesPattern(nested, value);
  });
}

function matchLeaf(rules: unknown[], present: boolean, value: unknown): boolean {
  const candidates = Array.isArray(value) ? value : [value];
  return rules.some((rule) => {
    const op = rule !== null && typeof rule === 'object' ? (rule as Record<string, unknown>) : undefined;
    if (op && 'exists' in op) return op.exists === true ? present && asRecord(value) === undefined : !present;
    if (!present) return false;
    if (!op) return candidates.some((c) => c === rule);
    return candidates.some((c) => matchOperator(op, c));
  });
}

function matchOperator(op: Record<string, unknown>, value: unknown): boolean {
  const [name, arg] = Object.entries(op)[0] ?? [];
  switch (name) {
    case 'prefix':
    case 'suffix': {
      if (typeof value !== 'string') return false;
      const ignoreCase = asRecord(arg)?.['equals-ignore-case'];
      const needle = typeof ignoreCase === 'string' ? ignoreCase.toLowerCase() : String(arg);
      const hay = typeof ignoreCase === 'string' ? value.toLowerCase() : value;
      return name === 'prefix' ? hay.startsWith(needle) : hay.endsWith(needle);
    }
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && wildcardRegExp(String(arg)).test(value);
    case 'numeric':
      return typeof value === 'number' && numericHolds(arg as unknown[], value);
    case 'cidr':
      return typeof value === 'string' && inCidr(value, String(arg));
    case 'anything-but':
      return anythingBut(arg, value);
    default:
      return false;
  }
}

function anythingBut(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return !arg.includes(value);
  const inner = asRecord(arg);
  if (!inner) return value !== arg;
  const [name, innerArg] = Object.entries(inner)[0] ?? [];
  if (typeof value !== 'string') return true;
  const list = (Array.isArray(innerArg) ? innerArg : [innerArg]).map(String);
  switch (name) {
    case 'prefix':
      return !value.startsWith(String(innerArg));
    case 'suffix':
      return !value.endsWith(String(innerArg));
    case 'equals-ignore-case':
      return !list.some((s) => s.toLowerCase() === value.toLowerCase());
    case 'wildcard':
      return !list.some((s) => wildcardRegExp(s).test(value));
    default:
      return false;
  }
}

function numericHolds(conditions: unknown[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const bound = conditions[i + 1] as number;
    const holds = {
      '=': value === bound,
      '<': value < bound,
      '<=': value <= bound,
      '>': value > bound,
      '>=': value >= bound,
    }[conditions[i] as '=' | '<' | '<=' | '>' | '>='];
    if (!holds) return false;
  }
  return true;
}

/** `*` matches any run of characters; `\*` is a literal star. */
function wildcardRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\' && pattern[i + 1] === '*') {
      source += '\\*';
      i++;
    } else if (ch === '*') source += '.*';
    else source += ch.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(ip) || !isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (a: string) => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}

function badPattern(reason: string): AwsError {
  return new AwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`);
}
