/**
 * Sample data for the sample events: `events/*.json` are fixed files that describe one upload
 * (`events/startCustomization.json`: `training/my first seté.jsonl`, with a version id) and the
 * run that follows it, whose steps name that object and the run's CMK by its key ARN.
 * `tunevault local` stores that object — the bundled demo dataset, 64 records as the events say —
 * under that version id with its (empty) dataset sidecar, and creates the key the events name,
 * so `serverless invoke local` of the steps that read the object or use the key succeeds.
 *
 * The sidecar goes in through the S3 API. A chosen version id or key id is something S3 and KMS
 * never let a client choose, so the dataset and the key are fixtures made by the services
 * themselves (also `POST /_tunevault/s3/objects`): the dataset is stored as PutObject stores it
 * (SSE-KMS under the bucket's default) but without an ObjectCreated notification — invoking
 * startCustomization with its event is what delivers that notification; the key is an enabled,
 * rotating, customer managed key tagged `tunevault:fixture=events`, with no alias, so a run still
 * creates (or finds) its own CMK under the stage's alias. Jobs and models the events name are not
 * made up: they only exist in the middle of a run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { EmbeddedAws } from './embedded';
import { PROJECT_ROOT } from './stack';

export interface SeededObject {
  /** `s3://bucket/key` or a key ARN. */
  what: string;
  versionId?: string;
  created: boolean;
}

/** Key ARNs of this account and region that the sample events name. */
function keyArnsIn(eventsDir: string, region: string, accountId: string): string[] {
  const pattern = new RegExp(
    `arn:aws:kms:${region}:${accountId}:key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
    'g',
  );
  const arns = new Set<string>();
  for (const f of fs
    .readdirSync(eventsDir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    for (const m of fs.readFileSync(path.join(eventsDir, f), 'utf8').matchAll(pattern)) arns.add(m[0]);
  }
  return [...arns];
}

interface S3EventRecord {
  s3: { bucket: { name: string }; object: { key: string; versionId?: string } };
}

/** S3 event keys are form-encoded: `+` is a space, then percent-decoding. */
function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * Stores what events/startCustomization.json describes and creates the keys the events name;
 * skips records for buckets this stack does not have (another stage).
 */
export async function seedSampleEvents(
  aws: EmbeddedAws,
  options: {
    eventsDir?: string;
    dataset?: string;
  } = {},
): Promise<SeededObject[]> {
  const eventsDir = options.eventsDir ?? path.join(PROJECT_ROOT, 'events');
  const datasetFile = options.dataset ?? path.join(PROJECT_ROOT, 'examples', 'demo', 'support-chat.jsonl');
  const eventFile = path.join(eventsDir, 'startCustomization.json');
  if (!fs.existsSync(eventFile) || !fs.existsSync(datasetFile)) return [];
  const event = JSON.parse(fs.readFileSync(eventFile, 'utf8')) as { Records?: S3EventRecord[] };
  const body = fs.readFileSync(datasetFile);
  const stack = aws.stack;
  const s3 = new S3Client({
    endpoint: aws.url,
    region: aws.region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const seeded: SeededObject[] = [];
  for (const arn of keyArnsIn(eventsDir, aws.region, aws.accountId)) {
    const keyId = arn.slice(arn.lastIndexOf('/') + 1);
    const key = aws.kms.seedKey(keyId, 'TuneVault sample-event key (events/*.json name it)');
    seeded.push({ what: key.keyArn, created: key.created });
  }
  try {
    for (const record of event.Records ?? []) {
      const bucket = record.s3.bucket.name;
      const key = decodeEventKey(record.s3.object.key);
      const versionId = record.s3.object.versionId;
      if (bucket !== stack.trainingBucket || !key.startsWith(stack.trainingPrefix) || !versionId) continue;

      // The dataset sidecar next to it, unless one is there already (a state dir keeps it).
      const sidecar = key.endsWith('.jsonl')
        ? `${key.slice(0, -'.jsonl'.length)}.job.json`
        : `${key}.job.json`;
      const exists = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: sidecar })).then(
        () => true,
        (err: Error) => {
          if (err.name === 'NotFound' || err.name === 'NoSuchKey') return false;
          throw err;
        },
      );
      if (!exists) {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: sidecar,
            Body: '{}\n',
            ContentType: 'application/json',
          }),
        );
      }
      seeded.push({ what: `s3://${bucket}/${sidecar}`, created: !exists });

      const object = await aws.s3.seedObject(bucket, key, body, {
        versionId,
        contentType: 'application/jsonl',
      });
      seeded.push({ what: `s3://${bucket}/${key}`, versionId, created: object.created });
    }
  } finally {
    s3.destroy();
  }
  return seeded;
}
