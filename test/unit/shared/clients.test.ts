/**
 * The SDK clients' settings (functions/shared/aws/clients.ts), read once at module load: each
 * case loads the module afresh under its own environment.
 */
import { loadFreshWithEnv } from '../support/env';
const load = (env: Record<string, string | undefined>) =>
  loadFreshWithEnv(
    env,
    () =>
      require('../../../functions/shared/aws/clients') as typeof import('../../../functions/shared/aws/clients'),
  );

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
