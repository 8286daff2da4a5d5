/**
 * The stack the embedded AWS serves, derived from serverless.yml itself: `serverless print`
 * resolves the variables (stage params, files, the ASL loader), and this module resolves the
 * CloudFormation intrinsics that remain, with the local account and region.
 * Printing costs a few seconds, so the result is cached by the hash of its inputs.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
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
  provider: { region?: string; stage?: string; environment?: Record<string, Json>; timeout?: number };
  custom: JsonObject;
  params?: JsonObject;
  functions: Record<string, PrintedFunction>;
  stepFunctions: { stateMachines: Record<string, { id?: string; name?: string; definition: Json }> };
  resources: {
    Conditions?: Record<string, Json>;
    Resources: Record<string, { Type: string; Condition?: string; Properties?: JsonObject }>;
  };
}

const INPUTS = [
  'serverless.yml',
  'resources/stack.yml',
  'resources/bedrock-role.js',
  'statemachines/loader.js',
  'package-lock.json',
];

function inputsDigest(stage: string, params: Record<string, string>): string {
  const h = createHash('sha256').update(JSON.stringify({ stage, params }));
  for (const f of INPUTS) {
    const p = path.join(PROJECT_ROOT, f);
    if (fs.existsSync(p)) h.update(fs.readFileSync(p));
  }
  for (const f of fs.readdirSync(path.join(PROJECT_ROOT, 'statemachines'))) {
    if (f.endsWith('.json')) h.update(fs.readFileSync(path.join(PROJECT_ROOT, 'statemachines', f)));
  }
  return h.digest('hex').slice(0, 16);
}

/** The environment for a `serverless` child process that must leave CloudFormation intrinsics in place. */
function serverlessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // The ${env:TUNEVAULT_*} overrides meant for `serverless invoke local` are removed, so the
  // template keeps its intrinsics (the embedded AWS resolves them itself).
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    ...extra,
  };
  for (const k of Object.keys(env)) if (k.startsWith('TUNEVAULT_')) delete env[k];
  for (const k of Object.keys(extra)) env[k] = extra[k];
  return env;
}

