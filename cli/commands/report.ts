/** `tunevault report RUN`: one self-contained HTML file for a run (name or execution ARN). */
import { cliClients, embeddedStack, endpointOption } from '../lib/clients';
import { summarizeRun } from '../lib/drop';
import { executionArnFor } from '../../functions/shared/naming';
import { requireArn } from '../lib/arns';
import { writeRunReport } from '../lib/report';
import { loadRun } from '../lib/run-view';
import { printable } from '../lib/text';
import { parseCommandArgs, UsageError } from '../lib/usage';

const HELP = `tunevault report RUN [--out FILE] [--endpoint URL | --state-machine-arn ARN]
  Writes a self-contained HTML report of a run (RUN: a name from \`tunevault runs\`, or an
  execution ARN); default .tunevault/reports/<run>.html.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('report', {
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      endpoint: { type: 'string' },
      'state-machine-arn': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const target = positionals[0];
  if (!target || positionals.length > 1)
    throw new UsageError(
      `give exactly one RUN (a run name from \`tunevault runs\`, or an execution ARN).\n${HELP}`,
    );
  const endpoint = endpointOption(values.endpoint);
  const smFlag = values['state-machine-arn'];
  if (smFlag !== undefined) requireArn('--state-machine-arn', smFlag, 'state machine');
  let executionArn = target;
  if (target.startsWith('arn:')) requireArn('RUN', target, 'execution');
  else {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(target))
      throw new UsageError(
        `RUN '${target}' is neither a run name (letters, digits, - and _, at most 80) nor an execution ARN.`,
      );
    const sm = smFlag ?? (endpoint ? (await embeddedStack(endpoint))?.stateMachineArn : undefined);
    if (!sm)
      throw new UsageError(
        endpoint
          ? `${endpoint} is not an embedded AWS, so a run name alone is not enough: give the execution ARN or --state-machine-arn.`
          : 'a run name alone needs --state-machine-arn (real AWS) or an embedded AWS in --endpoint / AWS_ENDPOINT_URL; or give the execution ARN.',
      );
    executionArn = executionArnFor(sm, target);
  }
  const c = cliClients(endpoint);
  let summary: Awaited<ReturnType<typeof summarizeRun>>;
  try {
    summary = await summarizeRun(c, await loadRun(c.sfn, executionArn));
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') {
      console.error(`tunevault report: no run '${printable(target)}'. List runs with \`tunevault runs\`.`);
      return 1;
    }
    throw err;
  }
  console.log(printable(await writeRunReport(c, summary, values.out)));
  return 0;
}
