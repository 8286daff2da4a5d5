/**
 * Ready means ready: `tunevault local` binds its port at once, answers `GET /_tunevault/health`
 * with `starting` (503) while it deploys, and holds every other request until the stack is
 * deployed and every function can run. An upload made the moment the port answers — what a CI
 * script that waits for the port does — is stored when the stack is ready and starts its run.
 */
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { cliClients } from '../../cli/lib/clients';
import { loadRun } from '../../cli/lib/run-view';
import { executionArnFor, executionNameFor } from '../../functions/shared/naming';
import { PROJECT_ROOT } from '../../local/stack';
import { DATA } from './support/embedded';
import { signedRequest } from './support/signed';

jest.setTimeout(180_000);

let child: ChildProcess | undefined;
let output = '';

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Resolves as soon as a TCP connection to the port succeeds (polled every 20 ms). */
async function portAnswers(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline || child?.exitCode !== null)
      throw new Error(`port ${port} never answered; tunevault local said:\n${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('an upload the moment the port answers is held until the stack is ready, then starts a run that completes', async () => {
  const port = await freePort();
  const env = { ...process.env };
  delete env.AWS_ENDPOINT_URL;
  child = spawn(
    process.execPath,
    [
      path.join(PROJECT_ROOT, 'bin', 'tunevault.js'),
      'local',
      '--port',
      String(port),
      '--no-seed',
      '--job-seconds',
      '0',
      '--log-level',
      'WARN',
    ],
    { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  await portAnswers(port, 120_000);
  const endpoint = `http://127.0.0.1:${port}`;

  const control = (path: string) =>
    signedRequest(endpoint, { service: 's3', method: 'GET', path, unsigned: true });
  // At that moment the stack is still deploying: health says so (and is not 200).
  const health = await control('/_tunevault/health');
  expect(health.status).toBe(503);
  expect(JSON.parse(health.body)).toMatchObject({ status: 'starting', ready: false });

  // The upload, sent now, waits; when it is answered the stack exists and the object is stored.
  const c = cliClients(endpoint);
  const bucket = 'tunevault-dev-training-data';
  const key = 'training/uploaded at once.jsonl';
  await c.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: DATA }));
  const ready = await control('/_tunevault/health');
  expect(ready.status).toBe(200);
  expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready', ready: true, endpoint });

  // Its notification was not lost: the run starts and completes.
  const head = await c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const stack = JSON.parse((await control('/_tunevault/stack')).body) as { stateMachineArn: string };
  const executionArn = executionArnFor(
    stack.stateMachineArn,
    executionNameFor({ bucket, key, versionId: head.VersionId, etag: head.ETag }),
  );
  const deadline = Date.now() + 90_000;
  let status = 'NOT STARTED';
  while (Date.now() < deadline) {
    try {
      status = (await loadRun(c.sfn, executionArn)).status;
      if (status !== 'RUNNING') break;
    } catch (err) {
      if ((err as Error).name !== 'ExecutionDoesNotExist') throw err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  expect({ status, output: status === 'SUCCEEDED' ? '' : output }).toEqual({
    status: 'SUCCEEDED',
    output: '',
  });
});
