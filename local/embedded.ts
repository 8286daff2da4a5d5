/**
 * The embedded AWS: one loopback endpoint with S3, KMS, Bedrock, Step Functions, EventBridge
 * and DynamoDB, the stack of serverless.yml deployed on it, and its Lambda functions run
 * in-process. Production code reaches it through AWS_ENDPOINT_URL and nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { handleControl } from './control';
import { FaultInjector } from './core/faults';
import { LocalEndpoint } from './core/server';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, type LocalService } from './core/types';
import { type DeployedStack, deployStack } from './deploy';
import { type Authorizer as IamAuthorizer, Authorizer, type Caller } from './iam/authorizer';
import { IamRegistry } from './iam/registry';
import type { IamMode } from './iam/types';
import { LocalLambda } from './lambda';
import { BedrockService } from './services/bedrock';
import { DynamoDbService } from './services/dynamodb';
import { EventBridgeService } from './services/eventbridge';
import { KmsService } from './services/kms';
import { S3Service } from './services/s3';
import { ServiceQuotasService } from './services/servicequotas';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { StepFunctionsService } from './services/stepfunctions';
import { PROJECT_ROOT, packageTemplate } from './stack';

export interface EmbeddedAwsOptions {
  port?: number;
  host?: string;
  /** Keep state here across restarts; in memory when omitted. */
  stateDir?: string;
  stage?: string;
  /** Stage parameters for serverless.yml (`--param`), e.g. a short pollIntervalSeconds in tests. */
  params?: Record<string, string>;
  /** Simulated Bedrock job duration. */
  jobDurationMs?: number;
  /** Bedrock's concurrent customization job quota (also what Service Quotas answers). */
  concurrentJobsQuota?: number;
  /** Powertools log level of the handlers (default WARN). */
  logLevel?: string;
  /** Where the in-process functions' stdout and stderr go; this process's own by default. */
  functionLogs?: NodeJS.WritableStream;
  /** Load every function's bundle before the endpoint is ready, so a broken one fails the start (tunevault local). */
  warmFunctions?: boolean;
  /** Multiplies ASL Retry intervals and EventBridge schedules (tests use a small value). */
  timeScale?: number;
  /** Multiplies EventBridge schedules only (default: timeScale); 1 runs the admission sweep each minute. */
  scheduleScale?: number;
  onHistoryEvent?: (executionArn: string, event: HistoryEvent) => void;
  /** enforce (default): AWS's IAM decides every request; audit: decided and recorded, never refused; off. */
  iam?: IamMode;
}

/** Who invokes a function: a role session (Step Functions) or a service with its source (S3, EventBridge). */
export type Invoker =
  | { roleArn: string; sessionName: string }
  | { service: string; sourceArn: string; sourceAccount: string };

/** The error Step Functions reports when Lambda refuses an invocation (Lambda.AWSLambdaException). */
export class LambdaInvokeDeniedError extends Error {
  override readonly name = 'Lambda.AWSLambdaException';
}

/** A --state-dir that cannot hold the state: a file, a path through a file, or not writable. */
export class StateDirError extends Error {
  override readonly name = 'StateDirError';
}

