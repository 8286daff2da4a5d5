/**
 * Rules over the CloudFormation a deploy would ship: `serverless package` runs offline here
 * (no AWS credentials in its environment) and every rule reads the packaged template.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isWildcardOnlyAction } from '@cloud-copilot/iam-simulate';
import { readZip } from '../../bench/lib/zip';
import { TRANSIENT_AWS_ERROR_NAMES } from '../../functions/shared/errors';
import { underPackagingLock } from '../../local/stack';
import {
  expandAction,
  grantsOf,
  type IdentityPolicy,
  type LeastPrivilegeRules,
  leastPrivilegeViolations,
  type Statement,
} from './iam-rules';

jest.setTimeout(180_000);

const ROOT = path.join(__dirname, '../..');
const STAGE = 'test';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Json;
  DependsOn?: string | string[];
  Condition?: string;
}
interface Policy {
  where: string;
  kind: 'identity' | 'key' | 'bucket' | 'trust';
  statements: Statement[];
}

/**
 * The only actions an identity policy may grant on `Resource: "*"`, each with the reason it
 * cannot be scoped. The test also asks the IAM service reference (through iam-simulate's data)
 * that each one really has no resource type.
 */
const UNSCOPABLE: Record<string, string> = {
  'kms:CreateKey': 'the key does not exist yet: CreateKey has no resource to scope to',
  'kms:ListKeys':
    "lists the account's keys (finding the key of a bootstrap holder that died): no resource type",
  'states:SendTaskSuccess':
    'no resource type (Service Authorization Reference, Step Functions): the task token is the capability',
  'states:SendTaskFailure':
    'no resource type (Service Authorization Reference, Step Functions): the task token is the capability',
  'servicequotas:GetAWSDefaultServiceQuota': "reads AWS's default value of a quota: no resource type",
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions (Lambda active tracing)',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions (Lambda active tracing)',
  'xray:GetSamplingRules': 'X-Ray has no resource-level permissions (state machine tracing)',
  'xray:GetSamplingTargets': 'X-Ray has no resource-level permissions (state machine tracing)',
  'logs:CreateLogDelivery': 'Step Functions log delivery: the vended-logs APIs support only "*"',
  'logs:GetLogDelivery': 'Step Functions log delivery: the vended-logs APIs support only "*"',
  'logs:UpdateLogDelivery': 'Step Functions log delivery: the vended-logs APIs support only "*"',
  'logs:DeleteLogDelivery': 'Step Functions log delivery: the vended-logs APIs support only "*"',
  'logs:ListLogDeliveries': 'Step Functions log delivery: the vended-logs APIs support only "*"',
  'logs:PutResourcePolicy': 'Step Functions log delivery: account-level resource policy, no resource type',
  'logs:DescribeResourcePolicies': 'Step Functions log delivery: account-level list, no resource type',
  'logs:DescribeLogGroups':
    'Step Functions log delivery: lists the account\'s log groups (documented as "*")',
  'bedrock:ListCustomModelDeployments':
    'a list call: remediation finds the deployments of a model by model ARN',
  'bedrock:ListProvisionedModelThroughputs':
    'a list call: remediation and the expiry cleanup find Provisioned Throughput by model or tag',
  'ec2:DescribeNetworkInterfaces':
    'vpcConfig: Bedrock describes the network (the CDK Bedrock task grants it on "*")',
  'ec2:DescribeVpcs': 'vpcConfig: Bedrock describes the network (the CDK Bedrock task grants it on "*")',
  'ec2:DescribeDhcpOptions':
    'vpcConfig: Bedrock describes the network (the CDK Bedrock task grants it on "*")',
  'ec2:DescribeSubnets': 'vpcConfig: Bedrock describes the network (the CDK Bedrock task grants it on "*")',
  'ec2:DescribeSecurityGroups':
    'vpcConfig: Bedrock describes the network (the CDK Bedrock task grants it on "*")',
};

