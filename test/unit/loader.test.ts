/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ASL placeholders are "${XxxArn}" strings */
/** statemachines/loader.js: the one ASL source, bound for serverless.yml or for the embedded AWS. */
const aslLoader = require('../../statemachines/loader.js') as {
  ASL_FILE: string;
  readAsl(file?: string): { States: Record<string, Record<string, unknown>> };
  bindPlaceholders(node: unknown, bind: (name: string) => unknown): unknown;
  functionKeyOf(name: string): string;
  placeholderNames(node: unknown): string[];
  withPollInterval(asl: unknown, seconds: unknown): { States: Record<string, { TimeoutSeconds?: number }> };
  withMaxQueueWait(asl: unknown, seconds: unknown): { States: Record<string, { TimeoutSeconds?: number }> };
  // biome-ignore lint/suspicious/noExplicitAny: ASL states of any shape, read by path in the assertions
  withSharedRetries(asl: unknown, shared: unknown[]): { States: Record<string, Record<string, any>> };
  partitionOf(region: string): string;
  definition(o?: { resolveVariable(v: string): Promise<string> }): Promise<Record<string, unknown>>;
};

describe('statemachines/loader.js', () => {
  it('reads customization.asl.json next to it', () => {
    expect(aslLoader.ASL_FILE).toMatch(/statemachines\/customization\.asl\.json$/);
    expect(aslLoader.readAsl().States.ValidateBucketEncryption?.Resource).toBe(
      '${ValidateBucketEncryptionArn}',
    );
  });

  it('binds "${XxxArn}" strings anywhere (arrays, nested objects) and leaves everything else alone', () => {
    const node = {
      a: '${FooArn}',
      b: ['${BarArn}', 'x${FooArn}', '${Foo}', '${Foo-Arn}', 7, null, true],
      c: { d: { e: '${BazQuxArn}' } },
    };
    expect(aslLoader.bindPlaceholders(node, (name) => `<${name}>`)).toEqual({
      a: '<Foo>',
      b: ['<Bar>', 'x${FooArn}', '${Foo}', '${Foo-Arn}', 7, null, true],
      c: { d: { e: '<BazQux>' } },
    });
    expect(node.a).toBe('${FooArn}');
  });

  it('names each placeholder once, in order of appearance', () => {
    expect(aslLoader.placeholderNames({ x: ['${AArn}', '${BArn}', { y: '${AArn}' }] })).toEqual(['A', 'B']);
  });

  it('maps a placeholder to its serverless.yml function key', () => {
    expect(aslLoader.functionKeyOf('ValidateBucketEncryption')).toBe('validateBucketEncryption');
    expect(aslLoader.functionKeyOf('X')).toBe('x');
  });

  it.each([0, -5, 1.5, Number.NaN, '60', 31_536_001])(
    "refuses a poll interval of %p (not whole seconds within a Standard execution's year), with the reason",
    (seconds) => {
      expect(() => aslLoader.withPollInterval(aslLoader.readAsl(), seconds)).toThrow(
        `pollIntervalSeconds must be a whole number of seconds from 1 to 31536000, got '${seconds}'`,
      );
    },
  );

  it("sets WaitForJob's TimeoutSeconds on a copy, leaving the ASL read untouched", () => {
    const asl = aslLoader.readAsl();
    const before = asl.States.WaitForJob?.TimeoutSeconds;
    expect(aslLoader.withPollInterval(asl, 1).States.WaitForJob?.TimeoutSeconds).toBe(1);
    expect(asl.States.WaitForJob?.TimeoutSeconds).toBe(before);
  });

  it('without serverless (no resolveVariable) keeps the file default and still binds every placeholder to Fn::GetAtt', async () => {
    const deployed = (await aslLoader.definition()) as {
      States: Record<string, { TimeoutSeconds?: number; Resource?: unknown }>;
    };
    expect(deployed.States.WaitForJob?.TimeoutSeconds).toBe(
      aslLoader.readAsl().States.WaitForJob?.TimeoutSeconds,
    );
    expect(deployed.States.CheckCustomizationJob?.Resource).toEqual({
      'Fn::GetAtt': ['CheckCustomizationJobLambdaFunction', 'Arn'],
    });
    expect(JSON.stringify(deployed)).not.toMatch(/\$\{\w+Arn\}/);
  });

  it('refuses a pollIntervalSeconds stage parameter that is not a whole number', async () => {
    await expect(aslLoader.definition({ resolveVariable: async () => 'soon' })).rejects.toThrow(
      "pollIntervalSeconds must be a whole number of seconds from 1 to 31536000, got 'NaN'",
    );
  });
});

