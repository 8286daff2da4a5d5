/** The run report's pieces, offline: parsing, checks, the chart, escaping and self-containment. */
import { BedrockClient, GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { RunSummary } from '../../cli/lib/drop';
import { networkReferences } from '../../cli/lib/report';
import { lossChartSvg, niceTicks } from '../../cli/lib/report/chart';
import { bucketRulesOf, keyChecksOf } from '../../cli/lib/report/checks';
import {
  collectReportData,
  type KeyView,
  parseMetricsCsv,
  type ReportData,
} from '../../cli/lib/report/collect';
import { renderReport } from '../../cli/lib/report/html';
import {
  guardFindingsOf,
  guardReportUriOf,
  guardVerdictOf,
  jobWaitMs,
  type RunView,
  type StateSpan,
  timelineOf,
} from '../../cli/lib/run-view';
import { BucketNotCompliantError, SensitiveDataError } from '../../functions/shared/errors';
import type { RuleResult } from '../../functions/shared/types';
import type { HistoryEvent } from '@aws-sdk/client-sfn';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY = 'arn:aws:kms:us-east-1:111122223333:key/ffffffff-0000-0000-0000-000000000000';

function runView(over: Partial<RunView> = {}): RunView {
  const t0 = Date.UTC(2026, 10, 1, 10, 0, 0);
  return {
    executionArn: 'arn:aws:states:us-east-1:111122223333:execution:tv:tv-run-1',
    name: 'tv-run-1',
    status: 'SUCCEEDED',
    startDate: t0,
    stopDate: t0 + 10_000,
    durationMs: 10_000,
    input: { source: { bucket: 'acme-training', key: 'training/chat.jsonl' } },
    state: {},
    timeline: [
      {
        name: 'SubmitCustomizationJob',
        enteredAt: t0,
        exitedAt: t0 + 1000,
        durationMs: 1000,
        outcome: 'succeeded',
      },
      {
        name: 'WaitForJob',
        enteredAt: t0 + 1000,
        exitedAt: t0 + 4000,
        durationMs: 3000,
        outcome: 'succeeded',
      },
      {
        name: 'CheckCustomizationJob',
        enteredAt: t0 + 4000,
        exitedAt: t0 + 4500,
        durationMs: 500,
        outcome: 'succeeded',
      },
      {
        name: 'WaitForJob',
        enteredAt: t0 + 4500,
        exitedAt: t0 + 7000,
        durationMs: 2500,
        outcome: 'succeeded',
      },
      { name: 'Succeeded', enteredAt: t0 + 7000, exitedAt: t0 + 7000, durationMs: 0, outcome: 'succeeded' },
    ],
    transitions: 5,
    ...over,
  };
}

function data(run: RunView, over: Partial<ReportData> = {}): ReportData {
  const summary: RunSummary = {
    status: run.status,
    executionArn: run.executionArn,
    source: `s3://${(run.input.source as { bucket: string }).bucket}/${(run.input.source as { key: string }).key}`,
    ...(run.error ? { error: run.error } : {}),
    ...(run.cause ? { cause: run.cause } : {}),
    run,
  };
  return {
    summary,
    training: [],
    validation: [],
    gaps: [],
    generatedAt: Date.UTC(2026, 10, 1, 11),
    ...over,
  };
}

/** How AWS records a Lambda error in the Catch's Cause: the Node.js runtime's answer, as JSON. */
const awsCause = (err: Error) =>
  JSON.stringify({ errorType: err.name, errorMessage: err.message, trace: (err.stack ?? '').split('\n') });

describe('reading a run', () => {
  const RULES: RuleResult[] = [
    {
      bucket: 'acme-training',
      rule: 'default-encryption',
      passed: false,
      detail: 'default encryption is SSE-S3 (AES256); this stage requires SSE-KMS (aws:kms)',
    },
    { bucket: 'acme-training', rule: 'tls-only-policy', passed: true, detail: 'denies requests without TLS' },
    { bucket: 'acme-output', rule: 'block-public-access', passed: false, detail: 'not on: BlockPublicAcls' },
  ];

  it('takes every rule a bucket refusal carried, as the execution or the Catch recorded it', () => {
    const err = new BucketNotCompliantError(RULES);
    // Ended, as AWS records it: the execution's cause is the runtime's JSON.
    const ended = runView({ status: 'FAILED', error: err.name, cause: awsCause(err) });
    // On its way through Remediate, as the embedded AWS records it: the Catch's Cause is the message.
    const caught = runView({ status: 'RUNNING', state: { error: { Error: err.name, Cause: err.message } } });
    for (const run of [ended, caught]) expect(bucketRulesOf(run)).toEqual({ rules: RULES, from: 'refusal' });

    const checked = runView({ state: { buckets: { compliant: true, rules: [{ ...RULES[1] }] } } });
    expect(bucketRulesOf(checked)).toEqual({ rules: [RULES[1]], from: 'run' });
    expect(bucketRulesOf(runView())).toEqual({ rules: [], from: 'none' });
    // A message alone carries no rules: nothing is parsed back out of text.
    expect(bucketRulesOf(runView({ error: err.name, cause: err.summary })).from).toBe('none');
  });

  it('takes the guard verdict, count and report from the error when the guard blocked the run', () => {
    const err = new SensitiveDataError('s3://b/training/x.jsonl holds 3 finding(s) (EMAIL×3)', {
      findings: 3,
      reportS3Uri: 's3://out/output/runs/tv-x/guard-report.json',
    });
    for (const cause of [err.message, awsCause(err)]) {
      const blocked = runView({ status: 'FAILED', error: 'SensitiveDataError', cause });
      expect(guardVerdictOf(blocked)).toBe('block');
      expect(guardFindingsOf(blocked)).toBe(3);
      expect(guardReportUriOf(blocked)).toBe('s3://out/output/runs/tv-x/guard-report.json');
    }

    const passed = runView({
      state: { scan: { verdict: 'pass', totalFindings: 0, reportS3Uri: 's3://out/r.json' } },
    });
    expect([guardVerdictOf(passed), guardFindingsOf(passed), guardReportUriOf(passed)]).toEqual([
      'pass',
      0,
      's3://out/r.json',
    ]);
    expect(guardVerdictOf(runView())).toBeUndefined();
  });

  it('tells a failure its Retry answered from one its Catch took (history event types as in the Step Functions API)', () => {
    let t = Date.UTC(2026, 10, 1);
    const ev = (type: string, extra: Partial<HistoryEvent> = {}): HistoryEvent => {
      t += 10;
      return { type, timestamp: new Date(t), id: 0, ...extra } as HistoryEvent;
    };
    const enter = (name: string) => ev('TaskStateEntered', { stateEnteredEventDetails: { name } });
    const exit = (name: string) => ev('TaskStateExited', { stateExitedEventDetails: { name } });
    const failed = (error: string) =>
      ev('TaskFailed', { taskFailedEventDetails: { resource: 'invoke', resourceType: 'lambda', error } });
    const spans = timelineOf([
      enter('EnsureCustomerManagedKey'),
      ev('TaskScheduled'),
      failed('Lambda.ServiceException'),
      ev('TaskScheduled'),
      failed('KeyBootstrapInProgressError'),
      ev('TaskScheduled'),
      ev('TaskSucceeded'),
      exit('EnsureCustomerManagedKey'),
      enter('WaitForJob'),
      ev('TaskScheduled'),
      ev('TaskTimedOut', {
        taskTimedOutEventDetails: { resource: 'invoke', resourceType: 'lambda', error: 'States.Timeout' },
      }),
      exit('WaitForJob'),
      enter('Remediate'),
      ev('LambdaFunctionScheduled'),
      ev('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: 'Boom' } }),
    ]);
    expect(
      spans.map(({ name, outcome, error, retries, retriedErrors }) => ({
        name,
        outcome,
        error,
        retries,
        retriedErrors,
      })),
    ).toEqual([
      {
        name: 'EnsureCustomerManagedKey',
        outcome: 'succeeded',
        error: undefined,
        retries: 2,
        retriedErrors: ['Lambda.ServiceException', 'KeyBootstrapInProgressError'],
      },
      {
        name: 'WaitForJob',
        outcome: 'caught',
        error: 'States.Timeout',
        retries: undefined,
        retriedErrors: undefined,
      },
      { name: 'Remediate', outcome: 'failed', error: 'Boom', retries: undefined, retriedErrors: undefined },
    ]);
  });

  it('measures the job from the first wait to the last wait or poll', () => {
    expect(jobWaitMs(runView())).toBe(6000);
    expect(jobWaitMs(runView({ timeline: [] }))).toBeUndefined();
  });

  it('reads Bedrock metrics CSVs by column name', () => {
    const csv = 'step_number,epoch_number,training_loss,perplexity\n0,0,2.5,12.1\n1,0,2.25,9.4\n\n';
    expect(parseMetricsCsv(csv, 'training_loss')).toEqual([
      { step: 0, loss: 2.5 },
      { step: 1, loss: 2.25 },
    ]);
    expect(parseMetricsCsv(csv, 'validation_loss')).toEqual([]);
  });
});

describe('key checks', () => {
  const state = {
    key: { keyArn: KEY_ARN, alias: 'alias/tunevault', created: false, statementsAdded: [] },
    model: { modelArn: 'arn:aws:bedrock:us-east-1:111122223333:custom-model/m', modelKmsKeyArn: KEY_ARN },
  };

  const USABLE: KeyView = {
    keyArn: KEY_ARN,
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    keyState: 'Enabled',
    keyManager: 'CUSTOMER',
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    rotationEnabled: true,
  };
  const usability = (key: KeyView) =>
    keyChecksOf(data(runView({ state }), { key })).find((c) => c.name === 'Key usable by Bedrock');

  it('passes a model encrypted with the run’s key, and fails one that is not', () => {
    const ok = keyChecksOf(data(runView({ state }), { key: USABLE }));
    expect(ok.map((c) => [c.name, c.status])).toEqual([
      ['Customer managed key', 'pass'],
      ['Key usable by Bedrock', 'pass'],
      ['Automatic key rotation', 'pass'],
      ['Key policy', 'pass'],
      ['Model encrypted with the key', 'pass'],
    ]);

    const wrong = keyChecksOf(
      data(runView({ state: { ...state, model: { modelKmsKeyArn: OTHER_KEY } } }), {
        key: { ...USABLE, keyState: 'Disabled', rotationEnabled: false },
      }),
    );
    expect(Object.fromEntries(wrong.map((c) => [c.name, c.status]))).toMatchObject({
      'Key usable by Bedrock': 'fail',
      'Automatic key rotation': 'warn',
      'Model encrypted with the key': 'fail',
    });
  });

  it('judges the key by EnsureCustomerManagedKey’s own rule: spec, usage and manager too', () => {
    expect(usability(USABLE)).toMatchObject({ status: 'pass' });
    // The step refuses these; so does the report (it once passed an unknown spec and never read the usage).
    expect(usability({ ...USABLE, keySpec: 'Unknown' })).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('is asymmetric (Unknown); Bedrock needs a symmetric key'),
    });
    expect(usability({ ...USABLE, keyUsage: 'SIGN_VERIFY' })).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('has usage SIGN_VERIFY; Bedrock needs ENCRYPT_DECRYPT'),
    });
    expect(usability({ ...USABLE, keyManager: 'AWS' })).toMatchObject({ status: 'fail' });
    expect(usability({ ...USABLE, keyState: 'PendingDeletion' })).toMatchObject({ status: 'fail' });
  });

  it('fails the model check with ModelNotCompliantError’s message', () => {
    const cause = `Custom model m is encrypted with an AWS owned key, not TuneVault's key ${KEY_ARN}.`;
    const checks = keyChecksOf(
      data(runView({ status: 'FAILED', error: 'ModelNotCompliantError', cause, state: { key: state.key } })),
    );
    expect(checks.find((c) => c.name === 'Model encrypted with the key')).toEqual({
      name: 'Model encrypted with the key',
      status: 'fail',
      detail: cause,
    });
  });
});

