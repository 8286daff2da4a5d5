/**
 * The AWS CLI against the embedded AWS: `aws s3 cp` of a 12 MiB dataset (above awscli's 8 MiB
 * multipart threshold, so a multipart upload) into the training prefix starts a run that
 * completes; `tunevault runs` shows it; `aws stepfunctions list-executions`, `aws kms
 * get-key-policy` and `aws dynamodb put-item` / `scan` answer.
 *
 * awscli is not a project dependency (a fresh machine has none): without an `aws` on PATH the
 * test is skipped, visibly (Jest counts it skipped; its title says why); TUNEVAULT_AWSCLI=none
 * does the same, TUNEVAULT_AWSCLI=/path/to/aws picks one. With several on PATH it prefers an awscli v2
 * (Debian's `apt-get install -y awscli` is 2.9). The by-hand flow with 50 MiB is in the README
 * section "The embedded AWS".
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../local/stack';
import { type Harness, startHarness } from './support/embedded';

jest.setTimeout(120_000);

const run = promisify(execFile);

/**
 * The awscli to use: TUNEVAULT_AWSCLI when set (a path, or `none` to skip), else every `aws` on
 * PATH — the first awscli v2 among them, else the first.
 */
function findAwsCli(): { bin: string; version: string } | undefined {
  const chosen = process.env.TUNEVAULT_AWSCLI;
  if (chosen === 'none') return undefined;
  const found: { bin: string; version: string }[] = [];
  const candidates = chosen
    ? [chosen]
    : (process.env.PATH ?? '').split(path.delimiter).map((d) => d && path.join(d, 'aws'));
  for (const bin of candidates) {
    if (!bin || !fs.existsSync(bin) || found.some((f) => fs.realpathSync(f.bin) === fs.realpathSync(bin)))
      continue;
    try {
      const version = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 }).trim();
      found.push({ bin, version });
    } catch {
      // not a working awscli (e.g. a pyenv shim without a version behind it)
    }
  }
  return found.find((f) => f.version.startsWith('aws-cli/2')) ?? found[0];
}

