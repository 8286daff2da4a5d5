/**
 * The control API under `/_tunevault/` on the same endpoint: fault injection, redelivery,
 * dropped events and Bedrock job behaviour — for tests, and for users testing their own setup.
 * Requests and answers are JSON; errors name the bad field.
 */
import { z } from 'zod';
import { AwsError, type LocalRequest, type LocalResponse } from './core/types';
import type { EmbeddedAws } from './embedded';

const json = (status: number, body: unknown): LocalResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body, null, 2),
});

const faultSchema = z
  .object({
    service: z.enum(['s3', 'kms', 'bedrock', 'states', 'events', 'dynamodb', 'servicequotas']),
    operation: z.string().min(1),
    count: z.number().int().positive().default(1),
    error: z.string().min(1).optional(),
    message: z.string().optional(),
    status: z.number().int().min(400).max(599).optional(),
    delayMs: z.number().int().nonnegative().max(600_000).optional(),
  })
  .strict()
  .refine((f) => f.error !== undefined || f.delayMs !== undefined, 'give an error, a delayMs, or both');

const redeliverSchema = z
  .object({ bucket: z.string().min(1), key: z.string().min(1), times: z.number().int().positive().max(1000) })
  .strict();
const seedSchema = z
  .object({
    bucket: z.string().min(1),
    key: z.string().min(1),
    versionId: z.string().min(1),
    body: z.string(),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
    contentType: z.string().min(1).optional(),
  })
  .strict();
const dropSchema = z
  .object({
    count: z.number().int().positive(),
    source: z.string().optional(),
    detailType: z.string().optional(),
  })
  .strict();
const bedrockSchema = z
  .object({
    jobDurationMs: z.number().int().nonnegative().optional(),
    nextOutcome: z
      .discriminatedUnion('status', [
        z.object({
          status: z.literal('Completed'),
          /** The key the model reports instead of the job's (null: an AWS owned key). */
          modelKmsKeyArn: z.string().startsWith('arn:').nullable().optional(),
        }),
        z.object({ status: z.literal('Failed'), failureMessage: z.string().min(1) }),
      ])
      .optional(),
    count: z.number().int().positive().default(1),
    /** Jobs that may run at once before CreateModelCustomizationJob answers ServiceQuotaExceededException. */
    concurrentJobsQuota: z.number().int().positive().max(10_000).optional(),
  })
  .strict();

function parse<S extends z.ZodType>(schema: S, req: LocalRequest): z.output<S> {
  let body: unknown;
  try {
    body = req.body.length ? JSON.parse(req.body.toString('utf8')) : {};
  } catch {
    throw new ControlError('the body is not valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new ControlError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

class ControlError extends Error {}

export const CONTROL_ROUTES = [
  'GET  /_tunevault/health  (status: starting | ready | failed | stopping; 200 only when ready)',
  'GET  /_tunevault/stack',
  'GET  /_tunevault/faults · POST /_tunevault/faults {service, operation, count, error?, message?, status?, delayMs?} · DELETE /_tunevault/faults',
  'POST /_tunevault/s3/redeliver {bucket, key, times}',
  'POST /_tunevault/s3/objects {bucket, key, versionId, body, encoding?: utf8|base64, contentType?} (a fixture version, no notification)',
  'POST /_tunevault/events/drop {count, source?, detailType?}',
  'POST /_tunevault/bedrock {jobDurationMs?, nextOutcome?: {status: Completed|Failed, failureMessage?, modelKmsKeyArn?: ARN|null}, count?, concurrentJobsQuota?}',
  "GET  /_tunevault/bedrock/rewards?job=NAME|ARN (what an RFT job's grader returned)",
  'POST /_tunevault/lambda/functions {name, handler: "path/in/project.handler"} (e.g. an RFT grader; answers its ARN)',
  'GET  /_tunevault/iam (mode, roles, decision counts) · POST /_tunevault/iam {mode: enforce|audit|off}',
  'GET  /_tunevault/iam/decisions[?denied=true][&limit=N][&principal=ARN-fragment]',
  'GET  /_tunevault/lambda/failures (asynchronous invocations dropped after their retries)',
];

const functionSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9-_]{1,64}$/),
    handler: z.string().regex(/^[\w./-]+\.[A-Za-z_$][\w$]*$/),
  })
  .strict();

const iamSchema = z.object({ mode: z.enum(['enforce', 'audit', 'off']) }).strict();

