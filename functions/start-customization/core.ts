/**
 * S3 ObjectCreated → one execution per object version. The execution name is derived from the
 * version, so duplicate deliveries (S3 is at-least-once) and replays start nothing new.
 */
import * as z from 'zod';
import { type JobDefaults, JobSpecError, resolveJobSpec } from '../shared/catalog/job-spec';
import { InvalidInputError } from '../shared/errors';
import { decodeS3EventKey, executionNameFor, tagText } from '../shared/naming';
import { type DatasetOptions, datasetOptionsSchema, type RunInput, type SourceObject } from '../shared/types';
import type { S3Gateway } from '../shared/aws/s3';

export const s3EventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string().startsWith('ObjectCreated:'),
        s3: z.object({
          bucket: z.object({ name: z.string().min(3) }),
          object: z.object({
            key: z.string().min(1),
            size: z.number().int().nonnegative().optional(),
            eTag: z.string().optional(),
            versionId: z.string().optional(),
            sequencer: z.string().optional(),
          }),
        }),
      }),
    )
    .min(1),
});
export type S3ObjectCreatedEvent = z.infer<typeof s3EventSchema>;

export interface StartPorts extends Pick<S3Gateway, 'mergeObjectTags'> {
  getText(bucket: string, key: string): Promise<string | undefined>;
  startExecution(name: string, input: RunInput): Promise<{ executionArn: string; alreadyStarted: boolean }>;
}

export interface StartSettings {
  trainingBucket: string;
  prefix: string;
  suffix: string;
  /** The stage's job settings: every dataset's job is checked against the catalog before a run starts. */
  job: JobDefaults;
}

export type RecordOutcome =
  | { key: string; outcome: 'started' | 'already-started'; executionArn: string }
  | { key: string; outcome: 'skipped'; reason: string }
  | { key: string; outcome: 'rejected'; reason: string };

export const SIDECAR_SUFFIX = '.job.json';

export function sidecarKeyFor(key: string, suffix: string): string {
  return key.endsWith(suffix)
    ? `${key.slice(0, -suffix.length)}${SIDECAR_SUFFIX}`
    : `${key}${SIDECAR_SUFFIX}`;
}

/** Parses a sidecar; the error names the field and the file so the owner can fix it. */
export function parseSidecar(text: string, where: string): DatasetOptions {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`${where} is not valid JSON (${(err as Error).message}).`);
  }
  const parsed = datasetOptionsSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown field(s) ${i.keys.map((k) => `'${[...i.path, k].join('.')}'`).join(', ')}`
          : `${i.path.join('.') || '(root)'}: ${i.message}`,
      )
      .join('; ');
    throw new InvalidInputError(
      `${where} is not a valid dataset sidecar — ${problems}. Allowed fields: ${Object.keys(datasetOptionsSchema.shape).join(', ')}.`,
    );
  }
  return parsed.data;
}

export function scopeProblem(bucket: string, key: string, s: StartSettings): string | undefined {
  if (bucket !== s.trainingBucket)
    return `bucket '${bucket}' is not the training bucket '${s.trainingBucket}'`;
  if (!key.startsWith(s.prefix)) return `key is outside the training prefix '${s.prefix}'`;
  if (!key.endsWith(s.suffix)) return `key does not end with '${s.suffix}'`;
  return undefined;
}

export async function startCustomization(
  event: S3ObjectCreatedEvent,
  settings: StartSettings,
  ports: StartPorts,
): Promise<RecordOutcome[]> {
  const outcomes: RecordOutcome[] = [];
  for (const record of event.Records) {
    const bucket = record.s3.bucket.name;
    let key: string;
    try {
      key = decodeS3EventKey(record.s3.object.key);
    } catch {
      throw new InvalidInputError(`S3 event key '${record.s3.object.key}' is not valid percent-encoding`);
    }
    const outOfScope = scopeProblem(bucket, key, settings);
    if (outOfScope) {
      outcomes.push({ key, outcome: 'skipped', reason: outOfScope });
      continue;
    }
    const source: SourceObject = {
      bucket,
      key,
      ...(record.s3.object.versionId ? { versionId: record.s3.object.versionId } : {}),
      ...(record.s3.object.eTag ? { etag: record.s3.object.eTag.replace(/"/g, '') } : {}),
      ...(record.s3.object.size !== undefined ? { size: record.s3.object.size } : {}),
    };
    if (source.size === 0) {
      await rejectObject(ports, source, 'the file is empty (0 bytes)');
      outcomes.push({ key, outcome: 'rejected', reason: 'the file is empty (0 bytes)' });
      continue;
    }
    const sidecarKey = sidecarKeyFor(key, settings.suffix);
    let dataset: DatasetOptions = {};
    try {
      const text = await ports.getText(bucket, sidecarKey);
      const where = `s3://${bucket}/${sidecarKey}`;
      if (text !== undefined) dataset = parseSidecar(text, where);
      checkJob(dataset, settings.job, text !== undefined ? where : undefined);
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      await rejectObject(ports, source, err.message);
      outcomes.push({ key, outcome: 'rejected', reason: err.message });
      continue;
    }
    const input: RunInput = { source, dataset };
    const started = await ports.startExecution(executionNameFor(source), input);
    outcomes.push({
      key,
      outcome: started.alreadyStarted ? 'already-started' : 'started',
      executionArn: started.executionArn,
    });
  }
  return outcomes;
}

/**
 * Refuses, before any run and any job, a dataset whose job the catalog says Bedrock would refuse
 * (or TuneVault cannot check): the reason names the sidecar field or stage parameter to change.
 */
function checkJob(dataset: DatasetOptions, job: JobDefaults, sidecar: string | undefined): void {
  try {
    resolveJobSpec(dataset, job);
  } catch (err) {
    if (!(err instanceof JobSpecError)) throw err;
    const subject = sidecar ?? `the stage's job settings (no sidecar) in ${job.region}`;
    throw new InvalidInputError(`${subject}: ${err.message}`);
  }
}

/** A rejected object keeps its data; its tags say why it did not run. */
async function rejectObject(ports: StartPorts, source: SourceObject, reason: string): Promise<void> {
  await ports.mergeObjectTags(
    source.bucket,
    source.key,
    { 'tunevault:status': 'rejected', 'tunevault:reason': tagText(reason) },
    source.versionId,
  );
}
