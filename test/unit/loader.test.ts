/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ASL placeholders are "${XxxArn}" strings */
/** statemachines/loader.js: the one ASL source, bound for serverless.yml or for the embedded AWS. */
const aslLoader = require('../../statemachines/loader.js') as {
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