export async function handleControl(aws: EmbeddedAws, req: LocalRequest): Promise<LocalResponse | undefined> {
  const route = `${req.method} ${req.path.replace(/\/+$/, '')}`;
  if (route === 'GET /_tunevault/bedrock/rewards') {
    try {
      return json(200, { rewards: aws.bedrock.rewards(req.query.get('job') ?? '') ?? null });
    } catch (err) {
      return json(err instanceof AwsError ? err.status : 500, { message: (err as Error).message });
    }
  }
  try {
    switch (route) {
      case 'GET /_tunevault/health': {
        // Answered while the stack deploys (every other request waits until it is ready).
        const status = aws.readiness;
        return json(status === 'ready' ? 200 : 503, {
          status,
          ready: status === 'ready',
          endpoint: aws.url,
          ...(aws.endpoint.failureReason ? { reason: aws.endpoint.failureReason } : {}),
        });
      }
      case 'GET /_tunevault/stack': {
        const s = aws.stack;
        return json(200, {
          stage: s.stage,
          stateMachineArn: s.stateMachineArn,
          trainingBucket: s.trainingBucket,
          trainingPrefix: s.trainingPrefix,
          outputBucket: s.outputBucket,
          admissionTable: s.admissionTable,
          functions: s.functions.map((f) => ({ key: f.key, name: f.name, arn: f.arn })),
          environment: aws.clientEnvironment(),
          routes: CONTROL_ROUTES,
        });
      }
      case 'GET /_tunevault/iam':
        return json(200, {
          mode: aws.authorizer.mode,
          roles: aws.iam.listRoles().map((r) => ({ name: r.name, arn: r.arn })),
          decisions: aws.authorizer.summary(),
        });
      case 'POST /_tunevault/iam': {
        aws.authorizer.mode = parse(iamSchema, req).mode;
        return json(200, { mode: aws.authorizer.mode });
      }
      case 'GET /_tunevault/iam/decisions': {
        const limit = Number(req.query.get('limit') ?? '1000');
        if (!Number.isInteger(limit) || limit < 1) throw new ControlError('limit: a whole number ≥ 1');
        const principal = req.query.get('principal');
        const decisions = aws.authorizer
          .recent({ limit: 1_000_000, deniedOnly: req.query.get('denied') === 'true' })
          .filter((d) => principal === null || d.principal.includes(principal));
        return json(200, { mode: aws.authorizer.mode, decisions: decisions.slice(-limit) });
      }
      case 'GET /_tunevault/lambda/failures':
        return json(200, { failures: aws.failedAsyncInvocations() });
      case 'GET /_tunevault/faults':
        return json(200, { pending: aws.faults.list() });
      case 'POST /_tunevault/faults': {
        const f = parse(faultSchema, req);
        aws.faults.add(f);
        return json(200, { pending: aws.faults.list() });
      }
      case 'DELETE /_tunevault/faults':
        aws.faults.clear();
        return json(200, { pending: [] });
      case 'POST /_tunevault/s3/redeliver': {
        const r = parse(redeliverSchema, req);
        return json(200, { redelivered: await aws.s3.redeliver(r.bucket, r.key, r.times) });
      }
      case 'POST /_tunevault/s3/objects': {
        const o = parse(seedSchema, req);
        const seeded = await aws.s3.seedObject(o.bucket, o.key, Buffer.from(o.body, o.encoding), {
          versionId: o.versionId,
          ...(o.contentType ? { contentType: o.contentType } : {}),
        });
        return json(seeded.created ? 201 : 200, seeded);
      }
      case 'POST /_tunevault/events/drop': {
        const d = parse(dropSchema, req);
        aws.events.dropNext(d.count, {
          ...(d.source ? { source: d.source } : {}),
          ...(d.detailType ? { detailType: d.detailType } : {}),
        });
        return json(200, { dropping: d });
      }
      case 'POST /_tunevault/bedrock': {
        const b = parse(bedrockSchema, req);
        if (b.jobDurationMs !== undefined) aws.bedrock.setJobDuration(b.jobDurationMs);
        if (b.nextOutcome) aws.bedrock.setNextOutcome(b.nextOutcome, b.count);
        if (b.concurrentJobsQuota !== undefined) aws.bedrock.setConcurrentJobsQuota(b.concurrentJobsQuota);
        return json(200, { ok: true, concurrentJobsQuota: aws.bedrock.concurrentJobsQuota });
      }
      case 'POST /_tunevault/lambda/functions': {
        const f = parse(functionSchema, req);
        return json(201, { functionArn: aws.registerFunction(f.name, f.handler) });
      }
      default:
        return json(404, { message: `unknown control route '${route}'`, routes: CONTROL_ROUTES });
    }
  } catch (err) {
    if (err instanceof ControlError) return json(400, { message: err.message });
    const e = err as Error;
    const status =
      err instanceof AwsError && err.status < 500 ? err.status : e.name === 'NoSuchKey' ? 404 : 500;
    return json(status, { message: `${e.name}: ${e.message}` });
  }
}