describe('statemachines/loader.js at its edges', () => {
  const SHARED = [
    { ErrorEquals: ['Lambda.ServiceException', 'Lambda.TooManyRequestsException'], MaxAttempts: 3 },
  ];
  const taskWith = (Resource: string, extra: Record<string, unknown> = {}) => ({
    Type: 'Task',
    Resource,
    End: true,
    ...extra,
  });

  it('binds only a whole "${XxxArn}" string', () => {
    expect(aslLoader.bindPlaceholders(['${FooArn}x', '${FooArn}'], (name) => `<${name}>`)).toEqual([
      '${FooArn}x',
      '<Foo>',
    ]);
  });

  it('gives the shared retriers to Lambda tasks only: a placeholder, lambda:invoke or its .waitForTaskToken form', () => {
    const out = aslLoader.withSharedRetries(
      {
        StartAt: 'A',
        States: {
          A: taskWith('${StepArn}'),
          B: taskWith('arn:aws:states:::lambda:invoke'),
          C: taskWith('arn:aws:states:::lambda:invoke.waitForTaskToken'),
          D: taskWith('arn:aws:states:::dynamodb:putItem'),
          E: taskWith('arn:aws:states:::lambda:invoke.sync'),
          F: taskWith('xarn:aws:states:::lambda:invoke'),
        },
      },
      SHARED,
    );
    const retried = Object.fromEntries(
      Object.entries(out.States).map(([k, s]) => [k, s.Retry !== undefined]),
    );
    expect(retried).toEqual({ A: true, B: true, C: true, D: false, E: false, F: false });
  });

  it("reaches the tasks inside a Map state's ItemProcessor", () => {
    const out = aslLoader.withSharedRetries(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            End: true,
            ItemProcessor: { StartAt: 'T', States: { T: taskWith('${StepArn}') } },
          },
        },
      },
      SHARED,
    );
    expect(out.States.M?.ItemProcessor.States.T.Retry).toEqual(SHARED);
  });

  it('drops a shared retrier whose every error the task already decided', () => {
    const own = [
      { ErrorEquals: ['Lambda.ServiceException', 'Lambda.TooManyRequestsException'], MaxAttempts: 9 },
    ];
    const out = aslLoader.withSharedRetries(
      { StartAt: 'T', States: { T: taskWith('${StepArn}', { Retry: own }) } },
      SHARED,
    );
    expect(out.States.T?.Retry).toEqual(own);
  });

  it("sets AdmitJob's and RequeueJob's queue wait, up to a year, naming the stage parameter when refused", () => {
    const asl = aslLoader.readAsl();
    const out = aslLoader.withMaxQueueWait(asl, 31_536_000);
    expect(out.States.AdmitJob?.TimeoutSeconds).toBe(31_536_000);
    expect(out.States.RequeueJob?.TimeoutSeconds).toBe(31_536_000);
    expect(() => aslLoader.withMaxQueueWait(asl, 0)).toThrow(
      "maxQueueWaitSeconds must be a whole number of seconds from 1 to 31536000, got '0'",
    );
  });

  it.each([
    ['us-east-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
  ])('knows the partition of %s: %s', (region, partition) => {
    expect(aslLoader.partitionOf(region)).toBe(partition);
  });

  it("writes the service-integration ARNs in the partition of the stage's Region", async () => {
    const vars: Record<string, string> = {
      'param:pollIntervalSeconds': '60',
      'param:maxQueueWaitSeconds': '3600',
      'self:provider.region': 'cn-north-1',
    };
    const deployed = JSON.stringify(
      await aslLoader.definition({ resolveVariable: async (v) => vars[v] as string }),
    );
    expect(deployed).toContain('arn:aws-cn:states:::lambda:invoke.waitForTaskToken');
    expect(deployed).not.toContain('arn:aws:states:');
  });
});
