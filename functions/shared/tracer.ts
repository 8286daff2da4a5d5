/**
 * One X-Ray tracer per process (serverless.yml turns active tracing on for every function). It
 * traces only inside Lambda: off the Lambda execution environment (no AWS_EXECUTION_ENV) or with
 * POWERTOOLS_TRACE_ENABLED=false — what the embedded AWS sets, as it has no X-Ray daemon — every
 * call is a no-op. Responses are not recorded (they name datasets and findings); errors are, by
 * name and message, which never carry training data.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

export const tracer = new Tracer({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tunevault',
  captureHTTPsRequests: false,
});
