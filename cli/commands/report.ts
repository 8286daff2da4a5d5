/** `tunevault report RUN`: one self-contained HTML file for a run (name or execution ARN). */
import { parseArgs } from 'node:util';
import { cliClients, embeddedStack } from '../lib/clients';
import { summarizeRun } from '../lib/drop';
import { writeRunReport } from '../lib/report';
import { loadRun } from '../lib/run-view';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      endpoint: { type: 'string' },
      'state-machine-arn': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const target = positionals[0];
  if (values.help || !target) {
    console.log(
      'tunevault report RUN [--out FILE]   (RUN: a name from `tunevault runs`, or an execution ARN)',
    );
    return values.help ? 0 : 64;
  }
  const endpoint = values.endpoint ?? process.env.AWS_ENDPOINT_URL;
  let executionArn = target;
  if (!target.startsWith('arn:')) {
    const sm =
      values['state-machine-arn'] ??
      (endpoint ? (await embeddedStack(endpoint))?.stateMachineArn : undefined);
    if (!sm) {
      console.error(
        'tunevault report: give the execution ARN, or --state-machine-arn, or run against `tunevault local`.',
      );
      return 64;
    }
    executionArn = `${sm.replace(':stateMachine:', ':execution:')}:${target}`;
  }
  const c = cliClients(endpoint);
  let summary: Awaited<ReturnType<typeof summarizeRun>>;
  try {
    summary = await summarizeRun(c, await loadRun(c.sfn, executionArn));
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') {
      console.error(`tunevault report: no run '${target}'. List runs with \`tunevault runs\`.`);
      return 1;
    }
    throw err;
  }
  console.log(await writeRunReport(c, summary, values.out));
  return 0;
}
