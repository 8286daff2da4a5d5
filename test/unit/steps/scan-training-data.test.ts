/**
 * The ScanTrainingData step through its ports, with the real guard as the scanner: what it
 * writes, tags, copies and throws for data that passes, is blocked, is redacted or is invalid.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  InvalidInputError,
  InvalidTrainingDataError,
  SensitiveDataError,
} from '../../../functions/shared/errors';
import { scanTrainingData } from '../../../functions/shared/guard';
import { conversation } from '../guard/fixtures';
import type { ScanOptions } from '../../../functions/shared/guard/types';
import {
  MAX_VALIDATION_BYTES,
  runArtifactsPrefix,
  type ScanInput,
  type ScanPorts,
  type ScanSettings,
  scanTrainingDataStep,
} from '../../../functions/scan-training-data/core';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/k1';
const EXECUTION_ARN = 'arn:aws:states:us-east-1:111122223333:execution:tunevault-dev-customization:tv-run-1';
const ARTIFACTS = 'output/runs/tv-run-1/';

const record = (i: number) =>
  conversation(`Question number ${i} about the return policy?`, `Answer number ${i}.`);
/** Eight records: the minimum of the stage's model, Nova Micro. */
const CLEAN = `${[1, 2, 3, 4, 5, 6, 7, 8].map(record).join('\n')}\n`;
const SECRET = 'AKIAQ7XW3PLMN5RTK2VB';
const LEAKY = `${CLEAN}${conversation(`My key is ${SECRET}`, 'Rotate it.')}\n`;
const NOVA_MICRO = 'amazon.nova-micro-v1:0:128k';

const settings: ScanSettings = {
  job: {
    region: 'us-east-1',
    baseModelId: 'amazon.nova-micro-v1:0',
    customizationType: 'FINE_TUNING',
    hyperParameters: {},
    rftGraderLambdaArns: [],
    deploy: 'none',
    provisionedModelUnits: 1,
  },
  policy: 'block',
  blockAtOrAbove: 'high',
  outputBucket: 'output-bucket',
  outputPrefix: 'output/',
};

const input = (over: Partial<ScanInput> = {}): ScanInput => ({
  source: { bucket: 'training', key: 'training/a.jsonl', versionId: 'v1' },
  dataset: {},
  key: { keyArn: KEY_ARN },
  executionArn: EXECUTION_ARN,
  ...over,
});

