/**
 * `tunevault local`: the embedded AWS with the stack deployed, until Ctrl-C. Prints the
 * environment for the SDK, awscli and `serverless invoke local`.
 */
import { parseArgs } from 'node:util';
import { CONTROL_ROUTES } from '../../local/control';
import { EmbeddedAws } from '../../local/embedded';
import { seedSampleEvents } from '../../local/seed';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
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
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`tunevault local: --port '${values.port}' is not a port number (0–65535).`);
    return 64;
  }
  const aws = new EmbeddedAws({
    port,
    host: values.host,
    stage: values.stage,
    jobDurationMs: Number(values['job-seconds']) * 1000,
    logLevel: values['log-level'],
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
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
    throw err;
  }
  const s = aws.stack;
  const env = aws.clientEnvironment();
  const seeded = values['no-seed'] ? [] : await seedSampleEvents(aws);
  console.log(
    `Embedded AWS on ${aws.url} (stage ${s.stage}${values['state-dir'] ? `, state in ${values['state-dir']}` : ', in memory'})`,
  );
  console.log(`  training data   s3://${s.trainingBucket}/${s.trainingPrefix}*.jsonl`);
  console.log(`  output          s3://${s.outputBucket}/${s.outputPrefix}`);
  console.log(`  state machine   ${s.stateMachineArn}`);
  for (const o of seeded) {
    const version = o.versionId ? ` (version ${o.versionId})` : '';
    console.log(`  sample data     ${o.what}${version}${o.created ? '' : ', kept'}`);
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
