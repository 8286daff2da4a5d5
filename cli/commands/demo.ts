/**
 * `tunevault demo` (= `npm start`): the embedded AWS in this process, the stack deployed from
 * serverless.yml, a small synthetic dataset dropped in, the run followed live, a summary and
 * an HTML report. Exit 0 only for a completed, tagged model.
 */
import path from 'node:path';
import { EmbeddedAws } from '../../local/embedded';
import { cliClients } from '../lib/clients';
import { dropAndFollow, type RunSummary } from '../lib/drop';
import { displayPath, openFunctionLog } from '../lib/function-logs';
import { formatMs } from '../lib/progress';
import { writeRunReport } from '../lib/report';
import { printable as p } from '../lib/text';
import { integerOption, parseCommandArgs, UsageError } from '../lib/usage';

const EXAMPLES = path.join(__dirname, '..', '..', 'examples', 'demo');

export function printSummary(s: RunSummary, out: NodeJS.WritableStream = process.stdout): void {
  const rows: [string, string | undefined][] = [
    ['Status', s.status],
    ['Source', s.source],
    ['Execution', s.executionArn],
    ['Job', s.jobArn],
    ['Custom model', s.modelArn],
    ['CMK', s.kmsKeyArn],
    ['Model encrypted with', s.modelKmsKeyArn],
    ['Data guard', s.verdict ? `${s.verdict} (${s.findings ?? 0} findings)` : undefined],
    ['Final training loss', s.trainingLoss?.toFixed(4)],
    ['Duration', s.durationMs !== undefined ? formatMs(s.durationMs) : undefined],
    ['Error', s.error ? `${s.error}: ${s.cause ?? ''}` : undefined],
  ];
  out.write('\n');
  for (const [k, v] of rows) if (v !== undefined) out.write(`  ${k.padEnd(22)} ${p(v)}\n`);
  if (s.modelTags && Object.keys(s.modelTags).length > 0) {
    out.write('  Model tags\n');
    for (const [k, v] of Object.entries(s.modelTags).sort()) out.write(`    ${p(k).padEnd(26)} ${p(v)}\n`);
  }
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('demo', {
    args,
    options: {
      port: { type: 'string', default: '0' },
      'job-seconds': { type: 'string', default: '3' },
      iam: { type: 'string', default: 'enforce' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'tunevault demo [--port N] [--job-seconds S] [--json] [--iam enforce|audit|off]\n' +
        '  One whole run on the embedded AWS with bundled sample data (IAM enforced unless --iam says otherwise).\n' +
        '  The functions log to .tunevault/logs/ (the path is printed when the run fails).',
    );
    return 0;
  }
  const port = integerOption('--port', values.port, 0, 65535);
  const jobSeconds = integerOption('--job-seconds', values['job-seconds'], 0, 86_400);
  const started = Date.now();
  const log = (m: string) => (values.json ? undefined : process.stderr.write(`${m}\n`));
  log('▶ Starting the embedded AWS and deploying the stack from serverless.yml …');
  const iam = values.iam;
  if (iam !== 'enforce' && iam !== 'audit' && iam !== 'off')
    throw new UsageError(`--iam '${iam}' is not one of enforce, audit, off.`);
  const logs = openFunctionLog('demo');
  const aws = new EmbeddedAws({
    iam,
    port,
    jobDurationMs: jobSeconds * 1000,
    logLevel: 'INFO',
    functionLogs: logs.stream,
  });
  let ok = false;
  try {
    const stack = await aws.start();
    log(`  endpoint ${aws.url} · state machine ${stack.stateMachineArn}`);
    log(
      `▶ Dropping examples/demo/support-chat.jsonl into s3://${stack.trainingBucket}/${stack.trainingPrefix}`,
    );
    const summary = await dropAndFollow(
      cliClients(aws.url),
      stack,
      {
        file: path.join(EXAMPLES, 'support-chat.jsonl'),
        key: `${stack.trainingPrefix}support chat demo.jsonl`,
        validationFile: path.join(EXAMPLES, 'support-chat.validation.jsonl'),
      },
      { quiet: values.json },
    );
    const report = await writeRunReport(cliClients(aws.url), summary);
    ok = summary.status === 'SUCCEEDED' && Boolean(summary.modelTags?.['tunevault:kms-key-arn']);
    if (values.json)
      console.log(
        JSON.stringify(
          { ...summary, run: undefined, report, ...(ok ? {} : { functionLogs: logs.path }) },
          null,
          2,
        ),
      );
    else {
      printSummary(summary);
      console.log(`\n  Run report             ${p(report)}`);
      if (!ok) console.log(`  Function logs          ${p(displayPath(logs.path))}`);
      console.log(`  Finished in ${formatMs(Date.now() - started)}`);
    }
    return ok ? 0 : 1;
  } catch (err) {
    console.error(`tunevault demo: the functions' logs are in ${p(displayPath(logs.path))}`);
    throw err;
  } finally {
    await aws.stop();
    await logs.close();
  }
}
