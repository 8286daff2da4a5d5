// One ASL source for every consumer. The ASL holds SAM-style placeholders ("${XxxArn}");
// serverless.yml gets them as Fn::GetAtt on the function, the embedded AWS binds them to its
// own Lambda ARNs. Plain CommonJS so serverless can load it with ${file(...)}.
const fs = require('node:fs');
const path = require('node:path');

const PLACEHOLDER = /^\$\{([A-Za-z0-9]+)Arn\}$/;
const ASL_FILE = path.join(__dirname, 'customization.asl.json');

const SHARED_RETRIES = path.join(__dirname, 'retries.json');

/** The ASL as deployed: the file, with the shared retriers on every Lambda task (withSharedRetries). */
function readAsl(file = ASL_FILE) {
  return withSharedRetries(
    JSON.parse(fs.readFileSync(file, 'utf8')),
    JSON.parse(fs.readFileSync(SHARED_RETRIES, 'utf8')),
  );
}

const LAMBDA_TASK = /^(\$\{[A-Za-z0-9]+Arn\}|arn:aws:states:::lambda:invoke(\.waitForTaskToken)?)$/;

/**
 * Every Lambda task retries what any AWS call may answer for a while (Lambda's own service errors,
 * throttling, transient server errors): one list, `statemachines/retries.json`, appended to the
 * task's own retriers. An error the task retries itself, or catches by name, is left out of the
 * shared retriers, so a state's own decision about it stands (SubmitCustomizationJob retries
 * throttling longer and queues on a quota error). Retriers after one naming States.ALL would
 * never run, so a task that retries States.ALL gets none.
 */
function withSharedRetries(asl, shared) {
  const copy = structuredClone(asl);
  const visit = (states) => {
    for (const state of Object.values(states)) {
      for (const branch of state.Branches ?? []) visit(branch.States);
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
      if (state.Type !== 'Task' || !LAMBDA_TASK.test(String(state.Resource))) continue;
      const own = state.Retry ?? [];
      const decided = new Set([
        ...own.flatMap((r) => r.ErrorEquals),
        ...(state.Catch ?? []).flatMap((c) => c.ErrorEquals).filter((e) => e !== 'States.ALL'),
      ]);
      if (decided.has('States.ALL')) continue;
      const added = shared
        .map((r) => ({ ...r, ErrorEquals: r.ErrorEquals.filter((e) => !decided.has(e)) }))
        .filter((r) => r.ErrorEquals.length > 0);
      state.Retry = [...own, ...added];
    }
  };
  visit(copy.States);
  return copy;
}

/** Replaces each "${XxxArn}" string with bind("Xxx"); lists unbound names in an error. */
function bindPlaceholders(node, bind) {
  if (Array.isArray(node)) return node.map((n) => bindPlaceholders(n, bind));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, bindPlaceholders(v, bind)]));
  }
  if (typeof node === 'string') {
    const m = PLACEHOLDER.exec(node);
    if (m) return bind(m[1]);
  }
  return node;
}

/** Function key in serverless.yml for a placeholder name: ValidateBucketEncryption → validateBucketEncryption. */
function functionKeyOf(name) {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function placeholderNames(node, found = new Set()) {
  bindPlaceholders(node, (name) => {
    found.add(name);
    return name;
  });
  return [...found];
}

/**
 * The wait for a Bedrock job times out after the stage's poll interval, then polls once:
 * WaitForJob's TimeoutSeconds is the `pollIntervalSeconds` stage parameter (the ASL file holds
 * the default). Step Functions has no substitution for numbers, so the loader sets it.
 */
function withPollInterval(asl, seconds) {
  return withTimeout(asl, ['WaitForJob'], 'pollIntervalSeconds', seconds);
}

/**
 * A run waits for a job slot in AdmitJob (and RequeueJob) at most `maxQueueWaitSeconds`; then it
 * fails with States.Timeout and is remediated. Waiting costs no state transitions, so the limit
 * is about how stale a dataset may get, not cost.
 */
function withMaxQueueWait(asl, seconds) {
  return withTimeout(asl, ['AdmitJob', 'RequeueJob'], 'maxQueueWaitSeconds', seconds);
}

function withTimeout(asl, states, param, seconds) {
  // A Standard execution lives at most one year.
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 31_536_000) {
    throw new Error(`${param} must be a whole number of seconds from 1 to 31536000, got '${seconds}'`);
  }
  const copy = structuredClone(asl);
  for (const name of states) copy.States[name].TimeoutSeconds = seconds;
  return copy;
}

/** The partition of a region (as the AWS SDK's partition table has it). */
function partitionOf(region) {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

/**
 * Service-integration ARNs (`arn:aws:states:::lambda:invoke…`) in the partition of the deployment
 * (aws-cn and aws-us-gov need `arn:aws-cn:…` / `arn:aws-us-gov:…`). A plain string, not an Fn::Sub:
 * serverless-step-functions recognises integrations by their ARN string (any partition) to write the
 * state machine role's permissions.
 */
function inPartition(node, partition) {
  if (Array.isArray(node)) return node.map((n) => inPartition(n, partition));
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inPartition(v, partition)]));
  if (typeof node === 'string' && node.startsWith('arn:aws:')) return `arn:${partition}:${node.slice(8)}`;
  return node;
}

/** For serverless.yml: `definition: ${file(statemachines/loader.js):definition}`. */
async function definition({ resolveVariable } = {}) {
  let asl = readAsl();
  if (resolveVariable) {
    asl = withPollInterval(asl, Number(await resolveVariable('param:pollIntervalSeconds')));
    asl = withMaxQueueWait(asl, Number(await resolveVariable('param:maxQueueWaitSeconds')));
  }
  const region = resolveVariable ? String(await resolveVariable('self:provider.region')) : 'us-east-1';
  return bindPlaceholders(inPartition(asl, partitionOf(region)), (name) => ({
    'Fn::GetAtt': [`${name}LambdaFunction`, 'Arn'],
  }));
}

module.exports = {
  ASL_FILE,
  readAsl,
  withSharedRetries,
  bindPlaceholders,
  functionKeyOf,
  placeholderNames,
  withPollInterval,
  withMaxQueueWait,
  partitionOf,
  inPartition,
  definition,
};
