/**
 * The thin shell every handler shares: middy + Powertools logger, input parsed (never cast),
 * and errors logged by name and message only — messages never carry training data.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { InvalidInputError } from './errors';
import { logger } from './logger';

export function parseInput<S extends z.ZodType>(schema: S, event: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new InvalidInputError(`${what} is not valid — ${problems}`);
  }
  return parsed.data;
}

/**
 * A step's handler: logger context, error logging, then the step's own MIDDLEWARES (e.g. its
 * metrics), all declared before the handler so the order they run in reads top to bottom.
 */
export function makeHandler<S extends z.ZodType, R>(
  schema: S,
  what: string,
  run: (input: z.output<S>, context: Context) => Promise<R>,
  middlewares: MiddlewareObj<unknown, R, Error, Context>[] = [],
) {
  const handler = middy<unknown, R, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      onError: async (request) => {
        const error = request.error;
        if (error) logger.error('step failed', { errorName: error.name, errorMessage: error.message });
      },
    });
  for (const middleware of middlewares) handler.use(middleware);
  return handler.handler(async (event, context) => run(parseInput(schema, event, what), context));
}
