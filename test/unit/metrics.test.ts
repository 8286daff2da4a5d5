/**
 * The EMF lines TuneVault's functions print: names, units, namespace, service, and dimensions
 * that never carry an ARN, a key or a value from the training data.
 */
import { Readable } from 'node:stream';
import {
  BedrockClient,
  GetModelCustomizationJobCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-bedrock';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createMetrics,
  DIMENSION_VALUES,
  dimensionValue,
  jobDurationSeconds,
  METRICS_NAMESPACE,
  recordGuardScan,
  recordRunEnd,
} from '../../functions/shared/metrics';

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

const ACCOUNT = '111122223333';
const JOB_ARN = `arn:aws:bedrock:us-east-1:${ACCOUNT}:model-customization-job/amazon.titan-text-express-v1/abc123`;
const MODEL_ARN = `arn:aws:bedrock:us-east-1:${ACCOUNT}:custom-model/amazon.titan-text-express-v1/m1`;
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const EXECUTION_ARN = `arn:aws:states:us-east-1:${ACCOUNT}:execution:tunevault-dev-customization:tv-leaky-0001`;
const FAKE_AWS_KEY = 'AKIAZ7Q3XK2M4PLN8WRT';
const FAKE_EMAIL = 'jane.doe@acme-corp.io';
const SOURCE = { bucket: 'acme-training', key: 'training/customers 2026.jsonl', versionId: 'v1' };

