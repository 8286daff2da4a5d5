/**
 * Lambda, in-process: each function runs from its own esbuild bundle of its handler, with the
 * externals serverless.yml gives serverless-esbuild, and its own module instances (config,
 * clients, logger), as separate Lambda functions have. Unlike the deployed zips, the bundles are
 * unminified, target this process's Node and take the packages' CommonJS builds (esbuild's
 * default `mainFields`): with the zips' `[module, main]`, workflows hung under Jest (not yet
 * understood; `npm run bench` runs a whole workflow on the packaged zips). Handlers read their
 * configuration when their bundle loads, so the function's environment is in place for that
 * load and for every invocation.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { Console } from 'node:console';
import { cachedBuild } from './bundle-cache';
import type { Credential } from './iam/types';
import { PROJECT_ROOT } from './stack';

export interface BundleOptions {
  target?: string;
  minify?: boolean;
  external?: string[];
}

export interface LocalFunction {
  key: string;
  name: string;
  arn: string;
  /** `functions/x/handler.handler` as in serverless.yml. */
  handler: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memorySize?: number;
  /** The execution role (from the packaged template) and the credentials of its session. */
  roleArn?: string;
  credentials?: Credential;
}

/**
 * Each bundle gets its own `process.env`, as each Lambda function has its own process: the bundle's
 * first line shadows `process` with a view of the real one whose `env` is the function's. The SDK
 * reads AWS_ACCESS_KEY_ID and friends from there, so each function signs as its own role.
 */
const PROCESS_HOOK = '__tunevaultLambdaProcess';
/**
 * Likewise each bundle's `process.stdout`, `process.stderr` and `console` (esbuild `define`) are
 * its runtime's log destination, looked up by the bundle's file: the bundle's text names no
 * runtime, so every embedded AWS can share one build (bundle-cache.ts).
 */
const IO_HOOK = '__tunevaultLambdaIo';
const IO = '__tunevaultIo';
const BANNER = [
  `var process = globalThis.${PROCESS_HOOK} ? globalThis.${PROCESS_HOOK}(__filename) : globalThis.process;`,
  `var ${IO} = globalThis.${IO_HOOK} ? globalThis.${IO_HOOK}(__filename) : { stdout: process.stdout, stderr: process.stderr, console };`,
].join('\n');

interface LogDestination {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  console: Console;
}

/** Bundle file → its runtime: several embedded AWS instances may share one Node process (tests). */
const owners = new Map<string, { processFor(file: string): NodeJS.Process; readonly io: LogDestination }>();
function ownerOf(file: string) {
  const owner = owners.get(file);
  // Never fall back to this process's own (administrator) environment.
  if (!owner) throw new Error(`${file} is not a bundle of a running embedded AWS`);
  return owner;
}
Object.assign(globalThis, {
  [PROCESS_HOOK]: (file: string) => ownerOf(file).processFor(file),
  [IO_HOOK]: (file: string) => ownerOf(file).io,
});

