/**
 * `tunevault remediate --model ARN --reason R [--retrain]`: the Bedrock guide's answer to a model
 * trained on data that should not have been used — delete the model, filter the data, create a
 * new model. The dataset is found from the model's provenance (its run's input, its
 * `tunevault:source` tag, or its job's training data), tagged quarantined (never deleted), and
 * with --retrain a redacted copy goes back into the training prefix with a sidecar that keeps
 * the dataset's settings and forces the `redact` data policy, which starts a new run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deleteDeployments } from '../../functions/remediate/core';
import { BedrockGateway } from '../../functions/shared/aws/bedrock';
import { withContext } from '../../functions/shared/aws/errors';
import { S3Gateway } from '../../functions/shared/aws/s3';
import { SfnGateway } from '../../functions/shared/aws/sfn';
import { familyForModel, scanTrainingData } from '../../functions/shared/guard';
import {
  executionArnFor,
  executionNameFor,
  parseS3Uri,
  s3Uri,
  tagSafe,
  tagText,
} from '../../functions/shared/naming';
import { type DatasetOptions, datasetOptionsSchema } from '../../functions/shared/types';
import { SIDECAR_SUFFIX } from '../../functions/start-customization/core';
import { requireArn } from '../lib/arns';
import { cliClients, embeddedStack, endpointOption } from '../lib/clients';
import { printable as p } from '../lib/text';
import { parseCommandArgs, UsageError } from '../lib/usage';

const HELP = `tunevault remediate --model ARN --reason REASON [--retrain] [--json]
                   [--endpoint URL | --state-machine-arn ARN] [--prefix training/]
  Deletes a custom model trained on data that should not have been used, tags its dataset
  tunevault:status=quarantined (the data is never deleted), and with --retrain writes a redacted
  copy (<name>.redacted.jsonl, with a sidecar forcing dataPolicy redact) into the training
  prefix, which starts a new run.`;

const SUFFIX = '.jsonl';

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

/** The AWS the command works in, through the workflow's own gateways. */
export interface Gateways {
  bedrock: BedrockGateway;
  s3: S3Gateway;
  sfn: SfnGateway;
}

/**
 * One read of the model's provenance. Only "there is none" is an answer (each gateway maps its
 * not-found); anything else stops the command before anything is deleted, saying what it read.
 */
async function reading<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw withContext(err, `reading ${what} (nothing was deleted)`);
  }
}

async function describeModel(g: Gateways, model: string): Promise<ModelFacts> {
  const m = await reading(`custom model ${model}`, () => g.bedrock.getCustomModel(model));
  if (!m)
    throw new RemediateError(
      `--model '${model}': no such custom model. Was it already deleted? List models with 'aws bedrock list-custom-models'.`,
    );
  const tags = await reading(`the tags of ${m.modelArn}`, () => g.bedrock.listTags(m.modelArn));
  const jobArn = m.jobArn;
  const job =
    !m.trainingS3Uri && jobArn ? await reading(`job ${jobArn}`, () => g.bedrock.getJob(jobArn)) : undefined;
  const trainingS3Uri = m.trainingS3Uri ?? job?.trainingS3Uri;
  return {
    arn: m.modelArn,
    name: m.modelName || m.modelArn,
    baseModelId: m.baseModelId ?? '',
    ...(trainingS3Uri ? { trainingS3Uri } : {}),
    ...(jobArn ? { jobArn } : {}),
    tags,
  };
}

const exists = (g: Gateways, ref: { bucket: string; key: string; versionId?: string }) =>
  reading(s3Uri(ref.bucket, ref.key), () => g.s3.headObject(ref.bucket, ref.key, ref.versionId)).then(
    (head) => head !== undefined,
  );

/**
 * The dataset the model came from, most exact first: the run's input (bucket, key, version),
 * the model's `tunevault:source` tag (a tag value may have been made tag-safe, so it must name
 * an existing object), then the job's training data (which is a redacted copy when the guard
 * redacted the original). A run AWS no longer keeps falls through to the tag.
 */