function serverlessArgs(command: string[], stage: string, params: Record<string, string>): string[] {
  const bin = path.join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  return [bin, ...command, '--stage', stage, ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`)];
}

function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** `serverless print --format json`, cached under .tunevault/cache by the hash of its inputs. */
export async function printServerlessConfig(
  stage = 'dev',
  params: Record<string, string> = {},
  cacheDir = path.join(PROJECT_ROOT, '.tunevault', 'cache'),
): Promise<PrintedConfig> {
  const cacheFile = path.join(cacheDir, `serverless-${inputsDigest(stage, params)}.json`);
  if (fs.existsSync(cacheFile)) return JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as PrintedConfig;
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(
      process.execPath,
      serverlessArgs(['print', '--format', 'json'], stage, params),
      { cwd: PROJECT_ROOT, env: serverlessEnv(), maxBuffer: 32 * 1024 * 1024 },
    ));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`serverless print failed — is serverless.yml valid?\n${e.stderr ?? e.message}`);
  }
  const config = JSON.parse(stdout.slice(stdout.indexOf('{'))) as PrintedConfig;
  writeAtomically(cacheFile, JSON.stringify(config));
  return config;
}

export interface CfnResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties?: JsonObject;
}

export interface CfnTemplate {
  Conditions?: Record<string, Json>;
  Resources: Record<string, CfnResource>;
  Outputs?: JsonObject;
}

/**
 * The CloudFormation template `serverless package` compiles — what AWS would deploy: every role
 * with its trust and identity policies as serverless-iam-roles-per-function and
 * serverless-step-functions write them, the Lambda permissions, the functions and their
 * environment. Packaging bundles every function (a few seconds), so the template is cached by
 * the hash of its inputs; the zips are kept only for the next packaging (zipsFolder; the embedded
 * AWS bundles the handlers itself).
 */
export async function packageTemplate(
  stage = 'dev',
  params: Record<string, string> = {},
  cacheDir = path.join(PROJECT_ROOT, '.tunevault', 'cache'),
): Promise<CfnTemplate> {
  const cacheFile = path.join(cacheDir, `template-${inputsDigest(stage, params)}.json`);
  const cached = () =>
    fs.existsSync(cacheFile) ? (JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as CfnTemplate) : undefined;
  return cached() ?? underPackagingLock(() => packageUncached(stage, params, cacheFile), cached);
}

/**
 * The function zips of an earlier packaging of the same serverless.yml, which the next packaging
 * reuses (serverless-esbuild's `skipBuild`) instead of bundling fourteen functions again: the
 * templates a test run needs differ in their parameters, not their code. Like the templates, the
 * zips are keyed by the packaging inputs, not the handlers' sources: nothing reads them but the
 * template's function versions, and the embedded AWS bundles the handlers itself.
 */
function zipsFolder(cacheFile: string): string {
  return path.join(path.dirname(cacheFile), `zips-${inputsDigest('', {})}`);
}

function keepZips(out: string, zips: string): void {
  if (fs.existsSync(zips)) return;
  const scratch = `${zips}.${process.pid}.${Date.now()}.tmp`;
  fs.mkdirSync(scratch, { recursive: true });
  for (const f of fs.readdirSync(out).filter((f) => f.endsWith('.zip')))
    fs.copyFileSync(path.join(out, f), path.join(scratch, f));
  try {
    fs.renameSync(scratch, zips);
  } catch {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function packageUncached(
  stage: string,
  params: Record<string, string>,
  cacheFile: string,
): Promise<CfnTemplate> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-package-'));
  // serverless-esbuild resolves its work folder against the project: a folder of our own there.
  const esbuildWork = path.join('.tunevault', `esbuild-package-${process.pid}-${path.basename(work)}`);
  try {
    const out = path.join(work, 'package');
    const zips = zipsFolder(cacheFile);
    const reuse = fs.existsSync(zips);
    if (reuse) fs.cpSync(zips, out, { recursive: true });
    await promisify(execFile)(
      process.execPath,
      serverlessArgs(['package', '--package', out], stage, params),
      {
        cwd: PROJECT_ROOT,
        env: serverlessEnv({
          TUNEVAULT_ESBUILD_WORK_FOLDER: esbuildWork,
          ...(reuse ? { TUNEVAULT_ESBUILD_SKIP_BUILD: 'true' } : {}),
          // Offline and without credentials, as CI packages it.
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_SESSION_TOKEN: '',
        }),
        maxBuffer: 32 * 1024 * 1024,
      },
    );
    const text = fs.readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8');
    if (!reuse) keepZips(out, zips);
    writeAtomically(cacheFile, text);
    return JSON.parse(text) as CfnTemplate;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `serverless package failed — is serverless.yml valid?\n${[e.stdout, e.stderr].filter(Boolean).join('\n') || e.message}`,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(path.join(PROJECT_ROOT, esbuildWork), { recursive: true, force: true });
  }
}

const PACKAGING_LOCK = path.join(PROJECT_ROOT, '.tunevault', 'packaging.lock');

function holderAlive(lock: string, ageMs: number): boolean {
  const text = fs.readFileSync(lock, 'utf8').trim();
  // Created but not yet written: its holder is between the two calls.
  if (text === '') return ageMs < 10_000;
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` (a `serverless package` in this project) while no other process of this machine
 * packages it: two at once, each with its own `--package` folder and esbuild work folder, still
 * lose each other's output (seen with parallel Jest workers: one exits 0 with no template in its
 * folder). `ready` is asked before each wait, so a waiter whose result another process has just
 * made (a cache file) needs no lock. A lock whose holder has died is taken over; so is one older
 * than 10 minutes.
 */
export async function underPackagingLock<T>(fn: () => Promise<T>, ready?: () => T | undefined): Promise<T> {
  fs.mkdirSync(path.dirname(PACKAGING_LOCK), { recursive: true });
  for (;;) {
    const done = ready?.();
    if (done !== undefined) return done;
    try {
      fs.writeFileSync(PACKAGING_LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        const age = Date.now() - fs.statSync(PACKAGING_LOCK).mtimeMs;
        if (age > 600_000 || !holderAlive(PACKAGING_LOCK, age)) fs.rmSync(PACKAGING_LOCK, { force: true });
        else await new Promise((r) => setTimeout(r, 250));
      } catch {
        // The holder released it between our write and our look: try again.
      }
    }
  }
  try {
    return ready?.() ?? (await fn());
  } finally {
    fs.rmSync(PACKAGING_LOCK, { force: true });
  }
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

/** `Ref: AWS::NoValue`: the property (or list item) is removed, as CloudFormation removes it. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves Ref (AWS::NoValue included), Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split,
 * Fn::If, Fn::Equals, Fn::Or, Fn::And, Fn::Not, Condition.
 */
export function resolveIntrinsics(node: Json, ctx: IntrinsicContext): Json {
  const out = resolveNode(node, ctx);
  return out === NO_VALUE ? undefined : out;
}

function resolveNode(node: Json, ctx: IntrinsicContext): Json {
  if (Array.isArray(node)) return node.map((n) => resolveNode(n, ctx)).filter((n) => n !== NO_VALUE);
  if (!node || typeof node !== 'object') return node;
  const obj = node as JsonObject;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [fn] = keys as [string];
    const arg = obj[fn];
    switch (fn) {
      case 'Ref':
        return arg === 'AWS::NoValue' ? NO_VALUE : refOf(String(arg), ctx);
      case 'Fn::Select': {
        const [index, list] = resolveIntrinsics(arg, ctx) as [number | string, Json[]];
        return list[Number(index)];
      }
      case 'Fn::Split': {
        const [sep, text] = resolveIntrinsics(arg, ctx) as [string, string];
        return String(text).split(sep);
      }
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
        return resolveNode(conditionHolds(cond, ctx) ? yes : no, ctx);
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
  return Object.fromEntries(
    Object.entries(obj)
      .map(([k, v]) => [k, resolveNode(v, ctx)] as const)
      .filter(([, v]) => v !== NO_VALUE),
  );
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