function processWithEnv(env: Record<string, string>): NodeJS.Process {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(process, {
    get(target, prop) {
      if (prop === 'env') return env;
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (!fn) {
        fn = Object.assign((value as (...a: unknown[]) => unknown).bind(target), value);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface InvocationRecord {
  functionName: string;
  memoryMb?: number;
  startedAt: number;
  durationMs: number;
  errorName?: string;
}

export class LocalLambda {
  private readonly byArn = new Map<string, LocalFunction>();
  private readonly bundles = new Map<string, string>();
  private bundleDir: string | undefined;
  private readonly loaded = new Map<string, Handler>();
  /** Base environment every function sees (endpoint, credentials, region). */
  private baseEnv: Record<string, string> = {};
  /** Applied over each function's own environment (e.g. the log level the CLI asked for). */
  private forcedEnv: Record<string, string> = {};
  readonly invocations: InvocationRecord[] = [];
  private inFlight = new Set<Promise<unknown>>();
  /**
   * Where the functions' stdout and stderr go (their CloudWatch log group on AWS). Each bundle
   * reads `process.stdout`, `process.stderr` and `console` from this object when it writes (IO_HOOK),
   * so the CLI can send them to a file while it draws progress on the terminal.
   */
  readonly io: LogDestination = { stdout: process.stdout, stderr: process.stderr, console };

  constructor(logs?: NodeJS.WritableStream) {
    this.setLogDestination(logs);
  }

  /** Sends the functions' output to `logs` (undefined: this process's stdout and stderr). Set it before the first invocation. */
  setLogDestination(logs: NodeJS.WritableStream | undefined): void {
    const stdout = logs ?? process.stdout;
    const stderr = logs ?? process.stderr;
    Object.assign(this.io, { stdout, stderr, console: logs ? new Console({ stdout, stderr }) : console });
  }

  setBaseEnvironment(env: Record<string, string>, forced: Record<string, string> = {}): void {
    this.baseEnv = env;
    this.forcedEnv = forced;
  }

  register(fn: LocalFunction): void {
    this.byArn.set(fn.arn, fn);
  }

  functions(): LocalFunction[] {
    return [...this.byArn.values()];
  }

  find(arnOrName: string): LocalFunction | undefined {
    return (
      this.byArn.get(arnOrName) ?? this.functions().find((f) => f.name === arnOrName || f.key === arnOrName)
    );
  }

  private readonly processes = new Map<string, NodeJS.Process>();

  /** The environment Lambda gives FN: endpoint and region, its own variables, its role's credentials. */
  environmentOf(fn: LocalFunction): Record<string, string> {
    const env: Record<string, string> = {
      ...this.baseEnv,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize ?? 1024),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      ...fn.environment,
      ...this.forcedEnv,
    };
    if (fn.credentials) {
      env.AWS_ACCESS_KEY_ID = fn.credentials.accessKeyId;
      env.AWS_SECRET_ACCESS_KEY = fn.credentials.secretAccessKey;
      if (fn.credentials.sessionToken) env.AWS_SESSION_TOKEN = fn.credentials.sessionToken;
      else delete env.AWS_SESSION_TOKEN;
    }
    return env;
  }

  processFor(bundleFile: string): NodeJS.Process {
    const existing = this.processes.get(bundleFile);
    if (existing) return existing;
    const fn = this.functions().find((f) => this.bundles.get(f.key) === bundleFile);
    const view = fn ? processWithEnv(this.environmentOf(fn)) : process;
    this.processes.set(bundleFile, view);
    return view;
  }

  /** Bundles every registered function in one esbuild run (about a second for the stack). */
  async bundle(
    options: BundleOptions = {},
    outRoot = path.join(PROJECT_ROOT, '.tunevault', 'build'),
  ): Promise<void> {
    const entryPoints: Record<string, string> = {};
    for (const fn of this.byArn.values()) {
      const source = path.join(PROJECT_ROOT, fn.handler.slice(0, fn.handler.lastIndexOf('.')));
      entryPoints[fn.key] =
        ['.ts', '.js'].map((ext) => source + ext).find((f) => fs.existsSync(f)) ?? `${source}.ts`;
    }
    // A folder of this runtime's own: each function's module is its own, even where another
    // runtime in this process loads the same build.
    const outdir = path.join(outRoot, randomUUID().replace(/-/g, '').slice(0, 12));
    await cachedBuild(
      {
        entryPoints,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        // This process runs the bundles: its own Node is the target (serverless.yml's is for the zips).
        target: `node${process.versions.node}`,
        minify: options.minify ?? false,
        external: options.external ?? [],
        define: {
          'process.stdout': `${IO}.stdout`,
          'process.stderr': `${IO}.stderr`,
          console: `${IO}.console`,
        },
        banner: { js: BANNER },
        logLevel: 'silent',
      },
      outdir,
      { root: path.join(outRoot, 'cache'), workingDir: PROJECT_ROOT },
    );
    for (const file of Object.keys(entryPoints).map((k) => path.join(outdir, `${k}.js`)))
      owners.set(file, this);
    for (const key of Object.keys(entryPoints)) this.bundles.set(key, path.join(outdir, `${key}.js`));
    this.bundleDir = outdir;
  }

  /** Removes this runtime's bundles (loaded modules stay usable). */
  dispose(): void {
    if (this.bundleDir) fs.rmSync(this.bundleDir, { recursive: true, force: true });
    this.bundleDir = undefined;
  }

  /**
   * The function starts in a new container at its next invocation, as after a deploy or idle
   * time: its module state (clients, configuration, caches such as the admission's quota) starts
   * over. The old module stays in memory until nothing holds it: recycle sparingly.
   */
  recycle(key: string): void {
    const fn = this.find(key);
    const file = fn ? this.bundles.get(fn.key) : undefined;
    if (!fn || !file) throw new Error(`no bundled function '${key}' to recycle`);
    delete require.cache[file];
    this.loaded.delete(fn.arn);
  }

  private load(fn: LocalFunction): Handler {
    const cached = this.loaded.get(fn.arn);
    if (cached) return cached;
    const dot = fn.handler.lastIndexOf('.');
    const modulePath = this.bundles.get(fn.key) ?? path.join(PROJECT_ROOT, fn.handler.slice(0, dot));
    const exportName = fn.handler.slice(dot + 1);
    const mod = require(modulePath) as Record<string, unknown>;
    const handler = mod[exportName];
    if (typeof handler !== 'function') throw new Error(`${fn.handler}: no exported function '${exportName}'`);
    this.loaded.set(fn.arn, handler as Handler);
    return handler as Handler;
  }

  /** Loads every function's bundle now (as a cold start would), so a bundle that cannot load fails here. */
  warm(): void {
    for (const fn of this.byArn.values()) this.load(fn);
  }

  /** RequestResponse: resolves with the handler's result, rejects with its error (name kept). */
  async invoke(arnOrName: string, event: unknown): Promise<unknown> {
    const fn = this.find(arnOrName);
    if (!fn)
      throw Object.assign(new Error(`Function not found: ${arnOrName}`), {
        name: 'ResourceNotFoundException',
      });
    const handler = this.load(fn);
    const started = Date.now();
    const requestId = randomUUID();
    const context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memorySize ?? 1024),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `local/${requestId}`,
      getRemainingTimeInMillis: () => Math.max(0, started + fn.timeoutSeconds * 1000 - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } satisfies Context;
    // JSON in, JSON out, as across the real Lambda boundary: no shared object references.
    const payload = JSON.parse(JSON.stringify(event ?? {})) as unknown;
    const record: InvocationRecord = {
      functionName: fn.name,
      ...(fn.memorySize ? { memoryMb: fn.memorySize } : {}),
      startedAt: started,
      durationMs: 0,
    };
    const run = (async () => {
      try {
        const result = await handler(payload, context);
        return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown);
      } catch (err) {
        record.errorName = err instanceof Error ? err.name : 'Error';
        throw err;
      } finally {
        record.durationMs = Date.now() - started;
        this.invocations.push(record);
      }
    })();
    this.inFlight.add(run);
    run.then(
      () => this.inFlight.delete(run),
      () => this.inFlight.delete(run),
    );
    return run;
  }

  /**
   * Event (async) invocation, as S3 and EventBridge use: Lambda retries a failed event twice,
   * then drops it (no DLQ configured), reporting the failure.
   */
  invokeAsync(
    arnOrName: string,
    event: unknown,
    onFailure?: (err: unknown) => void,
    retryDelayMs = 200,
  ): void {
    const attempt = (n: number): void => {
      this.invoke(arnOrName, event).catch((err: unknown) => {
        if (n < 2) setTimeout(() => attempt(n + 1), retryDelayMs * (n + 1)).unref();
        else onFailure?.(err);
      });
    };
    attempt(0);
  }

  /** Resolves when no invocation is running (for clean shutdowns and tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
