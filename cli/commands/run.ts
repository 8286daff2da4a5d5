/**
 * `tunevault run FILE`: upload FILE into the training prefix and follow its run to the end.
 * Against the endpoint in AWS_ENDPOINT_URL (or --endpoint) when it is an embedded AWS; with
 * no endpoint and no --bucket, an embedded AWS is started for this one run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EmbeddedAws } from '../../local/embedded';
import { cliClients, embeddedStack, type StackInfo } from '../lib/clients';
import { dropAndFollow, RunNotStartedError } from '../lib/drop';
import { writeRunReport } from '../lib/report';
import { printSummary } from './demo';

const HELP = `tunevault run FILE [--key KEY] [--validation FILE] [--json] [--endpoint URL]
                   [--bucket B --prefix P --state-machine-arn ARN]   (real AWS)
  Uploads FILE to the training prefix (as KEY, default its file name) and follows the run.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
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
  if (!file || positionals.length > 1) {
    console.error(`tunevault run: give exactly one FILE.\n${HELP}`);
    return 64;
  }
  for (const f of [file, values.validation].filter((x): x is string => Boolean(x))) {
    if (!fs.existsSync(f) || !fs.statSync(f).isFile()) {
      console.error(`tunevault run: '${f}' is not a readable file.`);
      return 64;
    }
  }
  const endpoint = values.endpoint ?? process.env.AWS_ENDPOINT_URL;
  let aws: EmbeddedAws | undefined;
  let stack: StackInfo | undefined;
  if (values.bucket) {
    if (!values['state-machine-arn']) {
      console.error('tunevault run: with --bucket, also give --state-machine-arn (see the stack outputs).');
      return 64;
    }
    stack = {
      trainingBucket: values.bucket,
      trainingPrefix: values.prefix,
      stateMachineArn: values['state-machine-arn'],
      outputBucket: '',
    };
  } else if (endpoint) {
    stack = await embeddedStack(endpoint);
    if (!stack) {
      console.error(
        `tunevault run: ${endpoint} is not an embedded AWS; for real AWS give --bucket and --state-machine-arn.`,
      );
      return 64;
    }
  } else {
    aws = new EmbeddedAws({ port: 0 });
    stack = await aws.start();
  }
  try {
    const c = cliClients(aws?.url ?? endpoint);
    const key = values.key ?? `${stack.trainingPrefix}${path.basename(file)}`;
    if (!key.startsWith(stack.trainingPrefix) || !key.endsWith('.jsonl')) {
      console.error(
        `tunevault run: --key '${key}' must start with '${stack.trainingPrefix}' and end with '.jsonl' to start a run.`,
      );
      return 64;
    }
    const summary = await dropAndFollow(
      c,
      stack,
      { file, key, ...(values.validation ? { validationFile: values.validation } : {}) },
      { quiet: values.json },
    );
    const report = await writeRunReport(c, summary);
    if (values.json) console.log(JSON.stringify({ ...summary, run: undefined, report }, null, 2));
    else {
      printSummary(summary);
      console.log(`\n  Run report             ${report}`);
    }
    return summary.status === 'SUCCEEDED' ? 0 : 1;
  } catch (err) {
    if (err instanceof RunNotStartedError) {
      console.error(`tunevault run: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await aws?.stop();
  }
}
