/**
 * `tunevault remediate --model ARN --reason R [--retrain]`: the Bedrock guide's answer to a model
 * trained on data that should not have been used — delete the model, filter the data, create a
 * new model. The dataset is found from the model's provenance (its run's input, its
 * `tunevault:source` tag, or its job's training data), tagged quarantined (never deleted), and
 * with --retrain a redacted copy goes back into the training prefix with a sidecar that keeps
 * the dataset's settings and forces the `redact` data policy, which starts a new run.
 */
import {
  type BedrockClient,
  DeleteCustomModelCommand,
  GetCustomModelCommand,
  type GetCustomModelCommandOutput,
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-bedrock';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { Upload } from '@aws-sdk/lib-storage';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BedrockGateway } from '../../functions/shared/aws/bedrock';
import { S3Gateway } from '../../functions/shared/aws/s3';
import { deleteDeployments } from '../../functions/remediate/core';
import { familyForModel, scanTrainingData } from '../../functions/shared/guard';
import { executionNameFor, parseS3Uri, s3Uri, tagSafe, tagText } from '../../functions/shared/naming';
import { type DatasetOptions, datasetOptionsSchema } from '../../functions/shared/types';
import { requireArn } from '../lib/arns';
import { type CliClients, cliClients, embeddedStack, endpointOption } from '../lib/clients';
import { printable as p } from '../lib/text';
import { parseCommandArgs, UsageError } from '../lib/usage';

const HELP = `tunevault remediate --model ARN --reason REASON [--retrain] [--json]
                   [--endpoint URL | --state-machine-arn ARN] [--prefix training/]
  Deletes a custom model trained on data that should not have been used, tags its dataset
  tunevault:status=quarantined (the data is never deleted), and with --retrain writes a redacted
  copy (<name>.redacted.jsonl, with a sidecar forcing dataPolicy redact) into the training
  prefix, which starts a new run.`;

const SUFFIX = '.jsonl';
const SIDECAR_SUFFIX = '.job.json';

/** A problem with what was asked: the message names the bad input. */
export class RemediateError extends Error {
  override readonly name = 'RemediateError';
}

export interface RemediateRequest {
  model: string;
  reason: string;
  retrain: boolean;
  /** Where the redacted copy goes when the dataset itself is not under a training prefix. */
  trainingPrefix?: string;
  stateMachineArn?: string;
}

export interface DatasetRef {
  bucket: string;
  key: string;
  versionId?: string;
  /** How the dataset was identified. */
  foundBy: 'run-input' | 'model-tag' | 'job-training-data';
}

export interface RemediationReport {
  model: { arn: string; name: string; deleted: true; baseModelId: string };
  /** On-demand deployments and Provisioned Throughputs deleted before the model. */
  deploymentsDeleted: string[];
  reason: string;
  dataset: DatasetRef & { s3Uri: string; quarantined: boolean; note?: string };
  trainedOn: string;
  retrain?: {
    key: string;
    s3Uri: string;
    versionId?: string;
    sidecarKey: string;
    dataPolicy: 'redact';
    findingsRedacted: number;
    byType: Record<string, number>;
    records: number;
    executionArn?: string;
  };
}

interface ModelFacts {
  arn: string;
  name: string;
  baseModelId: string;
  trainingS3Uri?: string;
  jobArn?: string;
  tags: Record<string, string>;
}

async function describeModel(bedrock: BedrockClient, model: string): Promise<ModelFacts> {
  let m: GetCustomModelCommandOutput;
  try {
    m = await bedrock.send(new GetCustomModelCommand({ modelIdentifier: model }));
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'ResourceNotFoundException' || name === 'ValidationException')
      throw new RemediateError(
        `--model '${model}': no such custom model (${(err as Error).message}). Was it already deleted? List models with 'aws bedrock list-custom-models'.`,
      );
    throw err;
  }
  if (!m.modelArn) throw new RemediateError(`--model '${model}': Bedrock returned no model ARN.`);
  const tags = await bedrock
    .send(new ListTagsForResourceCommand({ resourceARN: m.modelArn }))
    .then((t) => Object.fromEntries((t.tags ?? []).map((x) => [x.key ?? '', x.value ?? ''])))
    .catch(() => ({}) as Record<string, string>);
  let trainingS3Uri = m.trainingDataConfig?.s3Uri;
  if (!trainingS3Uri && m.jobArn) {
    const job = await bedrock
      .send(new GetModelCustomizationJobCommand({ jobIdentifier: m.jobArn }))
      .catch(() => undefined);
    trainingS3Uri = job?.trainingDataConfig?.s3Uri;
  }
  return {
    arn: m.modelArn,
    name: m.modelName ?? m.modelArn,
    baseModelId: (m.baseModelArn ?? '').split('/').pop() ?? '',
    ...(trainingS3Uri ? { trainingS3Uri } : {}),
    ...(m.jobArn ? { jobArn: m.jobArn } : {}),
    tags,
  };
}

