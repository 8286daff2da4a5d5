/**
 * `tunevault report RUN` on the embedded AWS: one self-contained HTML file with the timeline,
 * the bucket and key checks, the guard's findings (masked), the loss curves and the model's tags.
 */
import { PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import path from 'node:path';
import { run as reportCommand } from '../../cli/commands/report';
import { networkReferences } from '../../cli/lib/report';
import { field } from '../../cli/lib/run-view';
import { chat, DATA, type Harness, startHarness, TEST_PARAMS } from './support/embedded';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const VALIDATION = fs.readFileSync(
  path.join(__dirname, '..', '..', 'examples', 'demo', 'support-chat.validation.jsonl'),
);

// Fake, but shaped like the real thing (not AWS's documented example key, which the guard discounts).
const FAKE_AWS_KEY = 'AKIAZ7Q3XK2M4PLN8WRT';
const FAKE_EMAIL = 'jane.doe@acme-corp.io';
const LEAKY = `${DATA}${[
  chat(
    `Customer: Deploy with key ${FAKE_AWS_KEY} please.\nAgent:`,
    ' Done. Please never paste keys into chat.',
  ),
  chat(`Customer: Email me at ${FAKE_EMAIL} about it.\nAgent:`, ' Sure, I will write today.'),
]
  .map((r) => JSON.stringify(r))
  .join('\n')}\n`;

// `testTimeout` in a Jest project entry is not applied (it is a global option): set it here.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ params: TEST_PARAMS.eventPath });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

/** Runs `tunevault report NAME --out FILE` against the embedded AWS; returns the HTML it wrote. */
async function report(runName: string, file: string): Promise<string> {
  const out = path.join(ARTIFACTS, file);
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((m: unknown) => {
    printed.push(String(m));
  });
  try {
    expect(await reportCommand([runName, '--endpoint', h.aws.url, '--out', out])).toBe(0);
  } finally {
    log.mockRestore();
  }
  expect(printed).toEqual([out]);
  return fs.readFileSync(out, 'utf8');
}

const rowsOf = (html: string, tableId: string) =>
  new RegExp(`<table id="${tableId}"[\\s\\S]*?</table>`).exec(html)?.[0] ?? '';

function polylinePoints(html: string, series: string): number {
  const m = new RegExp(`<polyline[^>]*data-series="${series}"[^>]*points="([^"]*)"`).exec(html);
  return m?.[1] ? m[1].trim().split(/\s+/).length : 0;
}

describe('tunevault report', () => {
  it('a completed run with findings: timeline, every rule, key checks, masked findings, both loss curves, tags', async () => {
    await h.put('validation/leaky report.jsonl', VALIDATION);
    // Resumed by the job's event: every state of the run succeeds (a poll would be a caught timeout).
    const { run } = await h.dropResumedByEvent('leaky report', LEAKY, {
      dataPolicy: { policy: 'report' },
      validationKey: 'validation/leaky report.jsonl',
    });
    expect(run.status).toBe('SUCCEEDED');

    const html = await report(run.name, 'report-completed.html');

    expect(networkReferences(html)).toEqual([]);
    expect(html).not.toMatch(/<script/i);

    // The timeline: every state the run went through, each with its outcome and duration.
    for (const span of run.timeline) {
      const row = new RegExp(`<tr class="state (\\w+)" data-state="${span.name}">([\\s\\S]*?)</tr>`).exec(
        html,
      );
      // A failure the state's Retry answered is 'succeeded' (with its retries); one a Catch took is not.
      expect({ state: span.name, outcome: row?.[1], error: span.error }).toEqual({
        state: span.name,
        outcome: 'succeeded',
        error: undefined,
      });
      expect(row?.[2]).toMatch(/\d+(\.\d)? (ms|s)<\/td>/);
    }

    // Every bucket rule the check evaluated, each passed.
    const rules = rowsOf(html, 'bucket-rules');
    const ruleRows = [...rules.matchAll(/<tr class="rule (pass|fail)" data-rule="([a-z-]+)"/g)];
    expect(ruleRows).toHaveLength((field<unknown[]>(run.state, 'buckets', 'rules') ?? []).length);
    expect(ruleRows.length).toBeGreaterThanOrEqual(5);
    expect(ruleRows.every((m) => m[1] === 'pass')).toBe(true);

    // The key and its checks.
    const keyArn = field(run.state, 'key', 'keyArn') as string;
    const keyChecks = rowsOf(html, 'key-checks');
    expect(keyChecks).toContain('Model encrypted with the key');
    expect(keyChecks).not.toContain('class="check fail"');
    expect([...keyChecks.matchAll(/class="check pass"/g)].length).toBeGreaterThanOrEqual(4);
    expect(html).toContain(keyArn);

    // Findings by type, masked; the raw values appear nowhere.
    const byType = rowsOf(html, 'findings-by-type');
    expect(byType).toContain('data-type="AWS_ACCESS_KEY_ID"');
    expect(byType).toContain('data-type="EMAIL"');
    expect(byType).toMatch(/AKIA\*+8WRT/);
    expect(html).not.toContain(FAKE_AWS_KEY);
    expect(html).not.toContain(FAKE_EMAIL);
    expect(html).not.toContain('jane.doe');

    // Training and validation loss, drawn from the job's metrics CSVs.
    expect(polylinePoints(html, 'Training loss')).toBeGreaterThan(2);
    expect(polylinePoints(html, 'Validation loss')).toBeGreaterThanOrEqual(2);
    expect(html).toMatch(/class="axis x"/);
    expect(html).toMatch(/class="legend"/);

    // The model's provenance tags.
    const tags = rowsOf(html, 'model-tags');
    expect(tags).toContain('tunevault:kms-key-arn');
    expect(tags).toContain('tunevault:guard-findings');
    expect(tags).toContain(keyArn);
  });

  it('a run blocked by the guard: the findings come from its report in S3, masked', async () => {
    const { run } = await h.drop('leaky blocked', LEAKY);
    expect(run.error).toBe('SensitiveDataError');

    const html = await report(run.executionArn, 'report-blocked.html');

    expect(networkReferences(html)).toEqual([]);
    expect(html).toMatch(/<tr class="state caught" data-state="ScanTrainingData">/);
    expect(html).toMatch(/<tr class="state failed" data-state="RunFailed">/);
    const byType = rowsOf(html, 'findings-by-type');
    expect(byType).toContain('data-type="AWS_ACCESS_KEY_ID"');
    expect(byType).toContain('data-type="EMAIL"');
    expect(html).not.toContain(FAKE_AWS_KEY);
    expect(html).not.toContain(FAKE_EMAIL);
    expect(html).toContain('quarantined-data');
    expect(polylinePoints(html, 'Training loss')).toBe(0);
  });

  it('a refused bucket: every rule BucketNotCompliantError carried, the broken ones failed', async () => {
    await h.c.s3.send(
      new PutBucketEncryptionCommand({
        Bucket: h.stack.trainingBucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      }),
    );
    const { run } = await h.drop('bucket refused');
    expect(run.error).toBe('BucketNotCompliantError');

    const html = await report(run.name, 'report-bucket-refused.html');

    const rules = rowsOf(html, 'bucket-rules');
    const failed = [...rules.matchAll(/<tr class="rule fail" data-rule="([a-z-]+)"/g)].map((m) => m[1]);
    expect(failed).toEqual(expect.arrayContaining(['default-encryption', 'object-encryption']));
    // The refusal carried the rules that passed too (as data, not text): the whole check shows.
    const passed = [...rules.matchAll(/<tr class="rule pass" data-rule="([a-z-]+)"/g)].map((m) => m[1]);
    expect(passed).toEqual(expect.arrayContaining(['block-public-access', 'tls-only-policy']));
    expect(rules).toContain(`s3://${h.stack.trainingBucket}`);
    expect(rules).toContain('SSE-S3 (AES256)');
    expect(html).toContain('BucketNotCompliantError');
    expect(html).toMatch(/<tr class="state caught" data-state="ValidateBucketEncryption">/);
  });

  it('names an unknown run instead of failing obscurely', async () => {
    const errors: string[] = [];
    const err = jest.spyOn(console, 'error').mockImplementation((m: unknown) => {
      errors.push(String(m));
    });
    try {
      expect(await reportCommand(['tv-no-such-run', '--endpoint', h.aws.url])).toBe(1);
    } finally {
      err.mockRestore();
    }
    expect(errors.join('\n')).toContain("no run 'tv-no-such-run'");
  });
});