/** The values CloudWatch Logs accepts for RetentionInDays (absent means never expire). */
const RETENTION_DAYS = new Set([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);

let template: { Resources: Record<string, Resource> };
let resources: Record<string, Resource>;
/** Each function zip's JavaScript, concatenated (custom-resources.zip is serverless's own). */
const bundles = new Map<string, string>();

/** Environment for an offline package: no credentials, no endpoint, no local overrides. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|ENDPOINT_URL.*)$/.test(k)) continue;
    if (k.startsWith('TUNEVAULT_')) continue;
    env[k] = v;
  }
  return {
    ...env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_REGION: 'us-east-1',
    // Its own esbuild work folder (relative to the project): a package run sharing `.esbuild`
    // with another one (CI, `npm run bench`) could empty that one's zips.
    TUNEVAULT_ESBUILD_WORK_FOLDER: `.tunevault/esbuild-template-test-${process.pid}`,
  };
}

beforeAll(async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-package-'));
  try {
    // One `serverless package` in the project at a time: the embedded AWS of the e2e files,
    // running beside this file, packages too.
    await underPackagingLock(() =>
      promisify(execFile)(
        process.execPath,
        [
          path.join(ROOT, 'node_modules/osls/bin/serverless.js'),
          'package',
          '--stage',
          STAGE,
          '--package',
          out,
        ],
        { cwd: ROOT, env: offlineEnv(), maxBuffer: 32 * 1024 * 1024 },
      ).catch((err: Error & { stdout?: string; stderr?: string }) => {
        // The command's own output names the cause; execFile's message has only its first lines.
        throw new Error(
          `${err.message}\n--- stdout ---\n${err.stdout ?? ''}\n--- stderr ---\n${err.stderr ?? ''}`,
        );
      }),
    );
    template = JSON.parse(
      fs.readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    );
    for (const zip of fs.readdirSync(out).filter((f) => f.endsWith('.zip') && f !== 'custom-resources.zip')) {
      const entries = readZip(fs.readFileSync(path.join(out, zip)));
      bundles.set(
        zip,
        entries
          .filter((e) => e.name.endsWith('.js'))
          .map((e) => e.data().toString('utf8'))
          .join('\n'),
      );
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  resources = template.Resources;
});

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const props = (r: Resource | undefined) => (r?.Properties ?? {}) as Json;

function policies(): Policy[] {
  const found: Policy[] = [];
  const add = (where: string, kind: Policy['kind'], doc: unknown) =>
    found.push({
      where,
      kind,
      statements: list((doc as { Statement?: Statement | Statement[] })?.Statement),
    });
  for (const [id, r] of Object.entries(resources)) {
    const p = props(r);
    if (r.Type === 'AWS::IAM::Role') {
      add(`${id} trust`, 'trust', p.AssumeRolePolicyDocument);
      for (const inline of inlinePolicies(r))
        add(`${id} inline ${JSON.stringify(inline.PolicyName)}`, 'identity', inline.PolicyDocument);
    }
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      add(id, 'identity', p.PolicyDocument);
    if (r.Type === 'AWS::KMS::Key') add(id, 'key', p.KeyPolicy);
    if (r.Type === 'AWS::S3::BucketPolicy') add(id, 'bucket', p.PolicyDocument);
  }
  return found;
}

/**
 * A role's inline policies, both branches of a conditional one (`Fn::If` with `AWS::NoValue`):
 * the rules hold whichever way the stage parameters go.
 */
function inlinePolicies(
  r: Resource | undefined,
): { PolicyName: unknown; PolicyDocument: { Statement: Statement[] } }[] {
  type Inline = { PolicyName: unknown; PolicyDocument: { Statement: Statement[] } };
  return list(props(r).Policies as unknown[]).flatMap((item) => {
    const branches = (item as { 'Fn::If'?: [string, unknown, unknown] })['Fn::If'];
    const options = branches ? [branches[1], branches[2]] : [item];
    return options.filter((o) => (o as { Ref?: string }).Ref !== 'AWS::NoValue') as Inline[];
  });
}

const isEveryone = (principal: unknown) =>
  principal === '*' || list((principal as { AWS?: unknown } | undefined)?.AWS).includes('*');

/** Our functions (not the framework's custom-resource helper). */
const workflowFunctions = () =>
  ofType('AWS::Lambda::Function').filter(([, r]) => String(props(r).Handler).startsWith('functions/'));

describe('packaged CloudFormation: IAM', () => {
  it('grants no Action "*" (or a service-wide "svc:*") in any identity policy, inline ones included', () => {
    const identity = policies().filter((p) => p.kind === 'identity');
    expect(identity.length).toBeGreaterThanOrEqual(12);
    const bad = identity.flatMap((p) =>
      p.statements
        .filter((s) => s.NotAction !== undefined || list(s.Action).some((a) => a === '*' || a.endsWith(':*')))
        .map((s) => `${p.where}: ${JSON.stringify(s.Action ?? s.NotAction)}`),
    );
    expect(bad).toEqual([]);
  });

  it('has no Action "*" in any policy at all (key, bucket, trust)', () => {
    const bad = policies().flatMap((p) =>
      p.statements.filter((s) => list(s.Action).includes('*')).map((s) => `${p.where}: ${s.Sid ?? ''}`),
    );
    expect(bad).toEqual([]);
  });

  it('uses Resource "*" only for actions that cannot be scoped, each with its reason', async () => {
    const starred = policies()
      .filter((p) => p.kind === 'identity')
      .flatMap((p) =>
        p.statements
          .filter((s) => s.Effect === 'Allow' && list(s.Resource).includes('*'))
          .flatMap((s) => list(s.Action).map((action) => ({ where: p.where, action }))),
      );
    expect(starred.filter((x) => !(x.action in UNSCOPABLE))).toEqual([]);
    expect(policies().flatMap((p) => p.statements.filter((s) => s.NotResource !== undefined))).toEqual([]);
    // The list is honest: the IAM service reference gives each of these actions no resource type.
    for (const action of new Set(starred.map((x) => x.action))) {
      const [service = '', name = ''] = action.split(':');
      expect({ action, wildcardOnly: await isWildcardOnlyAction(service, name) }).toEqual({
        action,
        wildcardOnly: true,
      });
    }
    // What the workflow's functions themselves need unscoped, and where (the list calls of
    // remediation and the expiry cleanup have no resource type either).
    const ownFunctionStars = starred.filter(
      (x) => x.where.includes('IamRoleLambdaExecution') && !x.action.startsWith('xray:'),
    );
    const byAction = new Map<string, string[]>();
    for (const x of ownFunctionStars)
      byAction.set(x.action, [...(byAction.get(x.action) ?? []), x.where.split('IamRole')[0] as string]);
    expect(Object.fromEntries(byAction)).toEqual({
      'bedrock:ListCustomModelDeployments': ['Remediate'],
      'bedrock:ListProvisionedModelThroughputs': expect.arrayContaining(['Remediate', 'ExpireDeployments']),
      'kms:CreateKey': ['EnsureCustomerManagedKey'],
      'kms:ListKeys': ['EnsureCustomerManagedKey'],
      'servicequotas:GetAWSDefaultServiceQuota': ['AdmitJob'],
      'states:SendTaskFailure': expect.arrayContaining(['WaitForJob', 'OnJobStateChange']),
      // Every function that frees a job slot resumes the next waiting run.
      'states:SendTaskSuccess': expect.arrayContaining([
        'AdmitJob',
        'SweepAdmission',
        'WaitForJob',
        'OnJobStateChange',
        'Remediate',
      ]),
    });
    expect(byAction.get('states:SendTaskSuccess')).toHaveLength(5);
    expect(byAction.get('states:SendTaskFailure')).toHaveLength(2);
  });

  it('scopes iam:PassRole to the Bedrock customization role, passed to bedrock.amazonaws.com only', () => {
    const passRole = policies().flatMap((p) =>
      p.statements
        .filter(
          (s) => s.Effect === 'Allow' && list(s.Action).some((a) => a === 'iam:PassRole' || a === 'iam:*'),
        )
        .map((s) => ({ where: p.where, s })),
    );
    expect(passRole.map((x) => x.where)).toEqual([expect.stringMatching(/^SubmitCustomizationJobIamRole/)]);
    for (const { s } of passRole) {
      expect(list(s.Resource)).toEqual([{ 'Fn::GetAtt': ['BedrockCustomizationRole', 'Arn'] }]);
      expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } });
    }
  });

  it('gives every workflow function its own role, and that role lets it write its traces', () => {
    const fns = workflowFunctions();
    expect(fns.length).toBeGreaterThanOrEqual(9);
    const roleOf = (r: Resource) => (props(r).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const roles = fns.map(([, r]) => roleOf(r));
    expect(new Set(roles).size).toBe(fns.length);
    for (const [id, fn] of fns) {
      const role = resources[roleOf(fn)];
      expect({ id, type: role?.Type }).toEqual({ id, type: 'AWS::IAM::Role' });
      if ((props(fn).TracingConfig as { Mode?: string } | undefined)?.Mode !== 'Active') continue;
      const statements = inlinePolicies(role).flatMap((p) => p.PolicyDocument.Statement);
      const actions = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action));
      expect({ id, traces: actions.includes('xray:PutTraceSegments') }).toEqual({ id, traces: true });
    }
  });

  it("lets Bedrock read only the data guard's copies under the output prefix, never the training bucket", () => {
    const statements = inlinePolicies(resources.BedrockCustomizationRole).flatMap((p) =>
      list(p.PolicyDocument.Statement),
    );
    const reads = statements.filter((s) => list(s.Action).some((a) => a.startsWith('s3:Get')));
    expect(reads.length).toBeGreaterThan(0);
    for (const s of reads) {
      expect(JSON.stringify(s.Resource)).toContain(`:s3:::tunevault-${STAGE}-output/output/*`);
      expect(JSON.stringify(s.Resource)).not.toContain('training-data');
    }
  });

  it('lets the Bedrock role invoke only the graders of rftGraderLambdaArns, and only when there are some', () => {
    const conditional = list(props(resources.BedrockCustomizationRole).Policies as unknown[])
      .map(
        (item) =>
          (item as { 'Fn::If'?: [string, { PolicyName?: string; PolicyDocument?: unknown }, unknown] })[
            'Fn::If'
          ],
      )
      .filter((b) => b !== undefined);
    const rft = conditional.find((b) => b?.[1].PolicyName === 'customization-rft-grader');
    expect(rft?.[0]).toBe('HasRftGraders');
    expect(rft?.[2]).toEqual({ Ref: 'AWS::NoValue' });
    expect((rft?.[1].PolicyDocument as { Statement: Statement[] } | undefined)?.Statement).toEqual([
      {
        Sid: 'InvokeRftGrader',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::Split': [',', ''] },
      },
    ]);
    // Besides the state machine (which invokes the workflow's own functions), only the Bedrock
    // role may invoke a Lambda function, and only through this statement.
    const invokers = policies().filter(
      (p) =>
        !p.where.startsWith('CustomizationStateMachineRole') &&
        p.statements.some((s) => list(s.Action).some((a) => a.startsWith('lambda:Invoke'))),
    );
    expect(invokers.map((p) => p.where)).toEqual([
      'BedrockCustomizationRole inline "customization-rft-grader"',
    ]);
    const vpc = conditional.find((b) => b?.[1].PolicyName === 'customization-vpc');
    expect(vpc?.[0]).toBe('HasVpcConfig');
    expect(vpc?.[2]).toEqual({ Ref: 'AWS::NoValue' });
  });

  it('creates a model-user role that may only invoke custom models, and puts it in the key users by default', () => {
    const statements = inlinePolicies(resources.ModelUserRole).flatMap((p) =>
      list(p.PolicyDocument.Statement),
    );
    expect(statements.flatMap((s) => list(s.Action)).sort()).toEqual([
      'bedrock:InvokeModel',
      'bedrock:InvokeModelWithResponseStream',
    ]);
    expect(JSON.stringify(statements.flatMap((s) => list(s.Resource)))).not.toContain('foundation-model');
    const env = props(resources.EnsureCustomerManagedKeyLambdaFunction).Environment as {
      Variables: Record<string, unknown>;
    };
    expect(JSON.stringify(env.Variables.KEY_USER_ROLE_ARNS)).toContain('"ModelUserRole","Arn"');
  });

  it("guards the Bedrock role's trust against the confused deputy", () => {
    const trust = props(resources.BedrockCustomizationRole).AssumeRolePolicyDocument as {
      Statement: Statement[];
    };
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]?.Principal).toEqual({ Service: 'bedrock.amazonaws.com' });
    expect(Object.keys(trust.Statement[0]?.Condition ?? {}).sort()).toEqual(['ArnLike', 'StringEquals']);
  });
});

