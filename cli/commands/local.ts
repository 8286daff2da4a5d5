/**
 * `tunevault local`: the embedded AWS with the stack deployed, until Ctrl-C. Prints the
 * environment for the SDK, awscli and `serverless invoke local`.
 */
import { CONTROL_ROUTES } from '../../local/control';
import { EmbeddedAws, ensureStateDir, StateDirError } from '../../local/embedded';
import { seedSampleEvents } from '../../local/seed';
import { printable as p } from '../lib/text';
import { integerOption, parseCommandArgs, UsageError } from '../lib/usage';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('local', {
    args,
    options: {
      port: { type: 'string', default: '4566' },
      host: { type: 'string', default: '127.0.0.1' },
      'state-dir': { type: 'string' },
      stage: { type: 'string', default: 'dev' },
      'job-seconds': { type: 'string', default: '10' },
      'log-level': { type: 'string', default: 'INFO' },
      'no-seed': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'tunevault local [--port 4566] [--host 127.0.0.1] [--state-dir DIR] [--stage dev] [--job-seconds 10] [--log-level INFO] [--no-seed]\n' +
        '  Runs the embedded AWS with the stack until Ctrl-C. State is in memory unless --state-dir is given.\n' +
        '  Stores the object and creates the key the sample events in events/ name, so that\n' +
        '  `serverless invoke local -f <fn> -p events/<fn>.json` finds it; --no-seed leaves the buckets empty.',
    );
    return 0;
  }
  const port = integerOption('--port', values.port, 0, 65535);
  const jobSeconds = integerOption('--job-seconds', values['job-seconds'], 0, 86_400);
  const logLevel = values['log-level'].toUpperCase();
  if (!LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level '${values['log-level']}' is not one of ${LOG_LEVELS.join(', ')}.`);
  const stateDir = values['state-dir'];
  if (stateDir !== undefined) {
    try {
      ensureStateDir(stateDir);
    } catch (err) {
      if (err instanceof StateDirError) throw new UsageError(`--state-dir: ${err.message}`);
      throw err;
    }
  }
  const aws = new EmbeddedAws({
    port,
    host: values.host,
    stage: values.stage,
    jobDurationMs: jobSeconds * 1000,
    logLevel,
    ...(stateDir !== undefined ? { stateDir } : {}),
  });
  try {
    await aws.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      console.error(
        `tunevault local: port ${port} is in use. Stop what runs there, or pick another with --port.`,
      );
      return 1;
    }
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
      throw new UsageError(`--host '${values.host}' is not an address of this machine (${e.code}).`);
    throw err;
  }
  const s = aws.stack;
  const env = aws.clientEnvironment();
  const seeded = values['no-seed'] ? [] : await seedSampleEvents(aws);
  console.log(
    `Embedded AWS on ${aws.url} (stage ${p(s.stage)}${stateDir !== undefined ? `, state in ${p(stateDir)}` : ', in memory'})`,
  );
  console.log(`  training data   s3://${s.trainingBucket}/${s.trainingPrefix}*.jsonl`);
  console.log(`  output          s3://${s.outputBucket}/${s.outputPrefix}`);
  console.log(`  state machine   ${s.stateMachineArn}`);
  for (const o of seeded) {
    const version = o.versionId ? ` (version ${o.versionId})` : '';
    console.log(`  sample data     ${p(o.what)}${p(version)}${o.created ? '' : ', kept'}`);
  }
  console.log('\nExport this environment in another shell:\n');
  for (const [k, v] of Object.entries(env)) console.log(`export ${k}=${JSON.stringify(v)}`);
  console.log('\nThen for example:');
  console.log('  npx serverless invoke local -f startCustomization -p events/startCustomization.json');
  console.log(`  aws s3 cp data.jsonl s3://${s.trainingBucket}/${s.trainingPrefix}data.jsonl`);
  console.log('  aws stepfunctions list-executions --state-machine-arn ' + s.stateMachineArn);
  console.log('  npx tunevault runs');
  console.log('\nControl API:');
  for (const r of CONTROL_ROUTES) console.log(`  ${r}`);
  console.log('\nCtrl-C stops it.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('\nStopping …');
  await aws.stop();
  return 0;
}
