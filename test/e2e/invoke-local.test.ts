/**
 * `serverless invoke local -f <fn> -p events/<fn>.json` against the embedded AWS, as the README
 * tells a user to run it: the real osls CLI, serverless-esbuild bundling the handler, the sample
 * event from events/, and the environment `tunevault local` prints (clientEnvironment()), with
 * the sample data `tunevault local` seeds (seedSampleEvents()).
 *
 * Each invocation runs in its own shadow of the project (copies of the top-level files, links to
 * the folders, but build folders of its own): serverless-esbuild builds into `<service>/.esbuild/.build` and chdirs into
 * it, so two serverless processes in one directory — this suite and the contract suite's
 * `serverless package`, which Jest runs in parallel — would delete each other's build.
 *
 * Two functions, run side by side: startCustomization (the S3 event → an execution on the
 * embedded Step Functions) and validateBucketEncryption (the seeded object in the deployed,
 * hardened buckets). Each `serverless invoke local` costs a few seconds (serverless startup and
 * an esbuild bundle).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { executionArnFor, executionNameFor } from '../../functions/shared/naming';
import { EmbeddedAws } from '../../local/embedded';
import { seedSampleEvents } from '../../local/seed';
import { PROJECT_ROOT } from '../../local/stack';

jest.setTimeout(90_000);

let aws: EmbeddedAws;
const shadows: string[] = [];

beforeAll(async () => {
  aws = new EmbeddedAws({ port: 0, logLevel: 'SILENT', jobDurationMs: 60_000 });
  await aws.start();
  await seedSampleEvents(aws);
}, 60_000);

afterAll(async () => {
  await aws?.stop();
  for (const dir of shadows) fs.rmSync(dir, { recursive: true, force: true });
});

/** A directory that looks like the project to serverless, with build folders of its own. */
function shadowProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-invoke-'));
  shadows.push(dir);
  const own = new Set(['.esbuild', '.serverless', '.tunevault', '.git']);
  for (const entry of fs.readdirSync(PROJECT_ROOT, { withFileTypes: true })) {
    if (own.has(entry.name)) continue;
    const from = path.join(PROJECT_ROOT, entry.name);
    // osls only takes a serverless.yml that is a regular file: files are copied, folders linked.
    if (entry.isFile()) fs.copyFileSync(from, path.join(dir, entry.name));
    else fs.symlinkSync(from, path.join(dir, entry.name));
  }
  return dir;
}

interface Invocation {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The handler's answer: the JSON document serverless prints last. */
  answer: Record<string, unknown>;
}

function invokeLocal(fn: string, timeoutMs = 80_000): Promise<Invocation> {
  const cwd = shadowProject();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...aws.clientEnvironment(),
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  const args = [
    path.join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'),
    'invoke',
    'local',
    '-f',
    fn,
    '-p',
    path.join(PROJECT_ROOT, 'events', `${fn}.json`),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // osls can stay alive after a failed hook: never wait for ever.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n');
      const start = lines.lastIndexOf('{');
      let answer: Record<string, unknown> = {};
      try {
        if (start >= 0) answer = JSON.parse(lines.slice(start).join('\n')) as Record<string, unknown>;
      } catch {
        // left empty: the assertions below show stdout and stderr
      }
      resolve({ code, stdout, stderr, answer });
    });
  });
}

function sampleSource() {
  const event = JSON.parse(
    fs.readFileSync(path.join(PROJECT_ROOT, 'events', 'startCustomization.json'), 'utf8'),
  );
  const o = event.Records[0].s3;
  return {
    bucket: o.bucket.name as string,
    key: decodeURIComponent((o.object.key as string).replace(/\+/g, ' ')),
    versionId: o.object.versionId as string,
    etag: o.object.eTag as string,
  };
}

it('startCustomization and validateBucketEncryption answer through the embedded AWS', async () => {
  const [start, validate] = await Promise.all([
    invokeLocal('startCustomization'),
    invokeLocal('validateBucketEncryption'),
  ]);

  // startCustomization: the S3 event becomes an execution on the embedded Step Functions.
  const source = sampleSource();
  const executionArn = executionArnFor(aws.stack.stateMachineArn, executionNameFor(source));
  expect({ code: start.code, answer: start.answer, stderr: start.code === 0 ? '' : start.stderr }).toEqual({
    code: 0,
    answer: { outcomes: [{ key: source.key, outcome: 'started', executionArn }] },
    stderr: '',
  });
  const execution = aws.sfn.describeExecution(executionArn);
  expect(JSON.parse(execution.input)).toMatchObject({
    source: { bucket: source.bucket, key: source.key, versionId: source.versionId },
    dataset: {},
  });

  // validateBucketEncryption: the seeded object in the deployed buckets passes every rule.
  expect({ code: validate.code, stderr: validate.code === 0 ? '' : validate.stderr }).toEqual({
    code: 0,
    stderr: '',
  });
  expect(validate.answer.compliant).toBe(true);
  const rules = validate.answer.rules as { bucket: string; rule: string; passed: boolean }[];
  expect(rules.length).toBeGreaterThan(4);
  expect(rules.filter((r) => !r.passed)).toEqual([]);
  expect(new Set(rules.map((r) => r.bucket))).toEqual(
    new Set([aws.stack.trainingBucket, aws.stack.outputBucket]),
  );
  expect(rules.map((r) => r.rule)).toEqual(expect.arrayContaining(['default-encryption', 'tls-only-policy']));
});
