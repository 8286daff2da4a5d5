/**
 * Each run's end is one `tunevault` event on the default bus — completed, failed or remediated —
 * with the source object, job and model ARNs, the guard's verdict and the failure message; and a
 * rule with the README's pattern routes the failures (but not the successes) to a target.
 */
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { chat, DATA, type Harness, startHarness } from './support/embedded';

const LEAKY = `${DATA}${JSON.stringify(chat('Customer: my key is AKIAZ7Q3XK2M4PLN8WRT, is that OK?\nAgent:', ' Please rotate it now.'))}\n`;

/** The README's rule: run failures and remediations to an SNS topic. */
const FAILURES_PATTERN = {
  source: ['tunevault'],
  'detail-type': ['TuneVault Run Failed', 'TuneVault Run Remediated'],
};

interface Detail {
  outcome: string;
  executionArn: string;
  source: { bucket: string; key: string; versionId: string | null; s3Uri: string };
  jobArn: string | null;
  modelArn: string | null;
  kmsKeyArn: string | null;
  verdict: string | null;
  findings: number | null;
  error: string | null;
  failureMessage: string | null;
  job: {
    status: string;
    statusDetails: string | null;
    failedIn: string | null;
    failureMessage: string | null;
  } | null;
  deployment: { mode: string | null; arn: string; expiresAt: string | null } | null;
  remediation: { action: string; target: string }[];
}

const DETAIL_KEYS = [
  'deployment',
  'error',
  'executionArn',
  'failureMessage',
  'findings',
  'job',
  'jobArn',
  'kmsKeyArn',
  'modelArn',
  'outcome',
  'remediation',
  'source',
  'verdict',
];

let h: Harness;
const arns: Record<'completed' | 'remediated' | 'failed', string> = {} as never;

beforeAll(async () => {
  h = await startHarness();
  const events = new EventBridgeClient({ endpoint: h.aws.url });
  await events.send(
    new PutRuleCommand({ Name: 'tunevault-run-failures', EventPattern: JSON.stringify(FAILURES_PATTERN) }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'tunevault-run-failures',
      Targets: [{ Id: 'sns', Arn: 'arn:aws:sns:us-east-1:000000000000:tunevault-run-failures' }],
    }),
  );
  arns.completed = (await h.drop('notify completed')).executionArn;
  arns.remediated = (await h.drop('notify remediated', LEAKY)).executionArn;
  await h.c.s3.send(
    new PutBucketEncryptionCommand({
      Bucket: h.stack.trainingBucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    }),
  );
  arns.failed = (await h.drop('notify failed')).executionArn;
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

function eventOf(executionArn: string) {
  const records = h.aws.events
    .history()
    .filter(
      (r) => r.envelope.source === 'tunevault' && (r.envelope.detail as Detail).executionArn === executionArn,
    );
  expect(records).toHaveLength(1);
  const record = records[0]!;
  expect(record.eventBusName).toBe('default');
  return { ...record, detail: record.envelope.detail as Detail };
}

describe('run notifications', () => {
  it('completed: source object, job and model ARNs, the key and the guard verdict; no failure', () => {
    const e = eventOf(arns.completed);
    expect(e.envelope['detail-type']).toBe('TuneVault Run Completed');
    expect(Object.keys(e.detail).sort()).toEqual(DETAIL_KEYS);
    expect(e.detail).toEqual({
      outcome: 'completed',
      executionArn: arns.completed,
      source: {
        bucket: h.stack.trainingBucket,
        key: `${h.stack.trainingPrefix}notify completed.jsonl`,
        versionId: expect.any(String),
        s3Uri: `s3://${h.stack.trainingBucket}/${h.stack.trainingPrefix}notify completed.jsonl`,
      },
      jobArn: expect.stringMatching(/^arn:aws:bedrock:[^:]+:\d{12}:model-customization-job\//),
      modelArn: expect.stringMatching(/^arn:aws:bedrock:[^:]+:\d{12}:custom-model\//),
      kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/),
      verdict: 'pass',
      findings: 0,
      error: null,
      failureMessage: null,
      job: {
        status: 'Completed',
        statusDetails: 'validation Completed · data processing Completed · training Completed',
        failedIn: null,
        failureMessage: null,
      },
      deployment: null,
      remediation: [],
    });
    // Resources name what the event is about, for rules matching on them.
    expect(e.envelope.resources).toEqual(
      expect.arrayContaining([arns.completed, e.detail.jobArn, e.detail.modelArn]),
    );
    expect(e.matchedRules).not.toContain('tunevault-run-failures');
  });

  it('remediated: data blocked by the guard is quarantined; the failure message says why', () => {
    const e = eventOf(arns.remediated);
    expect(e.envelope['detail-type']).toBe('TuneVault Run Remediated');
    expect(Object.keys(e.detail).sort()).toEqual(DETAIL_KEYS);
    expect(e.detail).toMatchObject({
      outcome: 'remediated',
      verdict: 'block',
      executionArn: arns.remediated,
      source: { bucket: h.stack.trainingBucket, key: `${h.stack.trainingPrefix}notify remediated.jsonl` },
      jobArn: null,
      modelArn: null,
      job: null,
      error: 'SensitiveDataError',
      failureMessage: expect.stringContaining('AWS_ACCESS_KEY_ID'),
      remediation: [
        {
          action: 'quarantined-data',
          target: `s3://${h.stack.trainingBucket}/${h.stack.trainingPrefix}notify remediated.jsonl`,
        },
      ],
    });
    // The message counts findings; it never carries the value.
    expect(JSON.stringify(e.envelope)).not.toContain('AKIAZ7Q3XK2M4PLN8WRT');
    expect(e.matchedRules).toContain('tunevault-run-failures');
  });

  it('failed: a refused bucket has nothing to undo; the failure message lists the broken rules', () => {
    const e = eventOf(arns.failed);
    expect(e.envelope['detail-type']).toBe('TuneVault Run Failed');
    expect(Object.keys(e.detail).sort()).toEqual(DETAIL_KEYS);
    expect(e.detail).toMatchObject({
      outcome: 'failed',
      executionArn: arns.failed,
      source: { bucket: h.stack.trainingBucket, key: `${h.stack.trainingPrefix}notify failed.jsonl` },
      jobArn: null,
      modelArn: null,
      verdict: null,
      error: 'BucketNotCompliantError',
      failureMessage: expect.stringContaining('[default-encryption]'),
    });
    expect(e.matchedRules).toContain('tunevault-run-failures');
  });
});
