/** `tunevault runs`: the runs of the state machine, newest first. */
import { queuePositions } from '../../functions/shared/admission';
import { AdmissionTable } from '../../functions/shared/aws/admission';
import { jobNameFor } from '../../functions/shared/naming';
import { requireArn } from '../lib/arns';
import { type CliClients, cliClients, embeddedStack, endpointOption } from '../lib/clients';
import { formatMs } from '../lib/progress';
import { describeJob } from '../lib/report';
import {
  currentState,
  field,
  guardFindingsOf,
  guardVerdictOf,
  jobWaitMs,
  listExecutions,
  loadRun,
} from '../lib/run-view';
import { printable as p } from '../lib/text';
import { integerOption, parseCommandArgs, UsageError } from '../lib/usage';

const HELP = `tunevault runs [--json] [--limit 50] [--endpoint URL | --state-machine-arn ARN] [--admission-table NAME]
  Lists runs newest first: source object, state, data-guard verdict, job, model, durations;
  runs waiting for a Bedrock job slot show QUEUED with their place in the wait list.`;

export interface RunRow {
  name: string;
  executionArn: string;
  status: string;
  /** The state the run is in (running) or ended in. */
  state: string | null;
  source: string;
  sourceVersionId: string | null;
  verdict: string | null;
  findings: number | null;
  jobArn: string | null;
  jobStatus: string | null;
  /** Bedrock's statusDetails: `validation Completed · data processing Completed · training Failed`. */
  jobStatusDetails: string | null;
  /** Bedrock's failureMessage of the job. */
  jobFailureMessage: string | null;
  modelArn: string | null;
  error: string | null;
  startDate: string;
  stopDate: string | null;
  durationMs: number;
  /** Bedrock's creation-to-end time of the job; while it runs (or unreadable), the time the run waited on it. */
  jobDurationMs: number | null;
  /** Waiting for a job slot: its place in the FIFO list (1 = next) and since when it waits. */
  queue: { position: number; of: number; waitingMs: number } | null;
}

/** The stack's admission table, by the naming serverless.yml uses (tunevault-<stage>-…). */
export function admissionTableFor(stateMachineArn: string): string {
  return (stateMachineArn.split(':').pop() ?? '').replace(/-customization$/, '-admission');
}

const WAITING_STATES = new Set(['AdmitJob', 'RequeueJob']);

export async function listRuns(
  c: CliClients,
  stateMachineArn: string,
  limit = 50,
  admissionTable = admissionTableFor(stateMachineArn),
): Promise<RunRow[]> {
  const executions = await listExecutions(c.sfn, stateMachineArn, limit);
  const jobNames = new Map<string, string>();
  const rows = await Promise.all(
    executions.map(async (e): Promise<RunRow> => {
      const r = await loadRun(c.sfn, e.executionArn ?? '');
      const jobArn = field(r.state, 'job', 'jobArn') ?? null;
      const job = jobArn ? await describeJob(c, jobArn) : undefined;
      const bucket = field(r.input, 'source', 'bucket');
      const key = field(r.input, 'source', 'key');
      if (bucket && key) {
        const versionId = field(r.input, 'source', 'versionId');
        const etag = field(r.input, 'source', 'etag');
        jobNames.set(r.executionArn, jobNameFor({ bucket, key, versionId, etag }));
      }
      return {
        name: r.name,
        executionArn: r.executionArn,
        status: r.status,
        state: currentState(r) ?? null,
        source: `s3://${bucket}/${key}`,
        sourceVersionId: field(r.input, 'source', 'versionId') ?? null,
        verdict: guardVerdictOf(r) ?? null,
        findings: guardFindingsOf(r) ?? null,
        jobArn,
        jobStatus: job?.status ?? null,
        jobStatusDetails: job?.statusDetails ?? null,
        jobFailureMessage: job?.failureMessage ?? null,
        modelArn: field(r.state, 'model', 'modelArn') ?? null,
        error: r.error ?? null,
        startDate: new Date(r.startDate).toISOString(),
        stopDate: r.stopDate ? new Date(r.stopDate).toISOString() : null,
        durationMs: r.durationMs ?? Date.now() - r.startDate,
        jobDurationMs: job?.durationMs ?? jobWaitMs(r) ?? null,
        queue: null,
      };
    }),
  );
  const waiting = rows.filter(
    (r) => r.status === 'RUNNING' && r.state !== null && WAITING_STATES.has(r.state),
  );
  if (waiting.length > 0) {
    // Unreadable (no permission, another naming): the runs show without their place.
    const list = await new AdmissionTable(admissionTable, c.dynamo).queue().catch(() => undefined);
    const places = list ? queuePositions(list) : new Map();
    const now = Date.now();
    for (const r of waiting) {
      const place = places.get(jobNames.get(r.executionArn) ?? '');
      if (place)
        r.queue = { position: place.position, of: place.of, waitingMs: Math.max(0, now - place.since) };
    }
  }
  return rows.sort((a, b) => b.startDate.localeCompare(a.startDate) || b.name.localeCompare(a.name));
}

