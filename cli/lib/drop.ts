/**
 * Drop a dataset into the training prefix exactly as a user would (sidecar first, then data),
 * find the run its upload started, follow it, and gather what the operator wants to see.
 */
import { GetModelCustomizationJobCommand, ListTagsForResourceCommand } from '@aws-sdk/client-bedrock';
import { GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import fs from 'node:fs';
import { executionArnFor, executionNameFor } from '../../functions/shared/naming';
import { sidecarKeyFor } from '../../functions/start-customization/core';
import { type CliClients, embeddedTriggerFailures, type StackInfo } from './clients';
import { followRun } from './progress';
import { field, loadRun, type RunView } from './run-view';

export interface DropRequest {
  file: string;
  key: string;
  validationFile?: string;
  sidecar?: Record<string, unknown>;
}

export interface RunSummary {
  status: string;
  executionArn: string;
  source: string;
  jobArn?: string;
  modelArn?: string;
  kmsKeyArn?: string;
  modelKmsKeyArn?: string;
  modelTags?: Record<string, string>;
  trainingLoss?: number;
  verdict?: string;
  findings?: number;
  error?: string;
  cause?: string;
  durationMs?: number;
  run: RunView;
}

export class RunNotStartedError extends Error {
  override readonly name = 'RunNotStartedError';
}

async function waitForExecution(
  c: CliClients,
  executionArn: string,
  bucket: string,
  key: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await c.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return;
    } catch (err) {
      if ((err as Error).name !== 'ExecutionDoesNotExist') throw err;
    }
    const tags = await c.s3
      .send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))
      .catch(() => undefined);
    const status = tags?.TagSet?.find((t) => t.Key === 'tunevault:status')?.Value;
    if (status === 'rejected') {
      const reason =
        tags?.TagSet?.find((t) => t.Key === 'tunevault:reason')?.Value ?? 'see the startCustomization logs';
      throw new RunNotStartedError(`s3://${bucket}/${key} was rejected before any run started: ${reason}`);
    }
    if (Date.now() > deadline) {
      // On the embedded AWS, the trigger's own failure says why (an AccessDenied, for instance).
      const failures = c.endpoint ? await embeddedTriggerFailures(c.endpoint) : [];
      const last = failures.at(-1);
      throw new RunNotStartedError(
        last
          ? `no run started for s3://${bucket}/${key}: the S3 trigger ${last.functionArn.split(':').at(-1)} failed after its retries — ${last.error}`
          : `no run started for s3://${bucket}/${key} within ${timeoutMs / 1000} s — is the S3 trigger deployed on this bucket and prefix?`,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

export async function dropAndFollow(
  c: CliClients,
  stack: StackInfo,
  req: DropRequest,
  progress: { quiet?: boolean; out?: NodeJS.WritableStream & { isTTY?: boolean } } = {},
): Promise<RunSummary> {
  const bucket = stack.trainingBucket;
  const key = req.key;
  if (req.validationFile) {
    const validationKey = `validation/${key.slice(stack.trainingPrefix.length)}`;
    await c.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: validationKey, Body: fs.readFileSync(req.validationFile) }),
    );
    req.sidecar = { ...req.sidecar, validationKey };
  }
  if (req.sidecar) {
    const sidecarKey = sidecarKeyFor(key, '.jsonl');
    await c.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: sidecarKey, Body: JSON.stringify(req.sidecar) }),
    );
  }
  await c.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: fs.createReadStream(req.file),
      ContentLength: fs.statSync(req.file).size,
    }),
  );
  const head = await c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const name = executionNameFor({ bucket, key, versionId: head.VersionId, etag: head.ETag });
  const executionArn = executionArnFor(stack.stateMachineArn, name);
  await waitForExecution(c, executionArn, bucket, key, 30_000);
  const status = await followRun(c.sfn, executionArn, progress);
  return summarizeRun(c, await loadRun(c.sfn, executionArn), status);
}

export async function summarizeRun(c: CliClients, run: RunView, status = run.status): Promise<RunSummary> {
  const s = run.state;
  const jobArn = field(s, 'job', 'jobArn');
  const modelArn = field(s, 'model', 'modelArn') ?? field(s, 'jobResult', 'outputModelArn');
  const summary: RunSummary = {
    status,
    executionArn: run.executionArn,
    source: `s3://${field(run.input, 'source', 'bucket')}/${field(run.input, 'source', 'key')}`,
    ...(jobArn ? { jobArn } : {}),
    ...(modelArn ? { modelArn } : {}),
    ...(field(s, 'key', 'keyArn') ? { kmsKeyArn: field(s, 'key', 'keyArn') } : {}),
    ...(field(s, 'model', 'modelKmsKeyArn') ? { modelKmsKeyArn: field(s, 'model', 'modelKmsKeyArn') } : {}),
    ...(field(s, 'scan', 'verdict') ? { verdict: field(s, 'scan', 'verdict') } : {}),
    ...(field<number>(s, 'scan', 'totalFindings') !== undefined
      ? { findings: field<number>(s, 'scan', 'totalFindings') }
      : {}),
    ...(run.error ? { error: run.error } : {}),
    ...(run.cause ? { cause: run.cause } : {}),
    ...(run.durationMs !== undefined ? { durationMs: run.durationMs } : {}),
    run,
  };
  if (modelArn && status === 'SUCCEEDED') {
    const tags = await c.bedrock
      .send(new ListTagsForResourceCommand({ resourceARN: modelArn }))
      .catch(() => undefined);
    summary.modelTags = Object.fromEntries((tags?.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
  }
  if (jobArn) {
    const job = await c.bedrock
      .send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))
      .catch(() => undefined);
    if (job?.trainingMetrics?.trainingLoss !== undefined)
      summary.trainingLoss = job.trainingMetrics.trainingLoss;
  }
  return summary;
}