describe('collecting a run', () => {
  const JOB_ARN = 'arn:aws:bedrock:us-east-1:111122223333:model-customization-job/abcd1234efgh';
  const bedrock = mockClient(BedrockClient);
  const kms = mockClient(KMSClient);
  const s3 = mockClient(S3Client);
  beforeEach(() => {
    bedrock.reset();
    kms.reset();
    s3.reset();
  });
  const awsError = (name: string, message = name) =>
    Object.assign(new Error(message), { name, $metadata: {} });
  const clients = () => ({
    s3: new S3Client({}),
    sfn: new SFNClient({}),
    bedrock: new BedrockClient({}),
    kms: new KMSClient({}),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  });

  it('leaves out what does not exist, and names each read that failed for any other reason', async () => {
    const denied =
      'User: arn:aws:iam::111122223333:user/ops is not authorized to perform: bedrock:GetModelCustomizationJob';
    bedrock.on(GetModelCustomizationJobCommand).rejects(awsError('AccessDeniedException', denied));
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: {
        Arn: KEY_ARN,
        KeyId: 'k',
        KeyState: 'PendingDeletion',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        KeyManager: 'CUSTOMER',
      },
    });
    kms
      .on(GetKeyRotationStatusCommand)
      .rejects(awsError('KMSInvalidStateException', 'k is pending deletion'));
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey'));
    const run = runView({
      state: { scan: { verdict: 'pass', reportS3Uri: 's3://out/runs/r/guard-report.json' } },
    });

    const d = await collectReportData(clients(), {
      ...data(run).summary,
      jobArn: JOB_ARN,
      kmsKeyArn: KEY_ARN,
    });

    expect(d.guard).toBeUndefined();
    expect(d.job).toBeUndefined();
    expect(d.key).toEqual({
      keyArn: KEY_ARN,
      keyId: 'k',
      keyState: 'PendingDeletion',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      keyManager: 'CUSTOMER',
    });
    expect(d.gaps).toEqual([
      { what: `customization job ${JOB_ARN}`, error: `AccessDeniedException: ${denied}` },
      { what: `rotation of key ${KEY_ARN}`, error: 'KMSInvalidStateException: k is pending deletion' },
    ]);
    const html = renderReport(d);
    expect(html).toMatch(/<div class="callout warn" id="report-gaps">[\s\S]*AccessDeniedException/);
    expect(html).toContain('KMSInvalidStateException');
  });
});