async function exists(c: CliClients, ref: { bucket: string; key: string; versionId?: string }) {
  try {
    await c.s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }));
    return true;
  } catch (err) {
    if (['NotFound', 'NoSuchKey', 'NoSuchVersion', 'NoSuchBucket'].includes((err as Error).name))
      return false;
    throw err;
  }
}

/**
 * The dataset the model came from, most exact first: the run's input (bucket, key, version),
 * the model's `tunevault:source` tag (a tag value may have been made tag-safe, so it must name
 * an existing object), then the job's training data (which is a redacted copy when the guard
 * redacted the original).
 */
async function findDataset(c: CliClients, model: ModelFacts): Promise<DatasetRef> {
  const executionArn = model.tags['tunevault:execution-arn'];
  if (executionArn?.startsWith('arn:')) {
    const execution = await c.sfn.send(new DescribeExecutionCommand({ executionArn })).catch(() => undefined);
    const source = (JSON.parse(execution?.input ?? '{}') as { source?: Record<string, unknown> }).source;
    if (typeof source?.bucket === 'string' && typeof source.key === 'string') {
      return {
        bucket: source.bucket,
        key: source.key,
        ...(typeof source.versionId === 'string' ? { versionId: source.versionId } : {}),
        foundBy: 'run-input',
      };
    }
  }
  const tagged = model.tags['tunevault:source'];
  if (tagged?.startsWith('s3://')) {
    const ref = parseS3Uri(tagged);
    const version = model.tags['tunevault:source-version'];
    const versionId = version?.startsWith('v:') ? version.slice(2) : undefined;
    if (await exists(c, { ...ref, ...(versionId ? { versionId } : {}) }))
      return { ...ref, ...(versionId ? { versionId } : {}), foundBy: 'model-tag' };
  }
  if (model.trainingS3Uri) return { ...parseS3Uri(model.trainingS3Uri), foundBy: 'job-training-data' };
  throw new RemediateError(
    `--model '${model.arn}': cannot tell which dataset it was trained on (no TuneVault provenance tags, and its job names no training data).`,
  );
}

/** `training/a/b.jsonl` → `training/a/b.redacted.jsonl` (a redacted copy of a redacted copy keeps its name). */
export function redactedKeyFor(key: string, fallbackPrefix: string): string {
  const base = key.endsWith(SUFFIX) ? key.slice(0, -SUFFIX.length) : key;
  const stem = base.endsWith('.redacted') ? base : `${base}.redacted`;
  const inPrefix = key.startsWith(fallbackPrefix) ? stem : `${fallbackPrefix}${path.posix.basename(stem)}`;
  return `${inPrefix}${SUFFIX}`;
}

const sidecarKeyOf = (dataKey: string) => `${dataKey.slice(0, -SUFFIX.length)}${SIDECAR_SUFFIX}`;

async function readSidecar(c: CliClients, bucket: string, key: string): Promise<DatasetOptions> {
  if (!key.endsWith(SUFFIX)) return {};
  const sidecar = sidecarKeyOf(key);
  try {
    const out = await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: sidecar }));
    const parsed = datasetOptionsSchema.safeParse(JSON.parse((await out.Body?.transformToString()) ?? '{}'));
    // A sidecar that no longer parses is not carried over; the retrain uses the stage defaults.
    return parsed.success ? parsed.data : {};
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return {};
    throw err;
  }
}

