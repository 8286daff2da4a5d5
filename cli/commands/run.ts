/**
 * `tunevault run FILE`: upload FILE into the training prefix and follow its run to the end.
 * Against the endpoint in AWS_ENDPOINT_URL (or --endpoint) when it is an embedded AWS; with
 * no endpoint and no --bucket, an embedded AWS is started for this one run, whose functions
 * log to a file under .tunevault/logs/ (printed when the run fails).
 */
import fs from 'node:fs';
import path from 'node:path';
import { EmbeddedAws } from '../../local/embedded';
import { requireArn } from '../lib/arns';
import { cliClients, embeddedStack, endpointOption, type StackInfo } from '../lib/clients';
import { dropAndFollow, RunNotStartedError } from '../lib/drop';
import { displayPath, type FunctionLog, openFunctionLog } from '../lib/function-logs';
import { writeRunReport } from '../lib/report';
import { printable } from '../lib/text';
import { parseCommandArgs, UsageError } from '../lib/usage';
import { printSummary } from './demo';

const HELP = `tunevault run FILE [--key KEY] [--validation FILE] [--json] [--endpoint URL]
                   [--bucket B --prefix P --state-machine-arn ARN]   (real AWS)
  Uploads FILE to the training prefix (as KEY, default its file name) and follows the run.
  Without an endpoint or --bucket, starts an embedded AWS for this one run; its functions
  log to .tunevault/logs/ (the path is printed when the run fails).
  Exit status: 0 the run succeeded, 1 it failed or never started, 64 usage error, 69 endpoint unreachable.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('run', {
    args,
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      validation: { type: 'string' },
      json: { type: 'boolean', default: false },
      endpoint: { type: 'string' },
      bucket: { type: 'string' },
      prefix: { type: 'string', default: 'training/' },
      'state-machine-arn': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError(`give exactly one FILE.\n${HELP}`);
  for (const f of [file, values.validation].filter((x): x is string => x !== undefined)) {
    if (!fs.existsSync(f) || !fs.statSync(f).isFile()) throw new UsageError(`'${f}' is not a readable file.`);
  }
  const smFlag = values['state-machine-arn'];
  if (smFlag !== undefined) requireArn('--state-machine-arn', smFlag, 'state machine');
  if (values.bucket && !smFlag)
    throw new UsageError('with --bucket, also give --state-machine-arn (see the stack outputs).');
  const endpoint = endpointOption(values.endpoint);
  let stack: StackInfo | undefined;
  if (values.bucket && smFlag) {
    stack = {
      trainingBucket: values.bucket,
      trainingPrefix: values.prefix,
      stateMachineArn: smFlag,
      outputBucket: '',
    };
  } else if (endpoint) {
    stack = await embeddedStack(endpoint);
    if (!stack)
      throw new UsageError(
        `${endpoint} is not an embedded AWS; for real AWS give --bucket and --state-machine-arn.`,
      );
  }
  const key = values.key ?? `${stack?.trainingPrefix ?? 'training/'}${path.basename(file)}`;
  const checkKey = (s: StackInfo) => {
    if (!key.startsWith(s.trainingPrefix) || !key.endsWith('.jsonl'))
      throw new UsageError(
        `--key '${key}' must start with '${s.trainingPrefix}' and end with '.jsonl' to start a run.`,
      );
  };
  if (stack) checkKey(stack);

  let aws: EmbeddedAws | undefined;
  let logs: FunctionLog | undefined;
  let ok = false;
  let logShown = false;
  try {
    if (!stack) {
      logs = openFunctionLog('run');
      aws = new EmbeddedAws({ port: 0, logLevel: 'INFO', functionLogs: logs.stream });
      stack = await aws.start();
      checkKey(stack);
    }
    const c = cliClients(aws?.url ?? endpoint);
    const summary = await dropAndFollow(
      c,
      stack,
      { file, key, ...(values.validation ? { validationFile: values.validation } : {}) },
      { quiet: values.json },
    );
    const report = await writeRunReport(c, summary);
    ok = summary.status === 'SUCCEEDED';
    logShown = Boolean(logs && !ok);
    if (values.json)
      console.log(
        JSON.stringify(
          { ...summary, run: undefined, report, ...(logShown ? { functionLogs: logs?.path } : {}) },
          null,
          2,
        ),
      );
    else {
      printSummary(summary);
      console.log(`\n  Run report             ${printable(report)}`);
      if (logs && logShown) console.log(`  Function logs          ${printable(displayPath(logs.path))}`);
    }
    return ok ? 0 : 1;
  } catch (err) {
    if (err instanceof RunNotStartedError) {
      console.error(`tunevault run: ${printable(err.message)}`);
      return 1;
    }
    throw err;
  } finally {
    await aws?.stop();
    await logs?.close();
    if (logs && !ok && !logShown)
      console.error(`tunevault run: the functions' logs are in ${printable(displayPath(logs.path))}`);
  }
}