describe('the chart', () => {
  it('has round ticks', () => {
    expect(niceTicks(0, 99, 7)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.864, 2.593, 6)).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
    expect(niceTicks(0.91, 1.28, 6)).toEqual([0.9, 1, 1.1, 1.2, 1.3]);
  });

  it('draws each series as a polyline, with axes, titles and a legend', () => {
    const svg = lossChartSvg([
      {
        name: 'Training loss',
        color: '#00f',
        points: [0, 1, 2, 3].map((s) => ({ step: s, loss: 2 - s / 4 })),
      },
      { name: 'Validation loss', color: '#f80', points: [{ step: 3, loss: 1.4 }] },
      { name: 'Empty', color: '#000', points: [] },
    ]);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('class="axis x"');
    expect(svg).toContain('class="axis y"');
    expect(svg).toContain('Training step');
    expect(svg).toMatch(/class="legend"[\s\S]*Training loss[\s\S]*Validation loss/);
    expect(svg).not.toContain('Empty');
    expect(lossChartSvg([{ name: 'x', color: '#000', points: [] }])).toBe('');
  });
});

describe('the HTML', () => {
  it('escapes everything that comes from the run, and never shows an unmasked preview', () => {
    const run = runView({
      input: { source: { bucket: 'b', key: 'training/<script>alert(1)</script>.jsonl' } },
      status: 'FAILED',
      error: 'SensitiveDataError',
      cause: 'holds 1 finding(s) <img src=x onerror=alert(1)>',
    });
    const html = renderReport(
      data(run, {
        guard: {
          verdict: 'block',
          counts: { byType: { EMAIL: 1, AWS_ACCESS_KEY_ID: 1 } },
          findings: [
            { type: 'EMAIL', severity: 'medium', line: 3, preview: 'j***@a****.io' },
            // A preview the guard failed to mask is not printed.
            { type: 'AWS_ACCESS_KEY_ID', severity: 'high', line: 4, preview: 'AKIAZ7Q3XK2M4PLN8WRT' },
          ],
        },
      }),
    );
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('j***@a****.io');
    expect(html).not.toContain('AKIAZ7Q3XK2M4PLN8WRT');
    expect(html).toContain('(hidden)');
  });

  it('shows why remediation failed, as RemediationFailed recorded it', () => {
    const run = runView({
      status: 'FAILED',
      error: 'InvalidInputError',
      cause: 's3://b/training/x.jsonl no longer exists',
      state: {
        remediation: { outcome: 'failed', actions: [] },
        remediationError: {
          Error: 'AccessDenied',
          Cause: JSON.stringify({
            errorType: 'AccessDenied',
            errorMessage:
              'remediating InvalidInputError: could not tag s3://b/training/x.jsonl: Access Denied',
            trace: [],
          }),
        },
      },
    });
    const html = renderReport(data(run));
    expect(html).toContain(
      '<p class="fail" id="remediation-error"><strong>AccessDenied</strong> — remediating InvalidInputError: could not tag s3://b/training/x.jsonl: Access Denied</p>',
    );
    expect(renderReport(data(runView({ state: { remediation: { outcome: 'remediated' } } })))).not.toContain(
      'remediation-error',
    );
  });

  it('shows a state its Retry saved as succeeded, naming the errors it retried', () => {
    const base = runView();
    const [first, ...rest] = base.timeline;
    const run = runView({
      timeline: [
        {
          ...(first as StateSpan),
          retries: 2,
          retriedErrors: ['Lambda.ServiceException', 'KeyBootstrapInProgressError'],
        },
        ...rest,
      ],
    });
    const row = new RegExp(`<tr class="state (\\w+)" data-state="${first?.name}">([\\s\\S]*?)</tr>`).exec(
      renderReport(data(run)),
    );
    expect(row?.[1]).toBe('succeeded');
    expect(row?.[2]).toContain('retried 2× after Lambda.ServiceException, KeyBootstrapInProgressError');
    expect(row?.[2]).not.toContain('error-name');
  });

  it('needs no network, and the check for it catches each way a page could reach out', () => {
    const html = renderReport(
      data(runView(), {
        training: [
          { step: 0, loss: 2 },
          { step: 1, loss: 1 },
        ],
      }),
    );
    expect(networkReferences(html)).toEqual([]);
    expect(html).not.toMatch(/<script/i);
    for (const bad of [
      '<script src="https://cdn.example.com/chart.js"></script>',
      '<link rel="stylesheet" href="https://fonts.example.com/css">',
      '<img src="//tracker.example.com/p.gif">',
      '<style>@import "x.css";</style>',
      '<div style="background:url(https://example.com/bg.png)"></div>',
      '<iframe src="about:blank"></iframe>',
    ])
      expect(networkReferences(html.replace('</body>', `${bad}</body>`))).not.toEqual([]);
  });
});