async function findDataset(g: Gateways, model: ModelFacts): Promise<DatasetRef> {
  const executionArn = model.tags['tunevault:execution-arn'];
  if (executionArn?.startsWith('arn:')) {
    const input = await reading(`execution ${executionArn}`, () => g.sfn.executionInput(executionArn));
    const source = input?.source as Record<string, unknown> | undefined;
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
    if (await exists(g, { ...ref, ...(versionId ? { versionId } : {}) }))
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

async function readSidecar(g: Gateways, bucket: string, key: string): Promise<DatasetOptions> {
  if (!key.endsWith(SUFFIX)) return {};
  const text = await g.s3.getText(bucket, sidecarKeyOf(key));
  if (text === undefined) return {};
  const parsed = datasetOptionsSchema.safeParse(JSON.parse(text));
  // A sidecar that no longer parses is not carried over; the retrain uses the stage defaults.
  return parsed.success ? parsed.data : {};
}

async function retrain(
  g: Gateways,
  dataset: DatasetRef,
  model: ModelFacts,
  req: RemediateRequest,
): Promise<NonNullable<RemediationReport['retrain']>> {
  const body = await g.s3.openStream(dataset.bucket, dataset.key, dataset.versionId);
  if (!body)
    throw new RemediateError(
      `--retrain: ${s3Uri(dataset.bucket, dataset.key)}${dataset.versionId ? ` (version ${dataset.versionId})` : ''} no longer exists, so there is nothing to redact; the model was deleted and nothing else was done.`,
    );
  const original = await readSidecar(g, dataset.bucket, dataset.key);
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
    await g.s3.upload(dataset.bucket, sidecarKey, JSON.stringify(sidecar, null, 2), 'application/json');
    await g.s3.upload(dataset.bucket, key, fs.createReadStream(file), 'application/jsonl');
    const head = await g.s3.headObject(dataset.bucket, key);
    const versionId = head?.versionId && head.versionId !== 'null' ? head.versionId : undefined;
    const executionArn = req.stateMachineArn
      ? executionArnFor(
          req.stateMachineArn,
          executionNameFor({
            bucket: dataset.bucket,
            key,
            versionId,
            etag: head?.etag,
          }),
        )
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
export async function remediateModel(g: Gateways, req: RemediateRequest): Promise<RemediationReport> {
  if (!req.model.trim()) throw new RemediateError('--model is empty: give the custom model ARN (or name).');
  if (!req.reason.trim())
    throw new RemediateError('--reason is empty: say why the model must go (it is recorded on the dataset).');
  const model = await describeModel(g, req.model);
  const dataset = await findDataset(g, model);

  // Deployments first: they serve the model (and bill for it) and must not outlive it.
  const deploymentsDeleted = (await deleteDeployments(model.arn, g.bedrock)).map((a) => a.target);
  try {
    await g.bedrock.deleteCustomModel(model.arn);
  } catch (err) {
    throw new RemediateError(
      `could not delete ${model.arn}: ${(err as Error).name}: ${(err as Error).message}${deploymentsDeleted.length > 0 ? ` (its deployments ${deploymentsDeleted.join(', ')} were deleted)` : ' (nothing was changed)'}.`,
    );
  }

  const datasetUri = s3Uri(dataset.bucket, dataset.key);
  const quarantined = await g.s3
    .mergeObjectTagsIfPresent(
      dataset.bucket,
      dataset.key,
      {
        'tunevault:status': 'quarantined',
        'tunevault:reason': tagText(req.reason),
        'tunevault:remediated-model': tagText(model.name),
      },
      dataset.versionId,
    )
    .catch((err: unknown) => {
      throw withContext(err, `quarantining ${datasetUri} (the model ${model.arn} was deleted)`);
    });
  const report: RemediationReport = {
    model: { arn: model.arn, name: model.name, deleted: true, baseModelId: model.baseModelId },
    deploymentsDeleted,
    reason: req.reason,
    dataset: {
      ...dataset,
      s3Uri: datasetUri,
      quarantined,
      ...(quarantined ? {} : { note: 'the dataset object no longer exists; there was nothing to tag' }),
    },
    trainedOn: model.trainingS3Uri ?? datasetUri,
  };
  if (req.retrain) report.retrain = await retrain(g, dataset, model, req);
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
  const gateways = {
    bedrock: new BedrockGateway(c.bedrock),
    s3: new S3Gateway(c.s3),
    sfn: new SfnGateway(c.sfn),
  };
  try {
    const stateMachineArn = smFlag ?? stack?.stateMachineArn;
    const trainingPrefix = values.prefix ?? stack?.trainingPrefix;
    const report = await remediateModel(gateways, {
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
