/**
 * `tunevault local`: the embedded AWS with the stack deployed, until Ctrl-C. Prints the
 * environment for the SDK, awscli and `serverless invoke local`.
 */
import os from 'node:os';
import { CONTROL_ROUTES } from '../../local/control';
import { isLoopback, isWildcard } from '../../local/core/host-origin';
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
      'allow-remote': { type: 'boolean', default: false },
      iam: { type: 'string', default: 'enforce' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'tunevault local [--port 4566] [--host 127.0.0.1 [--allow-remote]] [--state-dir DIR] [--stage dev] [--job-seconds 10] [--log-level INFO] [--no-seed] [--iam enforce|audit|off]\n' +
        "  --iam enforce (default): every request is authenticated (SigV4) and authorized by the stack's IAM as AWS would;\n" +
        '        audit: decided and recorded (GET /_tunevault/iam/decisions) but never refused; off: not evaluated.\n' +
        '  Runs the embedded AWS with the stack until Ctrl-C. State is in memory unless --state-dir is given.\n' +
        '  The port answers GET /_tunevault/health at once (status starting, then ready); every other\n' +
        '  request waits until the stack is deployed and every function can run.\n' +
        '  --host other than a loopback address needs --allow-remote: anyone who can reach the port could\n' +
        '  then read and write the S3 data, use the KMS keys and drive the control API.\n' +
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
  const host = values.host;
  const remote = !isLoopback(host);
  if (remote && !values['allow-remote'])
    throw new UsageError(
      `--host '${host}' is not a loopback address: other machines could reach the embedded AWS. Add --allow-remote to do that knowingly, or use --host 127.0.0.1.`,
    );
  const stateDir = values['state-dir'];
  if (stateDir !== undefined) {
    try {
      ensureStateDir(stateDir);
    } catch (err) {
      if (err instanceof StateDirError) throw new UsageError(`--state-dir: ${err.message}`);
      throw err;
    }
  }
  const iam = values.iam;
  if (iam !== 'enforce' && iam !== 'audit' && iam !== 'off')
    throw new UsageError(`--iam '${iam}' is not one of enforce, audit, off.`);
  const aws = new EmbeddedAws({
    iam,
    port,
    host,
    warmFunctions: true,
    stage: values.stage,
    jobDurationMs: jobSeconds * 1000,
    logLevel,
    ...(stateDir !== undefined ? { stateDir } : {}),
  });
  if (remote)
    console.error(
      `WARNING: --host ${host} --allow-remote: the embedded AWS will answer every machine that can reach port ${port} of this one. ` +
        'It has no real security: anyone there can read and write its S3 data (your training data), use its KMS keys, and drive ' +
        'its control API (faults, redelivery) with the documented dummy credentials. Use it only on a network you trust.',
    );
  console.error(
    `Starting the embedded AWS on ${host}:${port === 0 ? '<a free port>' : port}; requests wait until the stack is deployed (GET /_tunevault/health says ready then) …`,
  );
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
  if (isWildcard(aws.endpoint.bound.address)) {
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal && (aws.endpoint.bound.family === 'IPv6' || i.family === 'IPv4'))
      .map(
        (i) => `http://${i?.family === 'IPv6' ? `[${i.address}]` : i?.address}:${aws.endpoint.bound.port}`,
      );
    if (others.length > 0) console.log(`  other machines  ${others.join('  ')}`);
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