/** A valid dataset (the default model's conversation format) of about `bytes` bytes: plain words, nothing the guard flags. */
function dataset(bytes: number): string {
  const words = (
    'lamp router headphones battery charger firmware screen cable speaker update settings network ' +
    'button light restart reset display volume adapter warranty replacement order delivery package ' +
    'account profile device app connection signal power switch menu option brightness sound dock'
  ).split(' ');
  let seed = 7;
  const word = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return words[seed % words.length];
  };
  const sentence = (n: number) => `${Array.from({ length: n }, word).join(' ')}.`;
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const question = `${Array.from({ length: 8 }, () => sentence(12)).join(' ')} What should I do?`;
    const answer = Array.from({ length: 40 }, () => sentence(14)).join(' ');
    const line = `${JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: question }] },
        { role: 'assistant', content: [{ text: answer }] },
      ],
    })}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return lines.join('');
}

let h: Harness | undefined;
let tmp: string | undefined;

afterAll(async () => {
  await h?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const found = findAwsCli();
const why =
  process.env.TUNEVAULT_AWSCLI === 'none'
    ? 'TUNEVAULT_AWSCLI=none'
    : 'awscli not installed (apt-get install -y awscli, or set TUNEVAULT_AWSCLI)';
if (!found) console.warn(`awscli.test: SKIPPED — ${why}`);
const itWithCli = found ? it : it.skip;

itWithCli(
  `s3 cp (multipart) starts a run that completes; list-executions, get-key-policy, dynamodb scan answer${found ? ` (${found.version.split(' ')[0]})` : ` (skipped: ${why})`}`,
  async () => {
    const cli = found as NonNullable<typeof found>;
    h = await startHarness();
    const stack = h.stack;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-awscli-'));
    const file = path.join(tmp, 'big.jsonl');
    fs.writeFileSync(file, dataset(12 * 1024 * 1024));

    // Its own config and credentials: nothing from the user's ~/.aws, no pager.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: tmp,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: h.aws.region,
      AWS_REGION: h.aws.region,
      AWS_CONFIG_FILE: path.join(tmp, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'credentials'),
      AWS_PAGER: '',
    };
    // Asynchronous on purpose: the endpoint answers from this very process.
    const aws = async (...args: string[]) =>
      (await run(cli.bin, ['--endpoint-url', h?.aws.url as string, ...args], { env, maxBuffer: 16 << 20 }))
        .stdout;
    const awsJson = async <T>(...args: string[]) => JSON.parse(await aws(...args, '--output', 'json')) as T;

    const key = `${stack.trainingPrefix}big.jsonl`;
    expect(await aws('s3', 'cp', file, `s3://${stack.trainingBucket}/${key}`, '--only-show-errors')).toBe('');
    const head = await awsJson<{
      ETag: string;
      VersionId: string;
      ContentLength: number;
      ServerSideEncryption: string;
    }>('s3api', 'head-object', '--bucket', stack.trainingBucket, '--key', key);
    expect(head.ETag).toMatch(/-2"$/); // two parts: a multipart upload
    expect(head.ContentLength).toBe(fs.statSync(file).size);
    expect(head.ServerSideEncryption).toBe('aws:kms');

    // The upload's notification starts the run; it completes.
    const executionArn = h.executionArnOf({ bucket: stack.trainingBucket, key, versionId: head.VersionId });
    const view = await h.finished(executionArn, 60_000);
    expect(view.status).toBe('SUCCEEDED');

    // Then, side by side: `tunevault runs`, and awscli on Step Functions, KMS and DynamoDB.
    const tunevaultRuns = async () =>
      JSON.parse(
        (
          await run(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'tunevault.js'), 'runs', '--json'], {
            env: { ...env, HOME: process.env.HOME, ...h?.aws.clientEnvironment() },
            cwd: PROJECT_ROOT,
          })
        ).stdout,
      ) as { executionArn: string; status: string; source: string }[];
    const keyPolicy = async () => {
      const described = await awsJson<{ KeyMetadata: { Arn: string } }>(
        'kms',
        'describe-key',
        '--key-id',
        'alias/tunevault-dev',
      );
      // GetKeyPolicy takes a key id or ARN, not an alias.
      const out = await awsJson<{ Policy: string }>(
        'kms',
        'get-key-policy',
        '--key-id',
        described.KeyMetadata.Arn,
        '--policy-name',
        'default',
      );
      return JSON.parse(out.Policy) as { Statement: { Sid?: string }[] };
    };
    const putAndScan = async () => {
      await aws(
        'dynamodb',
        'put-item',
        '--table-name',
        stack.taskTokenTable,
        '--item',
        JSON.stringify({ jobName: { S: 'awscli-probe' }, taskToken: { S: 'probe' } }),
      );
      return awsJson<{ Items: { jobName: { S: string } }[]; Count: number }>(
        'dynamodb',
        'scan',
        '--table-name',
        stack.taskTokenTable,
      );
    };
    const [runs, listed, policy, scan] = await Promise.all([
      tunevaultRuns(),
      awsJson<{ executions: { executionArn: string; status: string }[] }>(
        'stepfunctions',
        'list-executions',
        '--state-machine-arn',
        stack.stateMachineArn,
      ),
      keyPolicy(),
      putAndScan(),
    ]);
    expect(runs).toContainEqual(
      expect.objectContaining({
        executionArn,
        status: 'SUCCEEDED',
        source: `s3://${stack.trainingBucket}/${key}`,
      }),
    );
    expect(listed.executions).toContainEqual(expect.objectContaining({ executionArn, status: 'SUCCEEDED' }));
    expect(policy.Statement.map((st) => st.Sid)).toContain('EnableRootAccountAdministration');
    expect(scan.Items.map((i) => i.jobName.S)).toContain('awscli-probe');
    console.log(`awscli flow passed with ${cli.version.split(' ')[0]} (${cli.bin})`);
  },
);
