/** The shared logger's service name (functions/shared/logger.ts): the function's own, else 'tunevault'. */
const loadLogger = (service: string | undefined) => {
  const saved = process.env.POWERTOOLS_SERVICE_NAME;
  const level = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO'; // test/setup-env.js silences logs
  if (service === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
  else process.env.POWERTOOLS_SERVICE_NAME = service;
  try {
    let mod: typeof import('../../../functions/shared/logger') | undefined;
    jest.isolateModules(() => {
      mod = require('../../../functions/shared/logger');
    });
    return (mod as typeof import('../../../functions/shared/logger')).logger;
  } finally {
    if (level === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = level;
    if (saved === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
    else process.env.POWERTOOLS_SERVICE_NAME = saved;
  }
};

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
