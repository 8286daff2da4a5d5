/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ASL placeholders are "${XxxArn}" strings */
/** statemachines/loader.js: the one ASL source, bound for serverless.yml or for the embedded AWS. */
const loader = require('../../statemachines/loader.js') as {
  ASL_FILE: string;
  readAsl(file?: string): { States: Record<string, Record<string, unknown>> };
  bindPlaceholders(node: unknown, bind: (name: string) => unknown): unknown;
  functionKeyOf(name: string): string;
  placeholderNames(node: unknown): string[];
  withPollInterval(asl: unknown, seconds: unknown): { States: Record<string, { TimeoutSeconds?: number }> };
  definition(o?: { resolveVariable(v: string): Promise<string> }): Promise<Record<string, unknown>>;
};

describe('statemachines/loader.js', () => {
  it('reads customization.asl.json next to it', () => {
    expect(loader.ASL_FILE).toMatch(/statemachines\/customization\.asl\.json$/);
    expect(loader.readAsl().States.ValidateBucketEncryption?.Resource).toBe('${ValidateBucketEncryptionArn}');
  });

  it('binds "${XxxArn}" strings anywhere (arrays, nested objects) and leaves everything else alone', () => {
    const node = {
      a: '${FooArn}',
      b: ['${BarArn}', 'x${FooArn}', '${Foo}', '${Foo-Arn}', 7, null, true],
      c: { d: { e: '${BazQuxArn}' } },
    };
    expect(loader.bindPlaceholders(node, (name) => `<${name}>`)).toEqual({
      a: '<Foo>',
      b: ['<Bar>', 'x${FooArn}', '${Foo}', '${Foo-Arn}', 7, null, true],
      c: { d: { e: '<BazQux>' } },
    });
    expect(node.a).toBe('${FooArn}');
  });

  it('names each placeholder once, in order of appearance', () => {
    expect(loader.placeholderNames({ x: ['${AArn}', '${BArn}', { y: '${AArn}' }] })).toEqual(['A', 'B']);
  });

  it('maps a placeholder to its serverless.yml function key', () => {
    expect(loader.functionKeyOf('ValidateBucketEncryption')).toBe('validateBucketEncryption');
    expect(loader.functionKeyOf('X')).toBe('x');
  });

  it.each([0, -5, 1.5, Number.NaN, '60'])('refuses a poll interval of %p with the reason', (seconds) => {
    expect(() => loader.withPollInterval(loader.readAsl(), seconds)).toThrow(
      `pollIntervalSeconds must be a whole number of seconds ≥ 1, got '${seconds}'`,
    );
  });

  it("sets WaitForJob's TimeoutSeconds on a copy, leaving the ASL read untouched", () => {
    const asl = loader.readAsl();
    const before = asl.States.WaitForJob?.TimeoutSeconds;
    expect(loader.withPollInterval(asl, 1).States.WaitForJob?.TimeoutSeconds).toBe(1);
    expect(asl.States.WaitForJob?.TimeoutSeconds).toBe(before);
  });

  it('without serverless (no resolveVariable) keeps the file default and still binds every placeholder to Fn::GetAtt', async () => {
    const deployed = (await loader.definition()) as {
      States: Record<string, { TimeoutSeconds?: number; Resource?: unknown }>;
    };
    expect(deployed.States.WaitForJob?.TimeoutSeconds).toBe(
      loader.readAsl().States.WaitForJob?.TimeoutSeconds,
    );
    expect(deployed.States.CheckCustomizationJob?.Resource).toEqual({
      'Fn::GetAtt': ['CheckCustomizationJobLambdaFunction', 'Arn'],
    });
    expect(JSON.stringify(deployed)).not.toMatch(/\$\{\w+Arn\}/);
  });

  it('refuses a pollIntervalSeconds stage parameter that is not a whole number', async () => {
    await expect(loader.definition({ resolveVariable: async () => 'soon' })).rejects.toThrow(
      "pollIntervalSeconds must be a whole number of seconds ≥ 1, got 'NaN'",
    );
  });
});
