/** The shared logger's service name (functions/shared/logger.ts): the function's own, else 'tunevault'. */
import { loadFreshWithEnv } from '../support/env';
const loadLogger = (service: string | undefined) =>
  loadFreshWithEnv(
    // test/setup-env.js silences logs
    { POWERTOOLS_SERVICE_NAME: service, POWERTOOLS_LOG_LEVEL: 'INFO' },
    () =>
      (require('../../../functions/shared/logger') as typeof import('../../../functions/shared/logger'))
        .logger,
  );

describe('logger', () => {
  it.each([
    [undefined, 'tunevault'],
    ['startCustomization', 'startCustomization'],
  ])('with POWERTOOLS_SERVICE_NAME=%s logs as service %s', (env, service) => {
    const logger = loadLogger(env);
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      logger.info('hello');
    } finally {
      write.mockRestore();
    }
    const entry = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.message === 'hello');
    expect(entry?.service).toBe(service);
  });
});