/** The human table; every field that comes from data (keys, names, ARNs, errors) is made printable. */
export function formatRuns(runs: RunRow[]): string {
  const lines: string[] = [];
  const header = `${'STARTED (UTC)'.padEnd(20)} ${'STATUS'.padEnd(9)} ${'TOTAL'.padStart(9)} ${'JOB'.padStart(9)}  ${'GUARD'.padEnd(13)} SOURCE`;
  lines.push(header);
  for (const r of runs) {
    const guard = r.verdict ? `${p(r.verdict)}${r.findings !== null ? ` (${r.findings})` : ''}` : '—';
    const status = r.queue ? 'QUEUED' : r.status;
    lines.push(
      `${p(r.startDate.replace('T', ' ').slice(0, 19)).padEnd(20)} ${p(status).padEnd(9)} ${formatMs(r.durationMs).padStart(9)} ${(r.jobDurationMs !== null ? formatMs(r.jobDurationMs) : '—').padStart(9)}  ${guard.padEnd(13)} ${p(r.source)}`,
    );
    lines.push(
      `    run    ${p(r.name)}${r.state ? `   (${r.status === 'RUNNING' ? 'in' : 'ended in'} ${p(r.state)})` : ''}`,
    );
    if (r.queue)
      lines.push(
        `    queue  waiting for a Bedrock job slot: position ${r.queue.position} of ${r.queue.of}, for ${formatMs(r.queue.waitingMs)}`,
      );
    if (r.jobArn) lines.push(`    job    ${p(r.jobArn)}${r.jobStatus ? `   ${p(r.jobStatus)}` : ''}`);
    if (r.jobStatusDetails) lines.push(`    phases ${p(r.jobStatusDetails)}`);
    if (r.jobFailureMessage) lines.push(`    bedrock ${p(r.jobFailureMessage)}`);
    if (r.modelArn) lines.push(`    model  ${p(r.modelArn)}`);
    if (r.error) lines.push(`    error  ${p(r.error)}`);
  }
  return lines.join('\n');
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('runs', {
    args,
    options: {
      json: { type: 'boolean', default: false },
      endpoint: { type: 'string' },
      'state-machine-arn': { type: 'string' },
      'admission-table': { type: 'string' },
      limit: { type: 'string', default: '50' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const limit = integerOption('--limit', values.limit, 1, 10_000);
  const endpoint = endpointOption(values.endpoint);
  const smFlag = values['state-machine-arn'];
  if (smFlag !== undefined) requireArn('--state-machine-arn', smFlag, 'state machine');
  const stack = endpoint && smFlag === undefined ? await embeddedStack(endpoint) : undefined;
  const stateMachineArn = smFlag ?? stack?.stateMachineArn;
  if (!stateMachineArn)
    throw new UsageError(
      endpoint
        ? `${endpoint} is not an embedded AWS: give --state-machine-arn to list the runs of a state machine there.`
        : 'no state machine to list. Start `npx tunevault local` and export the environment it prints, or give --state-machine-arn.',
    );
  const runs = await listRuns(
    cliClients(endpoint),
    stateMachineArn,
    limit,
    values['admission-table'] ?? stack?.admissionTable ?? admissionTableFor(stateMachineArn),
  );
  if (values.json) {
    console.log(JSON.stringify(runs, null, 2));
    return 0;
  }
  if (runs.length === 0) {
    console.log('No runs yet. Drop a .jsonl file into the training prefix, or use `tunevault run FILE`.');
    return 0;
  }
  console.log(formatRuns(runs));
  return 0;
}
