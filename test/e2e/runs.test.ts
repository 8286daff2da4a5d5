/** `tunevault runs [--json]` on the embedded AWS: every run, newest first, as an operator needs it. */
import { PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { run as runsCommand, type RunRow } from '../../cli/commands/runs';
import { type Harness, LEAKY, startHarness } from './support/embedded';

let h: Harness;
const runs: Record<'completed' | 'blocked' | 'refused', { executionArn: string; name: string }> = {} as never;

beforeAll(async () => {
  h = await startHarness();
  const completed = await h.drop('listed completed');
  const blocked = await h.drop('listed blocked', LEAKY);
  await h.c.s3.send(
    new PutBucketEncryptionCommand({
      Bucket: h.stack.trainingBucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    }),
  );
  const refused = await h.drop('listed refused');
  for (const [k, v] of Object.entries({ completed, blocked, refused }))
    runs[k as keyof typeof runs] = { executionArn: v.executionArn, name: v.run.name };
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

async function runsCli(...args: string[]): Promise<{ code: number; out: string }> {
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((m: unknown) => {
    printed.push(String(m));
  });
  try {
    const code = await runsCommand([...args, '--endpoint', h.aws.url]);
    return { code, out: printed.join('\n') };
  } finally {
    log.mockRestore();
  }
}

describe('tunevault runs', () => {
  it('--json: newest first, with source, state, guard verdict, job, model and both durations', async () => {
    const { code, out } = await runsCli('--json');
    expect(code).toBe(0);
    const rows = JSON.parse(out) as RunRow[];

    expect(rows.map((r) => r.executionArn)).toEqual([
      runs.refused.executionArn,
      runs.blocked.executionArn,
      runs.completed.executionArn,
    ]);
    const [refused, blocked, completed] = rows;

    expect(completed).toMatchObject({
      status: 'SUCCEEDED',
      state: 'Succeeded',
      source: `s3://${h.stack.trainingBucket}/${h.stack.trainingPrefix}listed completed.jsonl`,
      verdict: 'pass',
      findings: 0,
      jobArn: expect.stringMatching(/^arn:aws:bedrock:.*:model-customization-job\//),
      jobStatus: 'Completed',
      modelArn: expect.stringMatching(/^arn:aws:bedrock:.*:custom-model\//),
      error: null,
    });
    expect(completed?.durationMs).toBeGreaterThan(0);
    expect(completed?.jobDurationMs).toBeGreaterThan(0);
    expect(completed?.jobDurationMs).toBeLessThan(completed?.durationMs ?? 0);
    expect(completed?.sourceVersionId).toEqual(expect.any(String));

    // The guard blocked it: the verdict and count come from its error, as no summary was written.
    expect(blocked).toMatchObject({
      status: 'FAILED',
      state: 'RunFailed',
      verdict: 'block',
      findings: 1,
      jobArn: null,
      modelArn: null,
      jobDurationMs: null,
      error: 'SensitiveDataError',
    });

    expect(refused).toMatchObject({
      status: 'FAILED',
      verdict: null,
      jobArn: null,
      error: 'BucketNotCompliantError',
    });
    for (const r of rows) expect(Date.parse(r.startDate)).not.toBeNaN();
  });

  it('as text: one block per run with its status, durations, guard and source', async () => {
    const { code, out } = await runsCli();
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^STARTED \(UTC\)\s+STATUS\s+TOTAL\s+JOB\s+GUARD\s+SOURCE$/);
    const heads = lines.filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
    expect(heads).toHaveLength(3);
    expect(heads[0]).toMatch(/FAILED .* — +s3:\/\/.*listed refused\.jsonl$/);
    expect(heads[1]).toMatch(/FAILED .* block \(1\) .*listed blocked\.jsonl$/);
    expect(heads[2]).toMatch(/SUCCEEDED .* \d+(\.\d)? (ms|s) +pass \(0\) .*listed completed\.jsonl$/);
    expect(out).toContain(`run    ${runs.completed.name}`);
    expect(out).toMatch(/job {4}arn:aws:bedrock:\S+ {3}Completed/);
    expect(out).toMatch(/model {2}arn:aws:bedrock:/);
    expect(out).toContain('error  SensitiveDataError');
  });

  it('--limit keeps the newest', async () => {
    const { out } = await runsCli('--json', '--limit', '1');
    expect((JSON.parse(out) as RunRow[]).map((r) => r.executionArn)).toEqual([runs.refused.executionArn]);
  });
});
