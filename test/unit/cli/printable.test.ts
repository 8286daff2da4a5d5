/**
 * Data shown on a terminal cannot drive it: an S3 key, a tag, an error cause or a file name
 * holding ESC sequences (a fake green SUCCEEDED, a new window title), a newline (a fake row),
 * a carriage return or a bidirectional override is printed as a visible escape in every
 * human-readable output of the CLI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { printSummary } from '../../../cli/commands/demo';
import { formatRemediation, type RemediationReport } from '../../../cli/commands/remediate';
import { formatRuns, type RunRow } from '../../../cli/commands/runs';
import { run as scan } from '../../../cli/commands/scan';
import { line } from '../../../cli/lib/progress';
import { printable, printableLines } from '../../../cli/lib/text';

const FAKE_OK = '\x1b[32mSUCCEEDED\x1b[0m';
const TITLE = '\x1b]0;pwned\x07';
const HOSTILE = `training/${FAKE_OK}${TITLE}\r\n2099-01-01 00:00:00  SUCCEEDED\u202egnp.jsonl\u0000\u009b31m`;
/** What may reach the terminal from these formatters: printable text and line breaks between rows. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function expectInert(text: string, rows: number) {
  expect(text).not.toMatch(CONTROL);
  expect(text).toContain('\\u001b[32mSUCCEEDED\\u001b[0m');
  expect(text).toContain('\\r\\n2099-01-01');
  expect(text.split('\n')).toHaveLength(rows);
}

it('printable escapes C0, DEL, C1, line breaks, bidi and zero-width characters; plain text is untouched', () => {
  expect(printable('training/my first seté.jsonl')).toBe('training/my first seté.jsonl');
  expect(printable('a\x1b[2Jb\tc\nd\re\u007f\u0085\u202e\u200b\ufeff')).toBe(
    'a\\u001b[2Jb\\tc\\nd\\re\\u007f\\u0085\\u202e\\u200b\\ufeff',
  );
  expect(printableLines(`one\n${TITLE}two`)).toBe('one\n\\u001b]0;pwned\\u0007two');
  expect(printable(undefined)).toBe('');
});

it('tunevault runs: a hostile key, name, state, job, model and error stay one inert row each', () => {
  const row: RunRow = {
    name: `tv-${FAKE_OK}`,
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:sm:tv-x',
    status: 'FAILED',
    state: `Scan${TITLE}`,
    source: `s3://bucket/${HOSTILE}`,
    sourceVersionId: null,
    verdict: `block${FAKE_OK}`,
    findings: 2,
    jobArn: `arn:job/${FAKE_OK}`,
    jobStatus: `Completed${TITLE}`,
    jobStatusDetails: `training ${FAKE_OK}`,
    jobFailureMessage: `failed\r\n${TITLE}`,
    modelArn: `arn:model/\n${FAKE_OK}`,
    error: `SensitiveDataError${FAKE_OK}`,
    startDate: '2026-01-01T00:00:00.000Z',
    stopDate: null,
    durationMs: 1200,
    jobDurationMs: null,
    queue: null,
  };
  expectInert(formatRuns([row]), 8);
});

it('the run summary of run and demo: values and model tags from data are escaped', () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString();
  });
  printSummary(
    {
      status: 'FAILED',
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:sm:tv-x',
      source: `s3://bucket/${HOSTILE}`,
      error: 'SensitiveDataError',
      cause: `s3://bucket/${HOSTILE} holds 2 findings`,
      modelTags: { [`tunevault:source${TITLE}`]: `s3://bucket/${FAKE_OK}` },
      run: {} as never,
    },
    out,
  );
  expectInert(text.replace(/^\n/, '').replace(/\n$/, ''), 6);
});

it('live progress lines: a state name or error from the history is escaped', () => {
  const text = line({
    name: `Validate${FAKE_OK}`,
    enteredAt: 0,
    durationMs: 5,
    outcome: 'failed',
    error: `X\r\n2099-01-01${TITLE}`,
  });
  expect(text).not.toMatch(CONTROL);
  expect(text).toContain('\\u001b[32mSUCCEEDED');
  expect(text).not.toContain('\n');
});

it('tunevault remediate: model name, reason, dataset key and finding types are escaped', () => {
  const report: RemediationReport = {
    deploymentsDeleted: [`arn:deployment/${TITLE}`],
    model: {
      arn: `arn:model/${FAKE_OK}`,
      name: `m${TITLE}`,
      deleted: true,
      baseModelId: 'amazon.titan-text-express-v1',
    },
    reason: `leaked\r\n2099-01-01 ${FAKE_OK}`,
    dataset: {
      bucket: 'b',
      key: HOSTILE,
      s3Uri: `s3://b/${HOSTILE}`,
      quarantined: true,
      foundBy: 'run-input',
    },
    trainedOn: `s3://b/${FAKE_OK}`,
    retrain: {
      key: 'k',
      s3Uri: `s3://b/${FAKE_OK}.redacted.jsonl`,
      sidecarKey: `k${TITLE}`,
      dataPolicy: 'redact',
      findingsRedacted: 1,
      byType: { [`EMAIL${TITLE}`]: 1 },
      records: 3,
    },
  };
  expectInert(formatRemediation(report), 9);
});

it('tunevault scan: a file name with ESC sequences is printed escaped', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-printable-'));
  try {
    const file = path.join(dir, `data${FAKE_OK}\r\n.jsonl`);
    fs.writeFileSync(file, `${JSON.stringify({ prompt: 'Hello\x1b[2J?', completion: 'Hi.' })}\n`);
    let stdout = '';
    const code = await scan([file, '--family', 'prompt-completion', '--policy', 'report'], {
      stdout: {
        write: (s: string | Uint8Array) => {
          stdout += String(s);
          return true;
        },
      },
      stderr: { write: () => true },
    });
    expect(code).toBe(0);
    expect(stdout).toContain('verdict    PASS');
    expect(stdout).not.toMatch(CONTROL);
    expect(stdout).toContain('data\\u001b[32mSUCCEEDED\\u001b[0m\\r\\n.jsonl');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
