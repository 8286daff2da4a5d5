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
      iam: { type: 'string', default: 'enforce' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'tunevault local [--port 4566] [--host 127.0.0.1] [--state-dir DIR] [--stage dev] [--job-seconds 10] [--log-level INFO] [--no-seed] [--iam enforce|audit|off]\n' +
        "  --iam enforce (default): every request is authenticated (SigV4) and authorized by the stack's IAM as AWS would;\n" +
        '        audit: decided and recorded (GET /_tunevault/iam/decisions) but never refused; off: not evaluated.\n' +
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
  const iam = values.iam;
  if (iam !== 'enforce' && iam !== 'audit' && iam !== 'off') {
    console.error(`tunevault local: --iam '${iam}' is not one of enforce, audit, off.`);
    return 64;
  }
  const aws = new EmbeddedAws({
    iam,
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
  console.log(
    `\nIAM: ${iam}. These credentials are the account administrator (AdministratorAccess). To run a function with`,
  );
  console.log(
    "its own role, as Lambda would, prefix `serverless invoke local` with that role's credentials:",
  );
  for (const f of aws.functionCredentials()) {
    const creds = Object.entries(f.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`  ${f.key.padEnd(26)} ${creds}`);
  }
  console.log('\nThen for example:');
  console.log('  npx serverless invoke local -f startCustomization -p events/startCustomization.json');
  console.log(
    `  env ${Object.entries(aws.functionCredentials().find((f) => f.key === 'scanTrainingData')?.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} npx serverless invoke local -f scanTrainingData -p events/scanTrainingData.json`,
  );
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