/**
 * Account-wide grants the workflow cannot avoid, each with why: the resource's id is made by AWS
 * at run time, so no ARN in the template can name it. Any other account-wide grant fails the test.
 */
const ACCOUNT_WIDE: LeastPrivilegeRules['accountWide'] = [
  {
    resourceType: 'kms:key',
    actions: [
      'kms:DescribeKey',
      'kms:GetKeyPolicy',
      'kms:PutKeyPolicy',
      'kms:GetKeyRotationStatus',
      // The key bootstrap lease: a run that finds a dead holder's lease looks for the key it made by its tags.
      'kms:ListResourceTags',
      'kms:EnableKeyRotation',
      'kms:TagResource',
      'kms:ScheduleKeyDeletion',
      'kms:CreateAlias',
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ],
    reason:
      'the CMK is found by alias or created by the run (KMS picks its key id), so its ARN is not known when the stack is deployed',
  },
  {
    resourceType: 'bedrock:model-customization-job',
    actions: ['bedrock:GetModelCustomizationJob', 'bedrock:StopModelCustomizationJob', 'bedrock:TagResource'],
    reason: 'a job ARN ends in an id Bedrock assigns when the job is created',
  },
  {
    resourceType: 'bedrock:custom-model',
    actions: [
      'bedrock:CreateModelCustomizationJob',
      'bedrock:GetCustomModel',
      'bedrock:DeleteCustomModel',
      'bedrock:TagResource',
      'bedrock:CreateCustomModelDeployment',
      'bedrock:CreateProvisionedModelThroughput',
    ],
    reason: 'a custom model ARN ends in an id Bedrock assigns when the job ends',
  },
  {
    resourceType: 'bedrock:custom-model-deployment',
    actions: [
      'bedrock:TagResource',
      'bedrock:DeleteCustomModelDeployment',
      'bedrock:InvokeModel',
      'bedrock:InvokeModelWithResponseStream',
    ],
    reason:
      "an on-demand deployment's ARN ends in an id Bedrock assigns when FinalizeCustomModel creates it (the model-user role invokes the run's models through it)",
  },
  {
    resourceType: 'bedrock:provisioned-model',
    actions: [
      'bedrock:TagResource',
      'bedrock:ListTagsForResource',
      'bedrock:DeleteProvisionedModelThroughput',
      'bedrock:InvokeModel',
      'bedrock:InvokeModelWithResponseStream',
    ],
    reason:
      'a Provisioned Throughput ARN ends in an id Bedrock assigns when FinalizeCustomModel creates it (the expiry cleanup finds its own by tag)',
  },
  {
    resourceType: 'bedrock:foundation-model',
    actions: ['bedrock:CreateModelCustomizationJob'],
    reason: "the base model is a stage parameter and a dataset's sidecar may choose another",
  },
  {
    resourceType: 'lambda:function',
    actions: ['lambda:AddPermission', 'lambda:RemovePermission'],
    reason:
      "written by the Serverless Framework for its S3-notification custom resource (IamRoleCustomResourcesLambdaExecution), not by this project's serverless.yml",
  },
];

