/** `tunevault preflight` against the embedded AWS: a checklist with the fix for each failed line. */
import { PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { run as preflightCli } from '../../cli/commands/preflight';
import { type Harness, startHarness } from './support/embedded';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await preflightCli([...args, '--endpoint', h.aws.url, '--json']);
    return { code, report: out.length > 0 ? JSON.parse(out.join('\n')) : undefined, stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

type Check = { check: string; status: string; detail: string; fix?: string };

it('passes on the deployed stack: Region, model offered, buckets, key, job quota (what the embedded AWS does not serve only warns)', async () => {
  const { code, report, stderr } = await cli([]);
  expect(stderr).toBe('');
  const checks = report.checks as Check[];
  expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
  expect(code).toBe(0);
  expect(checks.map((c) => [c.check, c.status])).toEqual(
    expect.arrayContaining([
      ['region', 'pass'],
      ['job settings', 'pass'],
      ['base model offered', 'pass'],
      [`training bucket ${h.stack.trainingBucket}: default-encryption`, 'pass'],
      [`output bucket ${h.stack.outputBucket}: tls-only-policy`, 'pass'],
      // The embedded Service Quotas answers the embedded Bedrock's own concurrent-job quota.
      ['job quota', 'pass'],
    ]),
  );
  expect(checks.find((c) => c.check === 'job quota')?.detail).toMatch(
    /^\d+ job\(s\) in progress, quota \(Model customization\) Scheduled customization jobs, bedrock\/L-0406044C = 10$/,
  );
  expect(checks.find((c) => c.check === 'base model offered')?.detail).toContain(
    'byCustomizationType=FINE_TUNING lists amazon.nova-micro-v1:0:128k',
  );
});

it('fails, naming the Region that fixes it, for Claude 3 Haiku in us-east-1; and a bucket without encryption', async () => {
  await h.c.s3.send(
    new PutBucketEncryptionCommand({
      Bucket: h.stack.outputBucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    }),
  );
  const { code, report } = await cli(['--param', 'baseModelId=anthropic.claude-3-haiku-20240307-v1:0:200k']);
  expect(code).toBe(1);
  const failed = (report.checks as Check[]).filter((c) => c.status === 'fail');
  expect(failed).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        check: 'job settings',
        fix: expect.stringMatching(/only in us-west-2.*deploy TuneVault in us-west-2/),
      }),
      expect.objectContaining({
        check: `output bucket ${h.stack.outputBucket}: default-encryption`,
        fix: expect.stringContaining('this stage requires SSE-KMS'),
      }),
    ]),
  );
});