async function retrain(
  c: CliClients,
  dataset: DatasetRef,
  model: ModelFacts,
  req: RemediateRequest,
): Promise<NonNullable<RemediationReport['retrain']>> {
  let body: Readable;
  try {
    const out = await c.s3.send(
      new GetObjectCommand({ Bucket: dataset.bucket, Key: dataset.key, VersionId: dataset.versionId }),
    );
    body = out.Body as Readable;
  } catch (err) {
    if (['NoSuchKey', 'NoSuchVersion', 'NoSuchBucket'].includes((err as Error).name))
      throw new RemediateError(
        `--retrain: ${s3Uri(dataset.bucket, dataset.key)}${dataset.versionId ? ` (version ${dataset.versionId})` : ''} no longer exists, so there is nothing to redact; the model was deleted and nothing else was done.`,
      );
    throw err;
  }
  const original = await readSidecar(c, dataset.bucket, dataset.key);
  const baseModelId = original.baseModelId ?? model.baseModelId;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-redact-'));
  const file = path.join(tmp, 'redacted.jsonl');
  try {
    const sink = fs.createWriteStream(file);
    const report = await scanTrainingData(body, {
      family: familyForModel(baseModelId, original.customizationType) ?? 'bedrock-conversation-2024',
      policy: 'redact',
      // Everything the guard can see goes, whatever its severity.
      blockAtOrAbove: 'low',
      ...(original.dataPolicy?.allow ? { allowList: { values: original.dataPolicy.allow } } : {}),
      redactTo: sink,
    });
    await new Promise<void>((resolve, reject) =>
      sink.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    if (report.verdict === 'invalid') {
      const problems = report.problems
        .filter((p) => p.level === 'error')
        .slice(0, 3)
        .map((p) => (p.line ? `line ${p.line}: ${p.reason}` : p.reason));
      throw new RemediateError(
        `--retrain: ${s3Uri(dataset.bucket, dataset.key)} is not valid training data for ${baseModelId} (${problems.join('; ')}); fix it and upload it again. The model was deleted and the dataset quarantined.`,
      );
    }
    const key = redactedKeyFor(dataset.key, req.trainingPrefix ?? 'training/');
    const sidecarKey = sidecarKeyOf(key);
    const sidecar: DatasetOptions = {
      ...original,
      dataPolicy: { ...original.dataPolicy, policy: 'redact' },
      tags: { ...original.tags, 'tunevault:retrain-of': tagSafe(model.name, 256) },
    };
    // The sidecar first: the data's upload starts the run, which reads it.
    await c.s3.send(
      new PutObjectCommand({
        Bucket: dataset.bucket,
        Key: sidecarKey,
        Body: JSON.stringify(sidecar, null, 2),
        ContentType: 'application/json',
      }),
    );
    await new Upload({
      client: c.s3,
      params: {
        Bucket: dataset.bucket,
        Key: key,
        Body: fs.createReadStream(file),
        ContentType: 'application/jsonl',
      },
    }).done();
    const head = await c.s3.send(new HeadObjectCommand({ Bucket: dataset.bucket, Key: key }));
    const versionId = head.VersionId && head.VersionId !== 'null' ? head.VersionId : undefined;
    const executionArn = req.stateMachineArn
      ? `${req.stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionNameFor({
          bucket: dataset.bucket,
          key,
          versionId,
          etag: head.ETag,
        })}`
      : undefined;
    return {
      key,
      s3Uri: s3Uri(dataset.bucket, key),
      ...(versionId ? { versionId } : {}),
      sidecarKey,
      dataPolicy: 'redact',
      findingsRedacted: report.totalFindings,
      byType: Object.fromEntries(Object.entries(report.counts.byType).map(([k, v]) => [k, v ?? 0])),
      records: report.records,
      ...(executionArn ? { executionArn } : {}),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Delete, quarantine, and (optionally) retrain. Throws RemediateError for bad input. */
export async function remediateModel(c: CliClients, req: RemediateRequest): Promise<RemediationReport> {
  if (!req.model.trim()) throw new RemediateError('--model is empty: give the custom model ARN (or name).');
  if (!req.reason.trim())
    throw new RemediateError('--reason is empty: say why the model must go (it is recorded on the dataset).');
  const model = await describeModel(c.bedrock, req.model);
  const dataset = await findDataset(c, model);

  // Deployments first: they serve the model (and bill for it) and must not outlive it.
  const deploymentsDeleted = (await deleteDeployments(model.arn, new BedrockGateway(c.bedrock))).map(
    (a) => a.target,
  );
  try {
    await c.bedrock.send(new DeleteCustomModelCommand({ modelIdentifier: model.arn }));
  } catch (err) {
    throw new RemediateError(
      `could not delete ${model.arn}: ${(err as Error).name}: ${(err as Error).message}${deploymentsDeleted.length > 0 ? ` (its deployments ${deploymentsDeleted.join(', ')} were deleted)` : ' (nothing was changed)'}.`,
    );
  }

  let quarantined = false;
  let note: string | undefined;
  if (await exists(c, dataset)) {
    await new S3Gateway(c.s3).mergeObjectTags(
      dataset.bucket,
      dataset.key,
      {
        'tunevault:status': 'quarantined',
        'tunevault:reason': tagText(req.reason),
        'tunevault:remediated-model': tagText(model.name),
      },
      dataset.versionId,
    );
    quarantined = true;
  } else {
    note = 'the dataset object no longer exists; there was nothing to tag';
  }

  const report: RemediationReport = {
    model: { arn: model.arn, name: model.name, deleted: true, baseModelId: model.baseModelId },
    deploymentsDeleted,
    reason: req.reason,
    dataset: {
      ...dataset,
      s3Uri: s3Uri(dataset.bucket, dataset.key),
      quarantined,
      ...(note ? { note } : {}),
    },
    trainedOn: model.trainingS3Uri ?? s3Uri(dataset.bucket, dataset.key),
  };
  if (req.retrain) report.retrain = await retrain(c, dataset, model, req);
  return report;
}

/** The human answer; names, keys, reasons and tags come from data, so each is made printable. */
export function formatRemediation(r: RemediationReport): string {
  const lines: string[] = [];
  const line = (label: string, value: string) => lines.push(`  ${label.padEnd(12)} ${value}`);
  lines.push(`Remediated custom model ${p(r.model.name)}`);
  for (const d of r.deploymentsDeleted) line('Deployment', `${p(d)} — deleted first`);
  line('Model', `${p(r.model.arn)} — deleted`);
  line('Reason', p(r.reason));
  line(
    'Dataset',
    `${p(r.dataset.s3Uri)}${r.dataset.versionId ? ` (version ${p(r.dataset.versionId)})` : ''} — ${r.dataset.quarantined ? 'tagged tunevault:status=quarantined' : p(r.dataset.note ?? 'not tagged')}`,
  );
  if (r.trainedOn !== r.dataset.s3Uri) line('Trained on', p(r.trainedOn));
  if (r.retrain) {
    const types = Object.entries(r.retrain.byType)
      .map(([t, n]) => `${p(t)}×${n}`)
      .join(', ');
    line(
      'Retrain',
      `${p(r.retrain.s3Uri)} — ${r.retrain.findingsRedacted} finding(s) redacted${types ? ` (${types})` : ''}, ${r.retrain.records} record(s)`,
    );
    line('Sidecar', `${p(r.retrain.sidecarKey)} (dataPolicy: redact)`);
    line('New run', p(r.retrain.executionArn ?? 'started by the upload (see tunevault runs)'));
  }
  return lines.join('\n');
}

const OPTIONS = {
  model: { type: 'string' },
  reason: { type: 'string' },
  retrain: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  endpoint: { type: 'string' },
  'state-machine-arn': { type: 'string' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('remediate', { args, options: OPTIONS });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.model || !values.reason?.trim()) {
    const missing = [
      ...(!values.model ? ['--model ARN (the custom model to delete)'] : []),
      ...(!values.reason?.trim() ? ['--reason REASON (why it must go; it is recorded on the dataset)'] : []),
    ];
    throw new UsageError(`give ${missing.join(' and ')}.\n${HELP}`);
  }
  requireArn('--model', values.model, 'custom model');
  const smFlag = values['state-machine-arn'];
  if (smFlag !== undefined) requireArn('--state-machine-arn', smFlag, 'state machine');
  const endpoint = endpointOption(values.endpoint);
  const stack = endpoint ? await embeddedStack(endpoint) : undefined;
  const c = cliClients(endpoint);
  try {
    const stateMachineArn = smFlag ?? stack?.stateMachineArn;
    const trainingPrefix = values.prefix ?? stack?.trainingPrefix;
    const report = await remediateModel(c, {
      model: values.model,
      reason: values.reason,
      retrain: values.retrain,
      ...(stateMachineArn ? { stateMachineArn } : {}),
      ...(trainingPrefix ? { trainingPrefix } : {}),
    });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatRemediation(report));
    return 0;
  } catch (err) {
    if (err instanceof RemediateError) {
      if (values.json) console.log(JSON.stringify({ error: err.message }, null, 2));
      console.error(`tunevault remediate: ${p(err.message)}`);
      return 1;
    }
    throw err;
  }
}
