/**
 * functions/shared/tracer.ts in the Lambda execution environment (AWS_EXECUTION_ENV set, tracing
 * not turned off), where the tracer is on: the service it annotates, and that it leaves Node's
 * http and https modules alone (responses would otherwise be traced with what they name).
 * Outside Lambda the tracer is a no-op, so these load the module afresh under that environment.
 */
import http from 'node:http';
import https from 'node:https';
import { loadFreshWithEnv } from '../support/env';

type TracerModule = typeof import('../../../functions/shared/tracer');

const IN_LAMBDA = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
  POWERTOOLS_TRACE_ENABLED: undefined,
  AWS_SAM_LOCAL: undefined,
};

function tracerIn(env: Record<string, string | undefined>) {
  return loadFreshWithEnv(
    { ...IN_LAMBDA, ...env },
    () => (require('../../../functions/shared/tracer') as TracerModule).tracer,
  );
}

/** The Service annotation the tracer puts on a segment (the X-Ray call itself is not made). */
function annotatedService(env: Record<string, string | undefined>): unknown {
  const tracer = tracerIn(env);
  expect(tracer.isTracingEnabled()).toBe(true);
  const put = jest.spyOn(tracer, 'putAnnotation').mockImplementation(() => undefined);
  tracer.addServiceNameAnnotation();
  return put.mock.calls;
}

describe('the X-Ray tracer inside Lambda', () => {
  it("annotates segments with the service 'tunevault' when POWERTOOLS_SERVICE_NAME is unset", () => {
    expect(annotatedService({ POWERTOOLS_SERVICE_NAME: undefined })).toStrictEqual([
      ['Service', 'tunevault'],
    ]);
  });

  it('annotates segments with POWERTOOLS_SERVICE_NAME when it is set', () => {
    expect(annotatedService({ POWERTOOLS_SERVICE_NAME: 'tunevault-prod' })).toStrictEqual([
      ['Service', 'tunevault-prod'],
    ]);
  });

  it('does not patch http and https to trace requests (captureHTTPsRequests: false)', () => {
    // The X-Ray SDK's captureHTTPsGlobal keeps the original as `__request` on the patched module.
    tracerIn({});
    expect([http, https].map((m) => '__request' in m)).toStrictEqual([false, false]);
  });
});
