/**
 * One convention for every command: a usage error exits 64 with `tunevault <command>: …` on
 * stderr naming the bad input; an endpoint where nothing answers is named as such (exit 69);
 * ARNs are checked before any call. Run in process through cli/main (as the bin does), plus
 * one run of the bin itself for the exit code a shell sees.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../../cli/main';
import { capturedCli } from '../../support/cli-output';

const ROOT = path.join(__dirname, '..', '..', '..');
let tmp: string;
let closedPort: number;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-cli-'));
  fs.writeFileSync(path.join(tmp, 'a-file'), 'x');
  fs.writeFileSync(path.join(tmp, 'data.jsonl'), '{}\n');
  // A port that nothing listens on: bound, then released.
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closedPort = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cli = (...args: string[]) => capturedCli(() => main(args));

const SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:tunevault-dev-customization';
const file = (name: string) => path.join(tmp, name);

describe('usage errors: exit 64, `tunevault <command>: …` naming the bad input', () => {
  it.each([
    ['demo', ['--bogus'], "Unknown option '--bogus'"],
    ['demo', ['--port', 'eighty'], "--port 'eighty' is not a whole number"],
    ['local', ['--port', '70000'], "--port '70000' is not a whole number from 0 to 65535"],
    ['local', ['--job-seconds=-1'], "--job-seconds '-1'"],
    ['local', ['--log-level', 'LOUD'], "--log-level 'LOUD' is not one of"],
    ['local', ['--state-dir', 'FILE:a-file'], 'is a file, not a directory: give a directory'],
    [
      'local',
      ['--host', '0.0.0.0'],
      "--host '0.0.0.0' is not a loopback address: other machines could reach",
    ],
    ['local', ['--host', '192.168.1.20'], 'Add --allow-remote to do that knowingly'],
    ['local', ['--state-dir', 'FILE:a-file/sub'], 'runs through a file, not a directory'],
    ['run', [], 'give exactly one FILE'],
    ['run', ['FILE:missing.jsonl'], 'is not a readable file'],
    ['run', ['FILE:data.jsonl', '--bucket', 'b'], 'with --bucket, also give --state-machine-arn'],
    [
      'run',
      ['FILE:data.jsonl', '--state-machine-arn', 'sm'],
      "--state-machine-arn 'sm' is not a state machine ARN",
    ],
    [
      'run',
      ['FILE:data.jsonl', '--endpoint', 'localhost:4566'],
      "--endpoint 'localhost:4566' is not an http(s) URL",
    ],
    ['runs', ['--limit', '0'], "--limit '0' is not a whole number"],
    ['runs', ['--state-machine-arn', 'arn:aws:s3:::bucket'], 'is not a state machine ARN'],
    ['runs', ['extra'], "Unexpected argument 'extra'"],
    ['report', [], 'give exactly one RUN'],
    ['report', ['no such name!'], "RUN 'no such name!' is neither a run name"],
    ['report', [SM], 'is not an execution ARN'],
    ['report', ['tv-x'], 'a run name alone needs --state-machine-arn'],
    ['scan', [], 'missing FILE'],
    ['scan', ['--polcy', 'x'], "Unknown option '--polcy'"],
    ['remediate', ['--reason', 'r'], 'give --model ARN'],
    ['preflight', ['--param', 'no-equals'], "--param 'no-equals' is not name=value"],
    ['preflight', ['--bogus'], "Unknown option '--bogus'"],
    [
      'remediate',
      ['--model', 'not-an-arn', '--reason', 'r'],
      "--model 'not-an-arn' is not a custom model ARN",
    ],
    ['remediate', ['--model', SM, '--reason', 'r'], 'is not a custom model ARN'],
  ])('%s %j', async (command, args, message) => {
    const saved = process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL;
    try {
      const r = await cli(command, ...args.map((a) => (a.startsWith('FILE:') ? file(a.slice(5)) : a)));
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(new RegExp(`^tunevault ${command}: `));
      expect(r.stderr).toContain(message);
    } finally {
      if (saved !== undefined) process.env.AWS_ENDPOINT_URL = saved;
    }
  });

  it('no command, or an unknown one: exit 64 with the command list; --help exits 0', async () => {
    expect(await cli()).toMatchObject({
      code: 64,
      stderr: expect.stringMatching(/^tunevault: give a command/),
    });
    expect(await cli('deploy')).toMatchObject({
      code: 64,
      stderr: expect.stringContaining("unknown command 'deploy'"),
    });
    for (const command of ['demo', 'local', 'run', 'runs', 'report', 'scan', 'remediate', 'preflight']) {
      const r = await cli(command, '--help');
      expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining(`tunevault ${command}`) });
    }
  });

  it('the compiled bin (one bundle per command) exits 64 and 69 as a shell sees it', async () => {
    const bin = (...args: string[]) =>
      promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'tunevault.js'), ...args], {
        cwd: ROOT,
      }).catch((e: { code: number; stderr: string }) => e);
    expect(await bin('runs', '--bogus')).toMatchObject({
      code: 64,
      stderr: expect.stringMatching(/^tunevault runs: Unknown option '--bogus'/),
    });
    // Through the SDK (an execution ARN needs no stack lookup): the endpoint is still named.
    const endpoint = `http://127.0.0.1:${closedPort}`;
    expect(
      await bin(
        'report',
        'arn:aws:states:us-east-1:000000000000:execution:tunevault-dev-customization:tv-x',
        '--endpoint',
        endpoint,
      ),
    ).toMatchObject({
      code: 69,
      stderr: expect.stringContaining(`cannot reach the endpoint ${endpoint} (connection refused`),
    });
  });
});

it('local --host 0.0.0.0 --allow-remote warns, naming the risk, before it starts', async () => {
  // The port is taken, so the start fails at once, right after the warning.
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '0.0.0.0', r));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const r = await cli('local', '--host', '0.0.0.0', '--allow-remote', '--port', String(port));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `WARNING: --host 0.0.0.0 --allow-remote: the embedded AWS will answer every machine that can reach port ${port}`,
    );
    expect(r.stderr).toContain('read and write its S3 data');
    expect(r.stderr).toContain(`port ${port} is in use`);
  } finally {
    await new Promise<void>((r) => busy.close(() => r()));
  }
});

describe('an endpoint where nothing answers is named as such (exit 69), not "give the execution ARN"', () => {
  it.each([
    ['runs', []],
    ['report', ['tv-some-run']],
    ['report', ['arn:aws:states:us-east-1:000000000000:execution:tunevault-dev-customization:tv-x']],
    ['runs', ['--state-machine-arn', SM]],
    ['run', ['FILE:data.jsonl']],
  ])('%s %j with --endpoint', async (command, args) => {
    const endpoint = `http://127.0.0.1:${closedPort}`;
    const r = await cli(
      command,
      ...args.map((a) => (a.startsWith('FILE:') ? file(a.slice(5)) : a)),
      '--endpoint',
      endpoint,
    );
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(
      `tunevault ${command}: cannot reach the endpoint ${endpoint} (connection refused`,
    );
    expect(r.stderr).toContain('npx tunevault local');
  });

  it('from AWS_ENDPOINT_URL, it says so', async () => {
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = `http://localhost:${closedPort}`;
    try {
      const r = await cli('report', 'tv-some-run');
      expect(r.code).toBe(69);
      expect(r.stderr).toContain('connection refused: nothing listens there, from AWS_ENDPOINT_URL');
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = saved;
    }
  });
});
