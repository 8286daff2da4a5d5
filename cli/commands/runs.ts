/** `tunevault runs`: the runs of the state machine, newest first. */
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { parseArgs } from 'node:util';
import { cliClients, embeddedStack } from '../lib/clients';
import { formatMs } from '../lib/progress';
import { field, loadRun } from '../lib/run-view';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      endpoint: { type: 'string' },
      'state-machine-arn': { type: 'string' },
      limit: { type: 'string', default: '50' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('tunevault runs [--json] [--limit 50] [--endpoint URL | --state-machine-arn ARN]');
    return 0;
  }
  const endpoint = values.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const stateMachineArn =
    values['state-machine-arn'] ?? (endpoint ? (await embeddedStack(endpoint))?.stateMachineArn : undefined);
  if (!stateMachineArn) {
    console.error(
      'tunevault runs: no state machine to list. Start `npx tunevault local` and export the environment it prints, or give --state-machine-arn.',
    );
    return 64;
  }
  const c = cliClients(endpoint);
  const list = await c.sfn.send(
    new ListExecutionsCommand({ stateMachineArn, maxResults: Number(values.limit) }),
  );
  const runs = await Promise.all(
    (list.executions ?? []).map(async (e) => {
      const r = await loadRun(c.sfn, e.executionArn ?? '');
      return {
        name: r.name,
        executionArn: r.executionArn,
        status: r.status,
        source: `s3://${field(r.input, 'source', 'bucket')}/${field(r.input, 'source', 'key')}`,
        verdict: field(r.state, 'scan', 'verdict') ?? null,
        findings: field<number>(r.state, 'scan', 'totalFindings') ?? null,
        jobArn: field(r.state, 'job', 'jobArn') ?? null,
        modelArn: field(r.state, 'model', 'modelArn') ?? null,
        error: r.error ?? null,
        startDate: new Date(r.startDate).toISOString(),
        durationMs: r.durationMs ?? Date.now() - r.startDate,
        jobDurationMs: (() => {
          const waits = r.timeline.filter(
            (s) => s.name === 'WaitForJob' || s.name === 'CheckCustomizationJob',
          );
          const first = waits[0];
          const last = waits[waits.length - 1];
          return first && last ? (last.exitedAt ?? Date.now()) - first.enteredAt : null;
        })(),
      };
    }),
  );
  runs.sort((a, b) => b.startDate.localeCompare(a.startDate));
  if (values.json) {
    console.log(JSON.stringify(runs, null, 2));
    return 0;
  }
  if (runs.length === 0) {
    console.log('No runs yet. Drop a .jsonl file into the training prefix, or use `tunevault run FILE`.');
    return 0;
  }
  for (const r of runs) {
    console.log(`${r.startDate}  ${r.status.padEnd(9)} ${formatMs(r.durationMs).padStart(9)}  ${r.source}`);
    console.log(
      `    guard: ${r.verdict ?? '—'}${r.findings !== null ? ` (${r.findings} findings)` : ''}   job: ${r.jobArn ?? '—'}`,
    );
    console.log(`    model: ${r.modelArn ?? '—'}${r.error ? `   error: ${r.error}` : ''}`);
    console.log(`    run:   ${r.name}`);
  }
  return 0;
}