/** Creates the state directory when missing; throws StateDirError naming the problem and the fix. */
export function ensureStateDir(dir: string): string {
  const abs = path.resolve(dir);
  try {
    fs.mkdirSync(abs, { recursive: true });
    fs.accessSync(abs, fs.constants.W_OK | fs.constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? fs.existsSync(abs) && !fs.statSync(abs).isDirectory()
          ? 'is a file, not a directory'
          : 'runs through a file, not a directory'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'is not writable'
          : `cannot be created (${code ?? (err as Error).message})`;
    throw new StateDirError(
      `state directory '${dir}' ${why}: give a directory (it is created when missing), e.g. .tunevault/state.`,
    );
  }
  return abs;
}

export class EmbeddedAws {
  readonly accountId = LOCAL_ACCOUNT_ID;
  readonly region = LOCAL_REGION;
  readonly faults = new FaultInjector();
  readonly lambda = new LocalLambda();
  readonly kms: KmsService;
  readonly s3: S3Service;
  readonly events: EventBridgeService;
  readonly bedrock: BedrockService;
  readonly sfn: StepFunctionsService;
  readonly dynamodb: DynamoDbService;
  readonly quotas: ServiceQuotasService;
  readonly endpoint: LocalEndpoint;
  readonly iam: IamRegistry;
  readonly authorizer: IamAuthorizer;
  private deployed: DeployedStack | undefined;
  private readonly historyListeners = new Set<(executionArn: string, event: HistoryEvent) => void>();
  private readonly lambdaFailures: { functionArn: string; error: string }[] = [];
  /** Asynchronous invocations (S3, EventBridge) still being authorized. */
  private readonly accepting = new Set<Promise<unknown>>();
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EmbeddedAwsOptions = {}) {
    const { accountId, region } = this;
    if (options.functionLogs) this.lambda.setLogDestination(options.functionLogs);
    const stateDir = options.stateDir ? ensureStateDir(options.stateDir) : undefined;
    this.iam = new IamRegistry(accountId, 'aws', this.savedSeed(stateDir));
    this.authorizer = new Authorizer({ registry: this.iam, region, mode: options.iam ?? 'enforce' });
    const asyncFailure = (functionArn: string, err: unknown) =>
      this.lambdaFailures.push({
        functionArn,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    // S3 and EventBridge invoke asynchronously; the function's resource policy must allow the service.
    const invokeAsyncAs = (service: string) => (functionArn: string, event: unknown, sourceArn?: string) =>
      new Promise<unknown>((resolve) => {
        const invoker: Invoker = { service, sourceArn: sourceArn ?? '', sourceAccount: accountId };
        const accepted = this.authorizeInvoke(functionArn, invoker).then(
          () => this.lambda.invokeAsync(functionArn, event, (err) => asyncFailure(functionArn, err)),
          (err: unknown) => asyncFailure(functionArn, err),
        );
        // stop() waits for these: an invocation still being authorized is not in lambda.idle() yet.
        this.accepting.add(accepted);
        void accepted.finally(() => this.accepting.delete(accepted));
        resolve(undefined);
      });
    this.kms = new KmsService({ accountId, region, authorizer: this.authorizer });
    this.s3 = new S3Service({
      accountId,
      region,
      kms: this.kms,
      invokeLambda: invokeAsyncAs('s3.amazonaws.com'),
      authorizer: this.authorizer,
      ...(stateDir ? { dataDir: path.join(stateDir, 's3') } : {}),
    });
    this.events = new EventBridgeService({
      accountId,
      region,
      invokeLambda: invokeAsyncAs('events.amazonaws.com'),
      // Schedules (the admission sweep) run on the embedded AWS's time scale, as Retry intervals do.
      scheduleScale: options.scheduleScale ?? options.timeScale ?? 1,
      schedulesPaused: true,
    });
    this.bedrock = new BedrockService({
      accountId,
      region,
      s3: this.s3,
      kms: this.kms,
      putEvents: (entries) => this.events.putEvents(entries),
      jobDurationMs: options.jobDurationMs ?? 3000,
      iam: { authorizer: this.authorizer, registry: this.iam },
      ...(options.concurrentJobsQuota !== undefined
        ? { concurrentJobsQuota: options.concurrentJobsQuota }
        : {}),
      // An RFT job's grader: Bedrock invokes it as the job's service role (RequestResponse), so
      // that role's lambda:InvokeFunction decides, as on AWS (rft-access-security).
      invokeLambda: async (functionArn, payload, roleArn) => {
        await this.authorizeInvoke(functionArn, { roleArn, sessionName: 'BedrockModelCustomization' });
        return this.lambda.invoke(functionArn, payload);
      },
    });
    this.sfn = new StepFunctionsService({
      accountId,
      region,
      invokeLambda: async (arn, event, roleArn?: string, sessionName?: string) => {
        if (roleArn)
          await this.authorizeInvoke(arn, { roleArn, sessionName: sessionName ?? 'StepFunctions' });
        return this.lambda.invoke(arn, event);
      },
      putEvents: (entries) => this.events.putEvents(entries),
      timeScale: options.timeScale ?? 1,
      onHistoryEvent: (arn, event) => {
        options.onHistoryEvent?.(arn, event);
        for (const l of this.historyListeners) l(arn, event);
      },
    });
    this.dynamodb = new DynamoDbService({
      accountId,
      region,
      ...(stateDir ? { path: path.join(stateDir, 'dynamodb') } : {}),
    });
    this.quotas = new ServiceQuotasService({
      accountId,
      region,
      quotas: [
        {
          serviceCode: 'bedrock',
          serviceName: 'Amazon Bedrock',
          quotaCode: 'L-0406044C',
          quotaName: '(Model customization) Scheduled customization jobs',
          adjustable: true,
          value: () => this.bedrock.concurrentJobsQuota,
        },
      ],
    });
    const services: LocalService[] = [
      this.s3,
      this.kms,
      this.bedrock,
      this.sfn,
      this.events,
      this.dynamodb,
      this.quotas,
    ];
    this.endpoint = new LocalEndpoint({
      services,
      faults: this.faults,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 4566,
      holdUntilOpen: true,
      control: (req) => handleControl(this, req),
      authenticate: this.iam,
      authorizer: this.authorizer,
    });
  }

  /** The seed of the role sessions' credentials: kept in the state dir so printed credentials stay valid. */
  private savedSeed(stateDir: string | undefined): string | undefined {
    if (!stateDir) return undefined;
    const file = path.join(stateDir, 'iam-seed');
    if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
    const seed = IamRegistry.newSeed();
    fs.writeFileSync(file, seed, { mode: 0o600 });
    return seed;
  }

  /**
   * lambda:InvokeFunction for INVOKER on FUNCTIONARN: a role session by its identity policies (and
   * the function policy), a service principal by the function's resource policy with the source
   * it names (aws:SourceArn / aws:SourceAccount), as Lambda decides it.
   */
  async authorizeInvoke(functionArn: string, invoker: Invoker): Promise<void> {
    const caller: Caller =
      'roleArn' in invoker
        ? {
            principal: this.iam.session(invoker.roleArn, invoker.sessionName).principal,
            secureTransport: true,
            sourceIp: '',
          }
        : { principal: this.iam.service(invoker.service), secureTransport: true, sourceIp: '' };
    const policy = this.iam.lambdaPolicy(functionArn);
    const context: Record<string, string> =
      'service' in invoker
        ? { 'aws:SourceArn': invoker.sourceArn, 'aws:SourceAccount': invoker.sourceAccount }
        : {};
    try {
      await this.authorizer.require(caller, 'lambda', [
        {
          action: 'lambda:InvokeFunction',
          resource: functionArn,
          context,
          ...(policy ? { resourcePolicy: policy } : {}),
        },
      ]);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new LambdaInvokeDeniedError(
        `${message} (Service: Lambda, Status Code: 403, Error Code: AccessDeniedException)`,
      );
    }
  }

  get stack(): DeployedStack {
    if (!this.deployed) throw new Error('the embedded AWS has not deployed the stack yet (call start())');
    return this.deployed;
  }

  get url(): string {
    return this.endpoint.url;
  }

  /** `starting` until the stack is deployed and every function can run, then `ready`. */
  get readiness() {
    return this.endpoint.readiness;
  }

  /**
   * Registers a project handler as a Lambda function (e.g. an RFT grader Bedrock invokes), as a
   * deploy of another stack would: `handler` is `path/from/project/root.exportName`.
   */
  registerFunction(name: string, handler: string, environment: Record<string, string> = {}): string {
    const file = handler.slice(0, handler.lastIndexOf('.'));
    const resolved = path.resolve(PROJECT_ROOT, file);
    if (
      !resolved.startsWith(PROJECT_ROOT + path.sep) ||
      !['.ts', '.js'].some((ext) => fs.existsSync(resolved + ext))
    ) {
      throw new Error(`handler '${handler}' is not a .ts or .js file of the project`);
    }
    const arn = `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
    this.lambda.register({ key: name, name, arn, handler, environment, timeoutSeconds: 900 });
    return arn;
  }

  /** Async Lambda invocations that failed after their retries (S3 and EventBridge triggers). */
  failedAsyncInvocations() {
    return [...this.lambdaFailures];
  }

  onHistoryEvent(listener: (executionArn: string, event: HistoryEvent) => void): () => void {
    this.historyListeners.add(listener);
    return () => this.historyListeners.delete(listener);
  }

  /** Environment for SDK clients, awscli and `serverless invoke local` aimed at this endpoint. */
  clientEnvironment(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(this.deployed?.invokeLocalEnv ?? {}),
    };
  }

  private statePath(): string | undefined {
    return this.options.stateDir ? path.join(path.resolve(this.options.stateDir), 'state.json') : undefined;
  }

  /**
   * Binds the port (it answers `GET /_tunevault/health` with `starting` at once and holds every
   * other request), deploys the stack through an internal listener, bundles every function (and
   * with `warmFunctions` loads each one), then serves the held requests in arrival order.
   */
  async start(): Promise<DeployedStack> {
    const file = this.statePath();
    if (file && fs.existsSync(file))
      this.restore(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>);
    await this.endpoint.listen();
    try {
      // The deployment talks to an internal listener; the public port holds requests until open().
      const internal = await this.endpoint.listenInternal();
      const stage = this.options.stage ?? 'dev';
      const template = await packageTemplate(stage, this.options.params ?? {});
      const service = serverlessYaml();
      this.lambda.setBaseEnvironment(
        {
          ...this.clientEnvironment(),
          POWERTOOLS_METRICS_NAMESPACE: 'TuneVault',
          POWERTOOLS_METRICS_DISABLED: 'true',
        },
        { POWERTOOLS_LOG_LEVEL: this.options.logLevel ?? 'WARN' },
      );
      this.deployed = await deployStack({
        endpoint: internal,
        accountId: this.accountId,
        region: this.region,
        stage,
        service: service.name,
        template,
        lambda: this.lambda,
        registry: this.iam,
        authorizer: this.authorizer,
      });
      await this.lambda.bundle(service.external.length > 0 ? { external: service.external } : {});
      if (this.options.warmFunctions) this.lambda.warm();
      await this.endpoint.closeInternal();
    } catch (err) {
      this.endpoint.fail(err instanceof Error ? err.message : String(err));
      throw err;
    }
    // Handlers in this process reach the endpoint the same way a deployed function reaches AWS.
    Object.assign(process.env, this.clientEnvironment());
    // With a state dir, the state is also saved every few seconds, so a killed process loses little.
    if (this.statePath()) {
      this.saveTimer = setInterval(() => this.saveState(), 5000);
      this.saveTimer.unref();
    }
    this.endpoint.open();
    // Scheduled rules (the admission sweep) fire only once the stack's functions and the endpoint are ready.
    this.events.resumeSchedules();
    return this.deployed;
  }

  /** Writes the state file (with --state-dir): to a temporary file first, so a crash cannot leave half of one. */
  saveState(): void {
    const file = this.statePath();
    if (!file) return;
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.snapshot()));
    fs.renameSync(tmp, file);
  }

  snapshot(): Record<string, unknown> {
    return {
      s3: this.s3.snapshot(),
      kms: this.kms.snapshot(),
      bedrock: this.bedrock.snapshot(),
      sfn: this.sfn.snapshot(),
      events: this.events.snapshot(),
    };
  }

  private restore(state: Record<string, unknown>): void {
    if (state.s3) this.s3.restore(state.s3);
    if (state.kms) this.kms.restore(state.kms);
    if (state.bedrock) this.bedrock.restore(state.bedrock);
    if (state.sfn) this.sfn.restore(state.sfn);
    if (state.events) this.events.restore(state.events);
  }

  /** Credentials per function role, for `serverless invoke local` as that function (printed by `tunevault local`). */
  functionCredentials(): { key: string; name: string; roleArn: string; env: Record<string, string> }[] {
    return this.stack.functions.map((f) => ({
      key: f.key,
      name: f.name,
      roleArn: f.roleArn ?? '',
      env: {
        AWS_ACCESS_KEY_ID: f.credentials?.accessKeyId ?? '',
        AWS_SECRET_ACCESS_KEY: f.credentials?.secretAccessKey ?? '',
        ...(f.credentials?.sessionToken ? { AWS_SESSION_TOKEN: f.credentials.sessionToken } : {}),
      },
    }));
  }

  /**
   * Resolves once nothing is on its way to a function: EventBridge deliveries, asynchronous
   * invocations still being authorized, and the invocations themselves (and what they start).
   */
  async idle(): Promise<void> {
    do {
      await this.events.idle();
      while (this.accepting.size > 0) await Promise.allSettled([...this.accepting]);
      await this.lambda.idle();
    } while (this.accepting.size > 0);
  }

  /** Writes the state (with --state-dir) and stops everything. */
  async stop(): Promise<void> {
    // Every part is stopped even when one fails: a server, timer or sweep left running would
    // outlive its embedded AWS (and, in the tests, fire inside a later test file).
    const failures: unknown[] = [];
    const attempt = async (part: () => unknown) => {
      try {
        await part();
      } catch (err) {
        failures.push(err);
      }
    };
    this.events.close();
    // A schedule's last tick may still be on its way to its function: let it arrive and finish.
    await attempt(() => this.idle());
    clearInterval(this.saveTimer);
    await attempt(() => this.saveState());
    await attempt(() => this.bedrock.close());
    await attempt(() => this.sfn.close());
    await attempt(() => this.endpoint.close());
    await attempt(() => this.dynamodb.close());
    // Without --state-dir, object bodies were in a temporary directory: it goes now.
    await attempt(() => this.s3.close());
    await attempt(() => this.lambda.dispose());
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, 'stopping the embedded AWS failed');
  }
}

/** The service name and esbuild externals of serverless.yml (plain values; no variables needed). */
function serverlessYaml(): { name: string; external: string[] } {
  const doc = parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as {
    service?: string;
    custom?: { esbuild?: { external?: unknown } };
  };
  const external = doc.custom?.esbuild?.external;
  return {
    name: String(doc.service ?? 'tunevault'),
    external: Array.isArray(external) ? external.map(String) : [],
  };
}