async function text(body: Readable | string): Promise<string> {
  if (typeof body === 'string') return body;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

function ports(objects: Record<string, string>, over: Partial<ScanPorts> = {}) {
  const uploads: Record<string, { body: string; kmsKeyArn: string }> = {};
  const copies: { from: string; to: string; kmsKeyArn: string }[] = [];
  const tags: { key: string; tags: Record<string, string>; versionId?: string | undefined }[] = [];
  const scans: ScanOptions[] = [];
  const opened: string[] = [];
  const p: ScanPorts = {
    openStream: async (_bucket, key, versionId) => {
      opened.push(versionId ? `${key}@${versionId}` : key);
      const body = objects[key];
      return body === undefined ? undefined : Readable.from([Buffer.from(body)]);
    },
    uploadEncrypted: async (bucket, key, body, kmsKeyArn) => {
      uploads[`${bucket}/${key}`] = { body: await text(body), kmsKeyArn };
    },
    copyVersionEncrypted: async (source, bucket, key, kmsKeyArn) => {
      copies.push({
        from: `${source.bucket}/${source.key}@${source.versionId}`,
        to: `${bucket}/${key}`,
        kmsKeyArn,
      });
      return 'copied';
    },
    mergeObjectTags: async (_bucket, key, t, versionId) => {
      tags.push({ key, tags: t, versionId });
    },
    scan: (body, options) => {
      scans.push(options);
      return scanTrainingData(body, options);
    },
    ...over,
  };
  return { p, uploads, copies, tags, scans, opened };
}

describe('runArtifactsPrefix', () => {
  it('is <output prefix>runs/<execution name>/, adding the missing slash', () => {
    expect(runArtifactsPrefix('output/', EXECUTION_ARN)).toBe(ARTIFACTS);
    expect(runArtifactsPrefix('output', EXECUTION_ARN)).toBe(ARTIFACTS);
    expect(runArtifactsPrefix('', EXECUTION_ARN)).toBe('runs/tv-run-1/');
  });
});

describe('scanTrainingDataStep', () => {
  it('passes clean data: reads the version, writes the report under the CMK, copies exactly that version', async () => {
    const { p, uploads, copies, tags, scans, opened } = ports({ 'training/a.jsonl': CLEAN });
    const summary = await scanTrainingDataStep(input(), settings, p);
    expect(opened).toEqual(['training/a.jsonl@v1']);
    expect(scans[0]).toEqual({
      family: 'bedrock-conversation-2024',
      limits: expect.objectContaining({ minRecords: 8, maxRecords: 20_000 }),
      policy: 'block',
      blockAtOrAbove: 'high',
    });
    expect(summary).toEqual({
      verdict: 'pass',
      records: 8,
      bytes: Buffer.byteLength(CLEAN),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      totalFindings: 0,
      bySeverity: { low: 0, medium: 0, high: 0, critical: 0 },
      byType: {},
      trainingS3Uri: `s3://output-bucket/${ARTIFACTS}training.jsonl`,
      reportS3Uri: `s3://output-bucket/${ARTIFACTS}guard-report.json`,
    });
    expect(copies).toEqual([
      {
        from: 'training/training/a.jsonl@v1',
        to: `output-bucket/${ARTIFACTS}training.jsonl`,
        kmsKeyArn: KEY_ARN,
      },
    ]);
    const report = uploads[`output-bucket/${ARTIFACTS}guard-report.json`];
    expect(report?.kmsKeyArn).toBe(KEY_ARN);
    expect(JSON.parse(report?.body ?? '{}')).toMatchObject({
      source: 's3://training/training/a.jsonl',
      versionId: 'v1',
      baseModelId: NOVA_MICRO,
      verdict: 'pass',
    });
    expect(tags).toEqual([]);
  });

  it('blocks a secret: quarantines the version, throws SensitiveDataError, copies nothing, and the report holds no raw value', async () => {
    const { p, uploads, copies, tags } = ports({ 'training/a.jsonl': LEAKY });
    const attempt = scanTrainingDataStep(input(), settings, p);
    await expect(attempt).rejects.toBeInstanceOf(SensitiveDataError);
    await expect(attempt).rejects.toMatchObject({
      summary: `s3://training/training/a.jsonl holds 1 finding(s) (AWS_ACCESS_KEY_ID×1) at or above 'high'; the object is quarantined and no job was submitted. Redact it (policy 'redact') or allow-list known-safe values. Report: s3://output-bucket/${ARTIFACTS}guard-report.json`,
      // The run keeps the count and the report as data (step-failure.ts).
      details: { findings: 1, reportS3Uri: `s3://output-bucket/${ARTIFACTS}guard-report.json` },
    });
    expect(copies).toEqual([]);
    expect(tags[0]).toEqual({
      key: 'training/a.jsonl',
      tags: {
        'tunevault:status': 'quarantined',
        'tunevault:reason': 'sensitive data: 1 findings - AWS_ACCESS_KEY_IDx1',
      },
      versionId: 'v1',
    });
    expect(JSON.stringify(uploads)).not.toContain(SECRET);
  });

  it("uses the sidecar's threshold and allow-list over the stage's", async () => {
    const { p, scans } = ports({ 'training/a.jsonl': LEAKY });
    const summary = await scanTrainingDataStep(
      input({ dataset: { dataPolicy: { blockAtOrAbove: 'critical', allow: [SECRET] } } }),
      settings,
      p,
    );
    expect(scans[0]).toMatchObject({ blockAtOrAbove: 'critical', allowList: { values: [SECRET] } });
    expect(summary.verdict).toBe('pass');
  });

  it('redacts under the redact policy: trains on the sanitized copy streamed to S3, never on a copy of the original', async () => {
    const { p, uploads, copies } = ports({ 'training/a.jsonl': LEAKY });
    const summary = await scanTrainingDataStep(
      input({ dataset: { dataPolicy: { policy: 'redact' } } }),
      settings,
      p,
    );
    expect(summary.verdict).toBe('redact');
    expect(summary.trainingS3Uri).toBe(`s3://output-bucket/${ARTIFACTS}redacted.jsonl`);
    expect(copies).toEqual([]);
    const redacted = uploads[`output-bucket/${ARTIFACTS}redacted.jsonl`];
    expect(redacted?.kmsKeyArn).toBe(KEY_ARN);
    expect(redacted?.body.split('\n').filter(Boolean)).toHaveLength(9);
    expect(redacted?.body).not.toContain(SECRET);
  });

  it('refuses invalid data with InvalidTrainingDataError listing the first problems by line', async () => {
    const bad = `${CLEAN}not json\n{"prompt":1}\n`;
    const { p, copies } = ports({ 'training/a.jsonl': bad });
    const attempt = scanTrainingDataStep(input(), settings, p);
    await expect(attempt).rejects.toBeInstanceOf(InvalidTrainingDataError);
    await expect(attempt).rejects.toMatchObject({
      summary: expect.stringMatching(
        /^s3:\/\/training\/training\/a\.jsonl is not valid bedrock-conversation-2024 \(Converse API messages\) training data for Nova Micro \(FINE_TUNING\): line 9: .+; line 10: .+\. Full report: s3:\/\/output-bucket\/output\/runs\/tv-run-1\/guard-report\.json$/,
      ),
      details: { reportS3Uri: `s3://output-bucket/${ARTIFACTS}guard-report.json` },
    });
    expect(copies).toEqual([]);
  });

  it('lists three errors without an "and N more"', async () => {
    const { p } = ports({ 'training/a.jsonl': `${CLEAN}not json\n{"prompt":1}\n` });
    await expect(scanTrainingDataStep(input(), settings, p)).rejects.toMatchObject({
      summary: `s3://training/training/a.jsonl is not valid bedrock-conversation-2024 (Converse API messages) training data for Nova Micro (FINE_TUNING): line 9: not valid JSON: each line must be one JSON object; line 10: schemaVersion is missing; line 10: messages is missing. Full report: s3://output-bucket/${ARTIFACTS}guard-report.json`,
    });
  });

  it('adds the format hint to the refusal when the records fit another format', async () => {
    const pc = `${[1, 2, 3].map((i) => JSON.stringify({ prompt: `q${i}`, completion: `a${i}` })).join('\n')}\n`;
    const { p } = ports({ 'training/a.jsonl': pc });
    await expect(scanTrainingDataStep(input(), settings, p)).rejects.toThrow(
      /\. These records are in the prompt\/completion format, which .+ Full report: s3:\/\/output-bucket\//,
    );
  });

  it('names each finding type with its count, and hands the counts by type on', async () => {
    const twoKinds = `${LEAKY}${conversation('Mail me at jane.doe@example.com', 'Done.')}\n`;
    const { p } = ports({ 'training/a.jsonl': twoKinds });
    const summary = await scanTrainingDataStep(
      input({ dataset: { dataPolicy: { policy: 'redact' } } }),
      settings,
      p,
    );
    expect(summary.byType).toEqual({ AWS_ACCESS_KEY_ID: 1, EMAIL: 1 });
    const blocked = ports({ 'training/a.jsonl': twoKinds });
    await expect(
      scanTrainingDataStep(
        input({ dataset: { dataPolicy: { blockAtOrAbove: 'low' } } }),
        settings,
        blocked.p,
      ),
    ).rejects.toMatchObject({
      summary: expect.stringContaining('holds 2 finding(s) (AWS_ACCESS_KEY_ID×1, EMAIL×1)'),
    });
  });

  it('hands the scan its worker settings only when both the parallelism and the worker file are set', async () => {
    const recorded: ScanOptions[] = [];
    const scan: ScanPorts['scan'] = (body, o) => {
      recorded.push(o);
      const { parallelism: _p, workerFile: _w, cpus: _c, ...inProcess } = o;
      return scanTrainingData(body, inProcess);
    };
    const run = (over: Partial<ScanSettings>) =>
      scanTrainingDataStep(
        input(),
        { ...settings, ...over },
        ports({ 'training/a.jsonl': CLEAN }, { scan }).p,
      );
    await run({ parallelism: 2, workerFile: '/opt/guard-worker.js', cpus: 2 });
    await run({ parallelism: 2 });
    await run({ workerFile: '/opt/guard-worker.js' });
    expect(recorded.map((o) => [o.parallelism, o.workerFile, o.cpus])).toEqual([
      [2, '/opt/guard-worker.js', 2],
      [undefined, undefined, undefined],
      [undefined, undefined, undefined],
    ]);
  });

  it('says "and N more" when there are more than five errors', async () => {
    const { p } = ports({ 'training/a.jsonl': `${CLEAN}${'x\n'.repeat(7)}` });
    await expect(scanTrainingDataStep(input(), settings, p)).rejects.toThrow(/; and 2 more\. Full report/);
  });

  it('throws InvalidInputError when the version is gone before the guard reads it', async () => {
    const { p } = ports({});
    const attempt = scanTrainingDataStep(input(), settings, p);
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(
      's3://training/training/a.jsonl was deleted before the data guard could read it.',
    );
  });

  it.each([
    ['gone', 'deleted'],
    ['changed', 'overwritten'],
  ] as const)('throws InvalidInputError when the copy finds the version %s', async (answer, word) => {
    const { p } = ports({ 'training/a.jsonl': CLEAN }, { copyVersionEncrypted: async () => answer });
    await expect(scanTrainingDataStep(input(), settings, p)).rejects.toThrow(
      new InvalidInputError(
        `s3://training/training/a.jsonl was ${word} while the data guard read it; nothing was trained. Upload it again to start a new run.`,
      ),
    );
  });

  it('ends the redacted upload and reports the scan error when the scan fails', async () => {
    let uploadEnded = false;
    const { p } = ports(
      { 'training/a.jsonl': CLEAN },
      {
        uploadEncrypted: async (_b, _k, body) => {
          await text(body);
          uploadEnded = true;
          throw new Error('upload broke too');
        },
        scan: async () => {
          throw new Error('scanner exploded');
        },
      },
    );
    await expect(
      scanTrainingDataStep(input({ dataset: { dataPolicy: { policy: 'redact' } } }), settings, p),
    ).rejects.toThrow('scanner exploded');
    expect(uploadEnded).toBe(true);
  });

  it("picks the record format of the sidecar's base model and customization type", async () => {
    const { p, scans } = ports({ 'training/a.jsonl': CLEAN });
    const attempt = scanTrainingDataStep(
      input({
        dataset: { baseModelId: 'amazon.titan-text-express-v1', customizationType: 'CONTINUED_PRE_TRAINING' },
      }),
      settings,
      p,
    );
    // Conversations are not continued pre-training input: the job's format was the one checked.
    await expect(attempt).rejects.toThrow(
      /is not valid continued pre-training input training data for Titan Text G1 - Express \(CONTINUED_PRE_TRAINING\)/,
    );
    expect(scans[0]?.family).toBe('continued-pretraining');
  });

  it('refuses a job the catalog refuses with InvalidInputError, before reading the data', async () => {
    const { p, opened } = ports({ 'training/a.jsonl': CLEAN });
    const attempt = scanTrainingDataStep(
      input({ dataset: { customizationType: 'CONTINUED_PRE_TRAINING' } }),
      settings,
      p,
    );
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(
      /^The dataset's job is not valid: Nova Micro does not support customizationType CONTINUED_PRE_TRAINING/,
    );
    expect(opened).toEqual([]);
  });
});

describe('scanTrainingDataStep: validation data from the sidecar', () => {
  const withValidation = (over: Partial<ScanInput['dataset']> = {}) =>
    input({ dataset: { validationKey: 'validation/v.jsonl', ...over } });

  it("applies the sidecar's allow-list to the validation data too", async () => {
    const { p, scans } = ports({ 'training/a.jsonl': CLEAN, 'validation/v.jsonl': record(9) });
    await scanTrainingDataStep(withValidation({ dataPolicy: { allow: ['known-safe'] } }), settings, p);
    expect(scans[1]?.allowList).toEqual({ values: ['known-safe'] });
  });

  it('judges it like the training data and hands Bedrock a copy of exactly the bytes judged', async () => {
    const { p, uploads, scans } = ports({ 'training/a.jsonl': CLEAN, 'validation/v.jsonl': record(9) });
    const summary = await scanTrainingDataStep(withValidation(), settings, p);
    expect(scans[1]).toMatchObject({
      family: 'bedrock-conversation-2024',
      policy: 'block',
      limits: { minRecords: 1, maxRecords: 20_000 },
    });
    expect(summary.validation).toEqual({
      verdict: 'pass',
      records: 1,
      totalFindings: 0,
      s3Uri: `s3://output-bucket/${ARTIFACTS}validation.jsonl`,
      reportS3Uri: `s3://output-bucket/${ARTIFACTS}validation-guard-report.json`,
    });
    expect(uploads[`output-bucket/${ARTIFACTS}validation.jsonl`]).toEqual({
      body: record(9),
      kmsKeyArn: KEY_ARN,
    });
    expect(
      JSON.parse(uploads[`output-bucket/${ARTIFACTS}validation-guard-report.json`]?.body ?? '{}'),
    ).toMatchObject({
      source: 's3://training/validation/v.jsonl',
      baseModelId: NOVA_MICRO,
    });
  });

  it('refuses a missing validation object, naming the sidecar field', async () => {
    const { p } = ports({ 'training/a.jsonl': CLEAN });
    await expect(scanTrainingDataStep(withValidation(), settings, p)).rejects.toThrow(
      new InvalidInputError(
        "validation data s3://training/validation/v.jsonl (the sidecar's validationKey) does not exist; upload it before the training data.",
      ),
    );
  });

  it('quarantines validation data with a secret and throws SensitiveDataError naming it', async () => {
    const { p, tags } = ports({ 'training/a.jsonl': CLEAN, 'validation/v.jsonl': LEAKY });
    const attempt = scanTrainingDataStep(withValidation(), settings, p);
    await expect(attempt).rejects.toBeInstanceOf(SensitiveDataError);
    await expect(attempt).rejects.toMatchObject({
      summary: expect.stringMatching(
        /^validation data s3:\/\/training\/validation\/v\.jsonl \(the sidecar's validationKey\) holds 1 finding\(s\) \(AWS_ACCESS_KEY_ID×1\) at or above 'high'; it is quarantined/,
      ),
      details: { findings: 1, reportS3Uri: `s3://output-bucket/${ARTIFACTS}validation-guard-report.json` },
    });
    expect(tags).toEqual([
      {
        key: 'validation/v.jsonl',
        tags: {
          'tunevault:status': 'quarantined',
          'tunevault:reason': 'sensitive data: 1 findings - AWS_ACCESS_KEY_IDx1',
        },
        versionId: undefined,
      },
    ]);
  });

  it('refuses invalid validation data with InvalidTrainingDataError', async () => {
    const { p } = ports({ 'training/a.jsonl': CLEAN, 'validation/v.jsonl': 'not json\n' });
    await expect(scanTrainingDataStep(withValidation(), settings, p)).rejects.toMatchObject({
      name: 'InvalidTrainingDataError',
      summary: expect.stringMatching(
        /^validation data s3:\/\/training\/validation\/v\.jsonl \(the sidecar's validationKey\) is not valid bedrock-conversation-2024 \(Converse API messages\) training data for Nova Micro \(FINE_TUNING\): line 1: /,
      ),
      details: { reportS3Uri: `s3://output-bucket/${ARTIFACTS}validation-guard-report.json` },
    });
  });

  it('hands Bedrock the sanitized validation copy under the redact policy', async () => {
    const { p, uploads } = ports({ 'training/a.jsonl': CLEAN, 'validation/v.jsonl': LEAKY });
    const summary = await scanTrainingDataStep(
      withValidation({ dataPolicy: { policy: 'redact' } }),
      settings,
      p,
    );
    expect(summary.validation?.verdict).toBe('redact');
    const copy = uploads[`output-bucket/${ARTIFACTS}validation.jsonl`]?.body ?? '';
    expect(copy.split('\n').filter(Boolean)).toHaveLength(9);
    expect(copy).not.toContain(SECRET);
  });

  it(`refuses validation data over ${MAX_VALIDATION_BYTES / 1024 / 1024} MiB without reading it all`, async () => {
    let served = 0;
    const chunk = Buffer.alloc(8 * 1024 * 1024, 'a');
    const endless = new Readable({
      read() {
        served += chunk.length;
        this.push(served > MAX_VALIDATION_BYTES * 2 ? null : chunk);
      },
    });
    const { p } = ports(
      { 'training/a.jsonl': CLEAN },
      {
        openStream: async (_b, key) =>
          key === 'validation/v.jsonl' ? endless : Readable.from([Buffer.from(CLEAN)]),
      },
    );
    await expect(scanTrainingDataStep(withValidation(), settings, p)).rejects.toMatchObject({
      name: 'InvalidTrainingDataError',
      summary:
        "validation data s3://training/validation/v.jsonl (the sidecar's validationKey) is larger than 64 MiB; Bedrock validation sets are far smaller.",
      details: {},
    });
    expect(served).toBeLessThanOrEqual(MAX_VALIDATION_BYTES + 2 * chunk.length);
  });

  it(`takes validation data of exactly ${MAX_VALIDATION_BYTES / 1024 / 1024} MiB whole, to the scan (the limit is inclusive)`, async () => {
    const chunk = Buffer.alloc(8 * 1024 * 1024, 'a');
    const { p } = ports(
      { 'training/a.jsonl': CLEAN },
      {
        openStream: async (_b, key) =>
          key === 'validation/v.jsonl'
            ? Readable.from(Array.from({ length: MAX_VALIDATION_BYTES / chunk.length }, () => chunk))
            : Readable.from([Buffer.from(CLEAN)]),
        // The training data is scanned for real; the validation bytes only counted (a 64 MiB line
        // would otherwise be scanned), and the run stopped there.
        scan: async (body, options) => {
          const all = await buffer(body);
          if (all.length === MAX_VALIDATION_BYTES) throw new Error(`the scan got all ${all.length} bytes`);
          return scanTrainingData(Readable.from([all]), options);
        },
      },
    );
    await expect(scanTrainingDataStep(withValidation(), settings, p)).rejects.toThrow(
      `the scan got all ${MAX_VALIDATION_BYTES} bytes`,
    );
  });
});