const context = {
  functionName: 'tunevault-test',
  awsRequestId: 'req-1',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:tunevault-test`,
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** Every EMF line written to stdout while `act` runs. */
async function captureEmf(act: () => Promise<unknown>): Promise<{ lines: EmfLine[]; raw: string }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    await act().catch(() => undefined);
  } finally {
    spy.mockRestore();
  }
  const raw = chunks.join('');
  const lines = raw
    .split('\n')
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as EmfLine);
  return { lines, raw };
}

/** name → {unit, value, dimensions} for every metric of every line. */
function metricsOf(lines: EmfLine[]) {
  return lines.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((cw) =>
      cw.Metrics.map((m) => ({
        namespace: cw.Namespace,
        name: m.Name,
        unit: m.Unit,
        value: line[m.Name],
        dimensions: Object.fromEntries(cw.Dimensions.flat().map((d) => [d, line[d]])),
      })),
    ),
  );
}

/** No dimension may identify a resource or carry data: only the closed sets, and the service. */
function expectSafeDimensions(lines: EmfLine[], service: string) {
  for (const m of metricsOf(lines)) {
    for (const [name, value] of Object.entries(m.dimensions)) {
      expect(typeof value).toBe('string');
      expect(value).not.toMatch(/arn:|s3:\/\/|AKIA|@|\//);
      if (name === 'service') expect(value).toBe(service);
      else
        expect([...(DIMENSION_VALUES[name as keyof typeof DIMENSION_VALUES] ?? []), 'other']).toContain(
          value,
        );
    }
  }
}

const savedEnv = { ...process.env };
beforeEach(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});
afterEach(() => {
  process.env = { ...savedEnv };
});

describe('metrics helpers', () => {
  it('records a run by outcome, with its job duration in seconds', async () => {
    const metrics = createMetrics('notify');
    const { lines } = await captureEmf(async () => {
      recordRunEnd(metrics, 'completed', {
        creationTime: new Date('2026-11-01T10:00:00Z'),
        endTime: new Date('2026-11-01T11:30:00Z'),
      });
      metrics.publishStoredMetrics();
    });

    expect(lines).toHaveLength(1);
    expect(metricsOf(lines)).toEqual([
      {
        namespace: METRICS_NAMESPACE,
        name: 'Runs',
        unit: 'Count',
        value: 1,
        dimensions: { service: 'notify', outcome: 'completed' },
      },
      {
        namespace: METRICS_NAMESPACE,
        name: 'JobDuration',
        unit: 'Seconds',
        value: 5400,
        dimensions: { service: 'notify', outcome: 'completed' },
      },
    ]);
  });

  it('records no job duration for a run without an ended job', async () => {
    const metrics = createMetrics('notify');
    const { lines } = await captureEmf(async () => {
      recordRunEnd(metrics, 'failed', { creationTime: new Date() });
      metrics.publishStoredMetrics();
    });
    expect(metricsOf(lines).map((m) => m.name)).toEqual(['Runs']);
    expect(jobDurationSeconds(undefined)).toBeUndefined();
  });

  it('records guard findings by type and by severity, one line each, and the verdict', async () => {
    const metrics = createMetrics('scan-training-data');
    const { lines } = await captureEmf(async () =>
      recordGuardScan(metrics, {
        verdict: 'block',
        counts: {
          byType: { AWS_ACCESS_KEY_ID: 2, EMAIL: 3, PHONE: 0 },
          bySeverity: { low: 0, medium: 3, high: 2, critical: 0 },
        },
      }),
    );

    const got = metricsOf(lines).map((m) => [m.name, m.unit, m.value, m.dimensions]);
    expect(got).toEqual([
      ['GuardScans', 'Count', 1, { service: 'scan-training-data', verdict: 'block' }],
      ['GuardFindings', 'Count', 2, { service: 'scan-training-data', findingType: 'AWS_ACCESS_KEY_ID' }],
      ['GuardFindings', 'Count', 3, { service: 'scan-training-data', findingType: 'EMAIL' }],
      ['GuardFindingsBySeverity', 'Count', 3, { service: 'scan-training-data', severity: 'medium' }],
      ['GuardFindingsBySeverity', 'Count', 2, { service: 'scan-training-data', severity: 'high' }],
    ]);
    expectSafeDimensions(lines, 'scan-training-data');
  });

  it('turns any value outside a dimension’s closed set into "other"', () => {
    expect(dimensionValue('findingType', FAKE_AWS_KEY)).toBe('other');
    expect(dimensionValue('findingType', 'EMAIL')).toBe('EMAIL');
    expect(dimensionValue('outcome', MODEL_ARN)).toBe('other');
    expect(dimensionValue('severity', FAKE_EMAIL)).toBe('other');
  });

  it('prints nothing while POWERTOOLS_METRICS_DISABLED is true (the embedded AWS sets it)', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const metrics = createMetrics('notify');
    const { lines } = await captureEmf(async () => {
      recordRunEnd(metrics, 'completed');
      metrics.publishStoredMetrics();
    });
    expect(lines).toHaveLength(0);
  });
});

describe('metrics from the handlers', () => {
  const bedrock = mockClient(BedrockClient);
  const events = mockClient(EventBridgeClient);
  const s3 = mockClient(S3Client);
  beforeEach(() => {
    bedrock.reset();
    events.reset();
    s3.reset();
  });

  // Loaded after the environment is set (handlers read it once, at load), in this file's registry
  // so that the client mocks apply.
  const loadHandler = <T>(path: string): T => require(path) as T;

  it('Notify: Runs by outcome and JobDuration from the job’s creation and end times', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
    bedrock.on(GetModelCustomizationJobCommand).resolves({
      jobArn: JOB_ARN,
      jobName: 'tv-leaky-0001',
      status: 'Completed',
      creationTime: new Date('2026-11-01T10:00:00Z'),
      endTime: new Date('2026-11-01T10:42:00Z'),
    });
    const { handler } = loadHandler<typeof import('../../functions/notify/handler')>(
      '../../functions/notify/handler',
    );

    const { lines, raw } = await captureEmf(() =>
      handler(
        {
          outcome: 'completed',
          executionArn: EXECUTION_ARN,
          run: {
            source: SOURCE,
            job: { jobArn: JOB_ARN, jobName: 'tv-leaky-0001' },
            model: { modelArn: MODEL_ARN },
            key: { keyArn: KEY_ARN },
            scan: { verdict: 'pass', totalFindings: 0 },
          },
        },
        context,
      ),
    );

    expect(metricsOf(lines).map((m) => [m.namespace, m.name, m.unit, m.value, m.dimensions])).toEqual([
      ['TuneVault', 'Runs', 'Count', 1, { service: 'notify', outcome: 'completed' }],
      ['TuneVault', 'JobDuration', 'Seconds', 2520, { service: 'notify', outcome: 'completed' }],
    ]);
    expectSafeDimensions(lines, 'notify');
    // Not even as EMF metadata: the metric lines carry no resource names at all.
    const emfText = JSON.stringify(lines);
    for (const secret of [JOB_ARN, MODEL_ARN, KEY_ARN, EXECUTION_ARN, SOURCE.bucket, SOURCE.key])
      expect(emfText).not.toContain(secret);
    expect(raw).toContain('"Runs":1');
  });

  it('Notify: a failed job lookup costs the JobDuration metric, not the notification', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-2' }] });
    bedrock
      .on(GetModelCustomizationJobCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    const { handler } = loadHandler<typeof import('../../functions/notify/handler')>(
      '../../functions/notify/handler',
    );
    let result: unknown;
    const { lines } = await captureEmf(async () => {
      result = await handler(
        {
          outcome: 'remediated',
          executionArn: EXECUTION_ARN,
          run: {
            source: SOURCE,
            job: { jobArn: JOB_ARN },
            error: { Error: 'SensitiveDataError', Cause: 'quarantined' },
          },
        },
        context,
      );
    });
    expect(result).toEqual({ eventId: 'evt-2', detailType: 'TuneVault Run Remediated' });
    expect(metricsOf(lines).map((m) => [m.name, m.dimensions])).toEqual([
      ['Runs', { service: 'notify', outcome: 'remediated' }],
    ]);
  });

  it('ScanTrainingData: findings by type even when the data is blocked, and never the values', async () => {
    Object.assign(process.env, {
      BASE_MODEL_ID: 'amazon.nova-micro-v1:0:128k',
      DATA_POLICY: 'block',
      DATA_BLOCK_SEVERITY: 'high',
      OUTPUT_BUCKET: 'acme-output',
      OUTPUT_PREFIX: 'output/',
    });
    const turn = (q: string, a: string) => ({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: q }] },
        { role: 'assistant', content: [{ text: a }] },
      ],
    });
    const data = [
      turn('My lamp flickers.', 'Tighten the bulb.'),
      turn(`Deploy with ${FAKE_AWS_KEY} please.`, 'Never paste keys.'),
      turn(`Write to ${FAKE_EMAIL}.`, 'Will do.'),
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([Buffer.from(`${data}\n`)]) }));
    s3.on(PutObjectCommand).resolves({});
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
    s3.on(PutObjectTaggingCommand).resolves({});
    const { handler } = loadHandler<typeof import('../../functions/scan-training-data/handler')>(
      '../../functions/scan-training-data/handler',
    );

    let error: Error | undefined;
    const { lines, raw } = await captureEmf(() =>
      handler(
        {
          source: SOURCE,
          dataset: {},
          key: {
            keyArn: KEY_ARN,
            keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
            created: false,
            policyChanged: false,
            statementsAdded: [],
          },
          executionArn: EXECUTION_ARN,
        },
        context,
      ).catch((err: Error) => {
        error = err;
      }),
    );

    expect(error?.name).toBe('SensitiveDataError');
    const got = metricsOf(lines).map((m) => [m.namespace, m.name, m.unit, m.value, m.dimensions]);
    expect(got).toEqual(
      expect.arrayContaining([
        ['TuneVault', 'GuardScans', 'Count', 1, { service: 'scan-training-data', verdict: 'block' }],
        [
          'TuneVault',
          'GuardFindings',
          'Count',
          1,
          { service: 'scan-training-data', findingType: 'AWS_ACCESS_KEY_ID' },
        ],
        ['TuneVault', 'GuardFindings', 'Count', 1, { service: 'scan-training-data', findingType: 'EMAIL' }],
        [
          'TuneVault',
          'GuardFindingsBySeverity',
          'Count',
          1,
          { service: 'scan-training-data', severity: 'high' },
        ],
      ]),
    );
    expectSafeDimensions(lines, 'scan-training-data');
    expect(raw).not.toContain(FAKE_AWS_KEY);
    expect(raw).not.toContain(FAKE_EMAIL);
  });
});
