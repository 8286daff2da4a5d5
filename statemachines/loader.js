// One ASL source for every consumer. The ASL holds SAM-style placeholders ("${XxxArn}");
// serverless.yml gets them as Fn::GetAtt on the function, the embedded AWS binds them to its
// own Lambda ARNs. Plain CommonJS so serverless can load it with ${file(...)}.
const fs = require('node:fs');
const path = require('node:path');

const PLACEHOLDER = /^\$\{([A-Za-z0-9]+)Arn\}$/;
const ASL_FILE = path.join(__dirname, 'customization.asl.json');

function readAsl(file = ASL_FILE) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
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
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new Error(`pollIntervalSeconds must be a whole number of seconds ≥ 1, got '${seconds}'`);
  }
  const copy = structuredClone(asl);
  copy.States.WaitForJob.TimeoutSeconds = seconds;
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
  if (resolveVariable)
    asl = withPollInterval(asl, Number(await resolveVariable('param:pollIntervalSeconds')));
  const region = resolveVariable ? String(await resolveVariable('self:provider.region')) : 'us-east-1';
  return bindPlaceholders(inPartition(asl, partitionOf(region)), (name) => ({
    'Fn::GetAtt': [`${name}LambdaFunction`, 'Arn'],
  }));
}

module.exports = {
  ASL_FILE,
  readAsl,
  bindPlaceholders,
  functionKeyOf,
  placeholderNames,
  withPollInterval,
  partitionOf,
  inPartition,
  definition,
};
