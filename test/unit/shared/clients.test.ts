/**
 * The SDK clients' settings (functions/shared/aws/clients.ts), read once at module load: each
 * case loads the module afresh under its own environment.
 */
const setEnv = (env: Record<string, string | undefined>) => {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
};

const load = (env: Record<string, string | undefined>) => {
  // Only the keys set here are put back, on the process's own env object.
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  setEnv(env);
  try {
    let mod: typeof import('../../../functions/shared/aws/clients') | undefined;
    jest.isolateModules(() => {
      mod = require('../../../functions/shared/aws/clients');
    });
    return mod as typeof import('../../../functions/shared/aws/clients');
  } finally {
    setEnv(saved);
  }
};

describe('SDK clients', () => {
  it.each([
    [
      'a custom endpoint for every service',
      { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_S3: undefined },
      true,
    ],
    [
      'a custom endpoint for S3 only',
      { AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566' },
      true,
    ],
    ['AWS itself', { AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: undefined }, false],
  ])('S3 path-style addressing with %s (%j): %s', (_what, env, pathStyle) => {
    expect(load(env).s3Client().config.forcePathStyle).toBe(pathStyle);
  });

  it('the DynamoDB document client drops undefined attributes instead of failing on them', () => {
    const doc = load({}).dynamoClient();
    expect(doc.config.translateConfig?.marshallOptions?.removeUndefinedValues).toBe(true);
  });

  it('each client is made once per process', () => {
    const mod = load({});
    expect(mod.kmsClient()).toBe(mod.kmsClient());
  });
});
