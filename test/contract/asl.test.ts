import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { allStates, aslContractViolations, errorNamesRaisedByCode, isLambdaTask } from './asl-rules';
import { STEP_ERROR_NAMES } from '../../functions/shared/errors';
const loader = require('../../statemachines/loader.js') as {
  readAsl(): Record<string, unknown>;
  placeholderNames(node: unknown): string[];
  functionKeyOf(name: string): string;
  definition(o?: {
    resolveVariable(v: string): Promise<string>;
  }): Promise<{ States: Record<string, { TimeoutSeconds?: number; Resource?: unknown; Retry?: unknown }> }>;
};

const asl = loader.readAsl();
const raised = errorNamesRaisedByCode();
const clone = () => structuredClone(asl) as { States: Record<string, Record<string, unknown>> };

describe('ASL ↔ code contract', () => {
  it('the shipped ASL has no violation', () => {
    expect(aslContractViolations(asl, raised)).toEqual([]);
  });

  it('every error class in functions/ is matched somewhere in the ASL', () => {
    const named = JSON.stringify(asl);
    for (const name of STEP_ERROR_NAMES) expect(named).toContain(`"${name}"`);
    expect([...raised].sort()).toEqual([...STEP_ERROR_NAMES].sort());
  });

  it('fails when the ASL names an error nobody raises', () => {
    const bad = clone();
    (bad.States.SubmitCustomizationJob!.Catch as { ErrorEquals: string[] }[])[0]!.ErrorEquals = [
      'JobSubmitionError',
    ];
    expect(aslContractViolations(bad, raised)).toEqual([
      "SubmitCustomizationJob: names error 'JobSubmitionError' that neither the code nor AWS/States raises",
    ]);
  });

  it('fails when a Lambda Task lacks the Lambda service-exception Retry', () => {
    const bad = clone();
    bad.States.CheckCustomizationJob!.Retry = [];
    expect(aslContractViolations(bad, raised)).toEqual([
      'CheckCustomizationJob: Lambda Task lacks Retry on Lambda.ServiceException, Lambda.AWSLambdaException, Lambda.SdkClientException, Lambda.TooManyRequestsException',
    ]);
  });

  it('fails when a .waitForTaskToken Task has no timeout', () => {
    const bad = clone();
    delete bad.States.WaitForJob!.TimeoutSeconds;
    expect(aslContractViolations(bad, raised)).toEqual([
      'WaitForJob: .waitForTaskToken Task lacks TimeoutSeconds',
    ]);
  });

  it('binds every placeholder to a function of serverless.yml, and Fn::GetAtt for deploys', async () => {
    const sls = parse(fs.readFileSync(path.join(__dirname, '../../serverless.yml'), 'utf8')) as {
      functions: Record<string, unknown>;
    };
    for (const name of loader.placeholderNames(asl))
      expect(Object.keys(sls.functions)).toContain(loader.functionKeyOf(name));
    const asked: string[] = [];
    const deployed = await loader.definition({
      resolveVariable: async (v) => {
        asked.push(v);
        return v === 'self:provider.region' ? 'us-east-1' : '120';
      },
    });
    expect(asked).toEqual(['param:pollIntervalSeconds', 'param:maxQueueWaitSeconds', 'self:provider.region']);
    expect(deployed.States.WaitForJob?.TimeoutSeconds).toBe(120);
    expect(deployed.States.AdmitJob?.TimeoutSeconds).toBe(120);
    expect(deployed.States.RequeueJob?.TimeoutSeconds).toBe(120);
    const text = JSON.stringify(deployed);
    expect(text).not.toMatch(/\$\{\w+Arn\}/);
    expect(text).toContain('{"Fn::GetAtt":["ValidateBucketEncryptionLambdaFunction","Arn"]}');
  });

  it('writes service-integration ARNs in the partition of the deployment region (issue 10, item 6)', async () => {
    const deployedIn = (region: string) =>
      loader.definition({
        resolveVariable: async (v) => (v === 'self:provider.region' ? region : '900'),
      });
    expect((await deployedIn('us-east-1')).States.WaitForJob?.Resource).toBe(
      'arn:aws:states:::lambda:invoke.waitForTaskToken',
    );
    expect((await deployedIn('cn-north-1')).States.WaitForJob?.Resource).toBe(
      'arn:aws-cn:states:::lambda:invoke.waitForTaskToken',
    );
    expect((await deployedIn('us-gov-west-1')).States.WaitForJob?.Resource).toBe(
      'arn:aws-us-gov:states:::lambda:invoke.waitForTaskToken',
    );
  });

  // `asl` is the definition as loaded for deploys (readAsl: the file with statemachines/retries.json
  // appended to every Lambda task); the deployed one differs only in ARNs and timeouts (checked below).
  it('retries throttling and quota errors with capped, jittered exponential backoff on every Lambda Task (Submit: throttling only)', async () => {
    const tasks = allStates(asl).filter(([, state]) => isLambdaTask(state));
    expect(tasks.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'ValidateBucketEncryption',
        'SubmitCustomizationJob',
        'WaitForJob',
        'Remediate',
      ]),
    );
    const capped = expect.objectContaining({
      JitterStrategy: 'FULL',
      MaxDelaySeconds: expect.any(Number),
      BackoffRate: 2,
    });
    const retrierFor = (state: Record<string, unknown>, error: string) =>
      ((state.Retry ?? []) as Record<string, unknown>[]).find((r) =>
        (r.ErrorEquals as string[]).includes(error),
      );
    for (const [name, state] of tasks) {
      expect({ name, retry: retrierFor(state, 'ThrottlingException') }).toEqual({ name, retry: capped });
      // SubmitCustomizationJob sends a quota refusal back to the wait list (next test), not to a retry.
      if (name === 'SubmitCustomizationJob') continue;
      expect({ name, retry: retrierFor(state, 'ServiceQuotaExceededException') }).toEqual({
        name,
        retry: capped,
      });
    }
    const deployed = await loader.definition();
    for (const [name, state] of tasks)
      expect({ name, retry: deployed.States[name]?.Retry }).toEqual({ name, retry: state.Retry });
  });

  it('puts a run Bedrock refuses for its quota back in the wait list instead of retrying or failing it', () => {
    const states = asl as {
      States: Record<
        string,
        { Retry?: { ErrorEquals: string[] }[]; Catch?: { ErrorEquals: string[]; Next: string }[] }
      >;
    };
    const submit = states.States.SubmitCustomizationJob;
    expect(submit?.Retry?.flatMap((r) => r.ErrorEquals)).not.toContain('ServiceQuotaExceededException');
    const caught = submit?.Catch?.find((c) => c.ErrorEquals.includes('ServiceQuotaExceededException'));
    expect(caught?.Next).toBe('RequeueJob');
    expect(states.States.RequeueJob).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an ASL placeholder, not a template
      Parameters: { FunctionName: '${AdmitJobArn}', Payload: { mode: 'requeue' } },
      Next: 'SubmitCustomizationJob',
    });
  });

  it('retries the key step while another run holds the bootstrap lease', () => {
    const states = asl as { States: Record<string, { Retry?: Record<string, unknown>[] }> };
    const retry = states.States.EnsureCustomerManagedKey?.Retry?.find((r) =>
      (r.ErrorEquals as string[]).includes('KeyBootstrapInProgressError'),
    );
    expect(retry).toMatchObject({ JitterStrategy: 'FULL', MaxAttempts: expect.any(Number) });
  });
});
