/**
 * The stack the embedded AWS serves, derived from serverless.yml itself: `serverless print`
 * resolves the variables (stage params, files, the ASL loader), and this module resolves the
 * CloudFormation intrinsics that remain, with the local account and region.
 * Printing costs a few seconds, so the result is cached by the hash of its inputs.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export const PROJECT_ROOT = path.resolve(__dirname, '..');

type Json = unknown;
type JsonObject = Record<string, Json>;

export interface PrintedFunction {
  handler: string;
  name?: string;
  environment?: Record<string, Json>;
  events?: JsonObject[];
  timeout?: number;
  memorySize?: number;
}

export interface PrintedConfig {
  service: string;
  provider: {
    region?: string;
    stage?: string;
    environment?: Record<string, Json>;
    timeout?: number;
    memorySize?: number;
  };
  custom: JsonObject;
  params?: JsonObject;
  functions: Record<string, PrintedFunction>;
  stepFunctions: { stateMachines: Record<string, { id?: string; name?: string; definition: Json }> };
  resources: {
    Conditions?: Record<string, Json>;
    Resources: Record<string, { Type: string; Condition?: string; Properties?: JsonObject }>;
  };
}

const INPUTS = ['serverless.yml', 'resources/stack.yml', 'statemachines/loader.js', 'package-lock.json'];

function inputsDigest(stage: string, params: Record<string, string>): string {
  const h = createHash('sha256').update(JSON.stringify({ stage, params }));
  for (const f of INPUTS) {
    const p = path.join(PROJECT_ROOT, f);
    if (fs.existsSync(p)) h.update(fs.readFileSync(p));
  }
  for (const f of fs.readdirSync(path.join(PROJECT_ROOT, 'statemachines'))) {
    if (f.endsWith('.asl.json')) h.update(fs.readFileSync(path.join(PROJECT_ROOT, 'statemachines', f)));
  }
  return h.digest('hex').slice(0, 16);
}

/** `serverless print --format json`, cached under .tunevault/cache by the hash of its inputs. */
export async function printServerlessConfig(
  stage = 'dev',
  params: Record<string, string> = {},
  cacheDir = path.join(PROJECT_ROOT, '.tunevault', 'cache'),
): Promise<PrintedConfig> {
  const cacheFile = path.join(cacheDir, `serverless-${inputsDigest(stage, params)}.json`);
  if (fs.existsSync(cacheFile)) return JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as PrintedConfig;
  const bin = path.join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  const args = [
    bin,
    'print',
    '--format',
    'json',
    '--stage',
    stage,
    ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`),
  ];
  // The print must leave the CloudFormation intrinsics in place (the embedded AWS resolves them
  // itself), so the ${env:TUNEVAULT_*} overrides meant for `serverless invoke local` are removed.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
  for (const k of Object.keys(env)) if (k.startsWith('TUNEVAULT_')) delete env[k];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env,
      maxBuffer: 32 * 1024 * 1024,
    }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`serverless print failed — is serverless.yml valid?\n${e.stderr ?? e.message}`);
  }
  const config = JSON.parse(stdout.slice(stdout.indexOf('{'))) as PrintedConfig;
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(cacheFile, JSON.stringify(config));
  return config;
}

export interface IntrinsicContext {
  accountId: string;
  region: string;
  partition: string;
  /** `Ref` and `Fn::GetAtt` answers of the resources deployed so far. */
  refs: Map<string, string>;
  attrs: Map<string, string>;
  conditions: Record<string, Json>;
}

/** Resolves Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::If, Fn::Equals, Fn::Or, Fn::And, Fn::Not, Condition. */
export function resolveIntrinsics(node: Json, ctx: IntrinsicContext): Json {
  if (Array.isArray(node)) return node.map((n) => resolveIntrinsics(n, ctx));
  if (!node || typeof node !== 'object') return node;
  const obj = node as JsonObject;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [fn] = keys as [string];
    const arg = obj[fn];
    switch (fn) {
      case 'Ref':
        return refOf(String(arg), ctx);
      case 'Fn::GetAtt': {
        const [resource, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return attrOf(`${resource}.${attr}`, ctx);
      }
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(arg)
          ? [String(arg[0]), (arg[1] ?? {}) as JsonObject]
          : [String(arg), {}];
        return template.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
          if (name in vars) return String(resolveIntrinsics(vars[name], ctx));
          return name.includes('.') ? attrOf(name, ctx) : refOf(name, ctx);
        });
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, Json[]];
        return (resolveIntrinsics(parts, ctx) as Json[]).map(String).join(sep);
      }
      case 'Fn::If': {
        const [cond, yes, no] = arg as [string, Json, Json];
        return resolveIntrinsics(conditionHolds(cond, ctx) ? yes : no, ctx);
      }
      case 'Fn::Equals': {
        const [a, b] = resolveIntrinsics(arg, ctx) as [Json, Json];
        return String(a) === String(b);
      }
      case 'Fn::Or':
        return (arg as Json[]).some((c) => resolveIntrinsics(c, ctx) === true);
      case 'Fn::And':
        return (arg as Json[]).every((c) => resolveIntrinsics(c, ctx) === true);
      case 'Fn::Not':
        return !(resolveIntrinsics((arg as Json[])[0], ctx) === true);
      case 'Condition':
        return conditionHolds(String(arg), ctx);
      default:
        break;
    }
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolveIntrinsics(v, ctx)]));
}

export function conditionHolds(name: string, ctx: IntrinsicContext): boolean {
  const def = ctx.conditions[name];
  if (def === undefined) throw new Error(`unknown CloudFormation condition '${name}'`);
  return resolveIntrinsics(def, ctx) === true;
}

function refOf(name: string, ctx: IntrinsicContext): string {
  switch (name) {
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::Partition':
      return ctx.partition;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return 'tunevault-local';
    default: {
      const v = ctx.refs.get(name);
      if (v === undefined) throw new Error(`Ref to '${name}', which the embedded AWS has not deployed`);
      return v;
    }
  }
}

function attrOf(name: string, ctx: IntrinsicContext): string {
  const v = ctx.attrs.get(name);
  if (v === undefined) throw new Error(`Fn::GetAtt '${name}', which the embedded AWS has not deployed`);
  return v;
}

/** The function's environment as Lambda would see it: provider env, then the function's own. */
export function functionEnvironment(
  config: PrintedConfig,
  key: string,
  ctx: IntrinsicContext,
): Record<string, string> {
  const fn = config.functions[key];
  if (!fn) throw new Error(`no function '${key}' in serverless.yml`);
  const merged = { ...(config.provider.environment ?? {}), ...(fn.environment ?? {}) };
  return Object.fromEntries(Object.entries(merged).map(([k, v]) => [k, String(resolveIntrinsics(v, ctx))]));
}

export function functionName(config: PrintedConfig, key: string, stage: string): string {
  return config.functions[key]?.name ?? `${config.service}-${stage}-${key}`;
}