const RULES: LeastPrivilegeRules = {
  wildcardOnly: UNSCOPABLE,
  accountWide: ACCOUNT_WIDE,
  passRole: {
    resource: { 'Fn::GetAtt': ['BedrockCustomizationRole', 'Arn'] },
    passedToService: 'bedrock.amazonaws.com',
  },
};

const identityPolicies = (): IdentityPolicy[] => policies().filter((p) => p.kind === 'identity');

/** The packaged identity policies with one more statement in a function's role. */
const withStatement = (statement: Statement): IdentityPolicy[] => [
  ...identityPolicies(),
  { where: 'NotifyIamRoleLambdaExecution inline (added by the test)', statements: [statement] },
];

describe('README "The template is least privilege": every action pattern expanded, every resource evaluated', () => {
  it('the packaged identity policies grant nothing beyond the listed unscopable and account-wide grants', async () => {
    expect(await leastPrivilegeViolations(identityPolicies(), resources, RULES)).toEqual([]);
  });

  it('every account-wide grant in the list is one the template really makes (no dead entries)', async () => {
    const { grants } = await grantsOf(identityPolicies(), resources);
    const made = new Set(
      grants
        .filter((g) => g.reach.kind === 'account')
        .map((g) => `${'resourceType' in g.reach ? g.reach.resourceType : ''} ${g.action}`),
    );
    const listed = ACCOUNT_WIDE.flatMap((a) => a.actions.map((action) => `${a.resourceType} ${action}`));
    expect(listed.filter((entry) => !made.has(entry))).toEqual([]);
  });

  it('expands action patterns against the IAM action list', async () => {
    expect(await expandAction('iam:Pass*')).toEqual(['iam:PassRole']);
    expect(await expandAction('s3:Get*')).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:GetBucketPolicy']),
    );
    expect((await expandAction('kms:*Key*')).length).toBeGreaterThan(20);
    expect(await expandAction('s3:GetObjekt')).toEqual([]);
  });

  it.each([
    [
      'iam:Pass* on any role',
      { Effect: 'Allow', Action: 'iam:Pass*', Resource: '*' },
      [
        /iam:Pass\* is a wildcard for 1 action\(s\) \(iam:PassRole\)/,
        /iam:PassRole on \* — only the Bedrock customization role/,
        /iam:PassRole on \* reaches any iam:role of any account/,
      ],
    ],
    [
      'iam:PassRole on every role of the account, even to Bedrock only',
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: 'arn:aws:iam::123456789012:role/*',
        Condition: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
      },
      [/iam:PassRole on arn:aws:iam::123456789012:role\/\* — only/, /reaches every iam:role in the account/],
    ],
    [
      's3:Get* on arn:aws:*:*:*:*',
      { Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:*:*:*:*' },
      [/s3:Get\* is a wildcard/, /s3:GetObject on arn:aws:\*:\*:\*:\* reaches any s3:/],
    ],
    [
      'kms:*Key* on arn:aws:*:*:*:*',
      { Effect: 'Allow', Action: ['kms:*Key*'], Resource: ['arn:aws:*:*:*:*'] },
      [
        /kms:\*Key\* is a wildcard/,
        /kms:ScheduleKeyDeletion on arn:aws:\*:\*:\*:\* reaches any kms:key of any account/,
      ],
    ],
    [
      'an exact action on every bucket',
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::*' },
      [/s3:GetObject on arn:aws:s3:::\* reaches any s3:/],
    ],
    [
      'an exact action on keys of any region and account',
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:*:*:key/*' },
      [/kms:Decrypt on arn:aws:kms:\*:\*:key\/\* reaches any kms:key of any account/],
    ],
    [
      'an account-wide grant nobody listed (DisableKey on every key)',
      {
        Effect: 'Allow',
        Action: 'kms:DisableKey',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
      },
      [/kms:DisableKey on arn:aws:kms:us-east-1:123456789012:key\/\* reaches every kms:key in the account/],
    ],
    [
      'a misspelt action',
      { Effect: 'Allow', Action: 's3:GetObjekt', Resource: 'arn:aws:s3:::tunevault-test-output/*' },
      [/s3:GetObjekt names no IAM action/],
    ],
    [
      'NotAction',
      { Effect: 'Allow', NotAction: 'iam:*', Resource: 'arn:aws:s3:::tunevault-test-output/*' },
      [/NotAction\/NotResource grants everything not listed/],
    ],
  ] as [string, Statement, RegExp[]][])(
    'fails when a role is given %s',
    async (_label, statement, expected) => {
      // Only what the added statement brings (the packaged template's own grants are checked above).
      const before = new Set(await leastPrivilegeViolations(identityPolicies(), resources, RULES));
      const violations = (await leastPrivilegeViolations(withStatement(statement), resources, RULES)).filter(
        (v) => !before.has(v),
      );
      for (const pattern of expected) expect(violations).toContainEqual(expect.stringMatching(pattern));
      expect(
        violations.every((v) => v.startsWith('NotifyIamRoleLambdaExecution inline (added by the test)')),
      ).toBe(true);
    },
  );

  it('accepts an account-wide ARN narrowed by a resource-tag condition', async () => {
    const tagged: Statement = {
      Effect: 'Allow',
      Action: 'kms:DisableKey',
      Resource: 'arn:aws:kms:us-east-1:123456789012:key/*',
      Condition: { StringEquals: { 'aws:ResourceTag/tunevault:stage': 'test' } },
    };
    const before = await leastPrivilegeViolations(identityPolicies(), resources, RULES);
    expect(await leastPrivilegeViolations(withStatement(tagged), resources, RULES)).toEqual(before);
  });
});

describe('packaged CloudFormation: data protection', () => {
  it('turns rotation on for every KMS key the stack creates', () => {
    const keys = ofType('AWS::KMS::Key');
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const [id, r] of keys)
      expect({ id, rotation: props(r).EnableKeyRotation }).toEqual({ id, rotation: true });
  });

  it('has no key policy Allow with a "*" principal', () => {
    const bad = policies()
      .filter((p) => p.kind === 'key')
      .flatMap((p) => p.statements.filter((s) => s.Effect === 'Allow' && isEveryone(s.Principal)));
    expect(bad).toEqual([]);
  });

  it('gives every bucket a policy that denies requests without TLS, on the bucket and its objects', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets.map(([id]) => id)).toEqual(
      expect.arrayContaining(['TrainingBucket', 'OutputBucket', 'ServerlessDeploymentBucket']),
    );
    const bucketPolicies = ofType('AWS::S3::BucketPolicy');
    for (const [id] of buckets) {
      const policy = bucketPolicies.find(
        ([, p]) => JSON.stringify(props(p).Bucket) === JSON.stringify({ Ref: id }),
      );
      expect({ id, hasPolicy: policy !== undefined }).toEqual({ id, hasPolicy: true });
      const statements = list((props(policy?.[1]).PolicyDocument as { Statement: Statement[] }).Statement);
      const tlsDeny = statements.find(
        (s) =>
          s.Effect === 'Deny' &&
          isEveryone(s.Principal) &&
          list(s.Action).includes('s3:*') &&
          String(s.Condition?.Bool?.['aws:SecureTransport']) === 'false',
      );
      expect({ id, tlsDeny: tlsDeny !== undefined }).toEqual({ id, tlsDeny: true });
      // Both the bucket ARN and its objects (`…/*`).
      const covered = JSON.stringify(tlsDeny?.Resource);
      expect(covered).toContain('/*');
      expect(list(tlsDeny?.Resource).length).toBeGreaterThanOrEqual(2);
    }
  });

  it('encrypts the buckets it creates for data with SSE-KMS and a bucket key, and blocks public access', () => {
    for (const id of ['TrainingBucket', 'OutputBucket']) {
      const p = props(resources[id]);
      const rule = (p.BucketEncryption as { ServerSideEncryptionConfiguration: Json[] })
        .ServerSideEncryptionConfiguration[0] as Json;
      expect(rule).toMatchObject({
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' },
        BucketKeyEnabled: true,
      });
      expect(p.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
    }
  });
});

describe('packaged CloudFormation: logs and the state machine', () => {
  it('sets a retention on every log group', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(workflowFunctions().length + 1);
    // CloudFormation takes the stage parameter's string ("30") as the number it names.
    for (const [id, r] of groups)
      expect({ id, retention: RETENTION_DAYS.has(Number(props(r).RetentionInDays)) }).toEqual({
        id,
        retention: true,
      });
  });

  it('declares the log group of every function whose role may create one (no implicit never-expiring group)', () => {
    const names = new Set(ofType('AWS::Logs::LogGroup').map(([, r]) => props(r).LogGroupName));
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const roleId = (props(fn).Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const mayCreate = JSON.stringify(props(resources[roleId]).Policies ?? []).includes(
        'logs:CreateLogGroup',
      );
      if (!mayCreate) continue;
      expect({ id, declared: names.has(`/aws/lambda/${props(fn).FunctionName}`) }).toEqual({
        id,
        declared: true,
      });
    }
  });

  it('has logging (and tracing) on for the state machine', () => {
    const sm = props(resources.CustomizationStateMachine);
    const logging = sm.LoggingConfiguration as { Level: string; Destinations: Json[] };
    expect(['ERROR', 'ALL', 'FATAL']).toContain(logging.Level);
    expect(logging.Destinations).toEqual([
      { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'] } } },
    ]);
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('retries throttling and transient 5xx errors with capped, jittered backoff in every Lambda task', () => {
    const sub = (
      props(resources.CustomizationStateMachine).DefinitionString as { 'Fn::Sub': [string, Json] }
    )['Fn::Sub'][0];
    const asl = JSON.parse(sub) as { States: Record<string, Json> };
    const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(9);
    for (const [name, state] of tasks) {
      const retry = (state.Retry ?? []) as {
        ErrorEquals: string[];
        MaxDelaySeconds?: number;
        JitterStrategy?: string;
      }[];
      const covering = (error: string) => retry.find((r) => r.ErrorEquals.includes(error));
      for (const error of ['ThrottlingException', ...TRANSIENT_AWS_ERROR_NAMES]) {
        expect({ name, error, capped: covering(error)?.MaxDelaySeconds !== undefined }).toEqual({
          name,
          error,
          capped: true,
        });
        expect(covering(error)?.JitterStrategy).toBe('FULL');
      }
    }
  });
});

describe('packaged CloudFormation: the workflow is all there', () => {
  it('attaches the S3 trigger for *.jsonl under the training prefix to startCustomization', () => {
    const [, trigger] = ofType('Custom::S3')[0] ?? [];
    expect(props(trigger)).toMatchObject({
      FunctionName: `tunevault-${STAGE}-startCustomization`,
      BucketName: `tunevault-${STAGE}-training-data`,
      BucketConfigs: [
        { Event: 's3:ObjectCreated:*', Rules: [{ Prefix: 'training/' }, { Suffix: '.jsonl' }] },
      ],
    });
  });

  it("routes Bedrock's job-state events to onJobStateChange", () => {
    const rules = ofType('AWS::Events::Rule').map(([, r]) => props(r));
    expect(rules).toContainEqual(
      expect.objectContaining({
        EventPattern: { source: ['aws.bedrock'], 'detail-type': ['Model Customization Job State Change'] },
        State: 'ENABLED',
        Targets: [
          expect.objectContaining({ Arn: { 'Fn::GetAtt': ['OnJobStateChangeLambdaFunction', 'Arn'] } }),
        ],
      }),
    );
    expect(ofType('AWS::Lambda::Permission').map(([id]) => id)).toContain(
      'OnJobStateChangeEventBridgeLambdaPermission1',
    );
  });

  it('has the task-token table, encrypted, with a TTL', () => {
    expect(props(resources.TaskTokenTable)).toMatchObject({
      KeySchema: [{ AttributeName: 'jobName', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });
});

describe('licences: the AGPL IAM evaluator never ships', () => {
  it('@cloud-copilot/iam-simulate and iam-policy are devDependencies, loaded by the embedded AWS and tests only', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const name of ['@cloud-copilot/iam-simulate', '@cloud-copilot/iam-policy']) {
      expect(Object.keys(pkg.dependencies)).not.toContain(name);
    }
    expect(Object.keys(pkg.devDependencies)).toContain('@cloud-copilot/iam-simulate');
  });

  it('no Lambda bundle carries the evaluator (its message ids and default RCP name are absent)', () => {
    expect(bundles.size).toBeGreaterThanOrEqual(11);
    for (const [zip, code] of bundles) {
      expect({ zip, bytes: code.length > 1000 }).toEqual({ zip, bytes: true });
      for (const marker of [
        'must.use.wildcard',
        'RCPFullAWSAccess',
        '@cloud-copilot',
        'anonymous.identityPolicies',
      ])
        expect({ zip, marker, found: code.includes(marker) }).toEqual({ zip, marker, found: false });
    }
  });
});
