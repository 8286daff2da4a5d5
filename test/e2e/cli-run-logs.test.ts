/**
 * `tunevault run FILE` with no endpoint starts an embedded AWS in its own process: the functions'
 * JSON log lines go to a file under .tunevault/logs/, never between the progress lines, and the
 * file's path is printed when the run fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../cli/main';
import { capturedCli } from '../support/cli-output';
import { LEAKY } from './support/embedded';

jest.setTimeout(120_000);

let tmp: string;
const cwd = process.cwd();
const savedEnv = { ...process.env };

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-run-logs-'));
  process.chdir(tmp);
});
afterAll(() => {
  process.chdir(cwd);
  // The in-process embedded AWS exported its endpoint into this process's environment.
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('a failed run: progress and summary on the terminal, function logs in .tunevault/logs (path printed)', async () => {
  delete process.env.AWS_ENDPOINT_URL;
  const file = path.join(tmp, 'leaky.jsonl');
  fs.writeFileSync(file, LEAKY);
  const printed = await capturedCli(() => main(['run', file]));
  const { code } = printed;
  const terminal = `${printed.stdout}\n${printed.stderr}`;
  expect(code).toBe(1);
  // The progress lines, then the summary: nothing else between them.
  expect(terminal).toContain('✖ ScanTrainingData');
  expect(terminal).toMatch(/Status\s+FAILED/);
  expect(terminal).not.toContain('"level"');
  expect(terminal).not.toContain('"service"');
  const shown = /Function logs\s+(\S+)/.exec(terminal)?.[1];
  expect(shown).toMatch(/^\.tunevault\/logs\/run-\d{8}T\d{6}Z-\d+\.log$/);

  // The functions did log, to that file: one JSON line per entry, with the failure.
  const lines = fs
    .readFileSync(path.join(tmp, shown as string), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { level: string; message: string; service: string });
  expect(lines.length).toBeGreaterThan(0);
  expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'step failed' }));
  expect(lines).toContainEqual(expect.objectContaining({ level: 'WARN', message: 'run remediated' }));
});
