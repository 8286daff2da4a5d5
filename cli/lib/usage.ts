/**
 * One convention for every command: a usage error (bad option, missing or malformed argument)
 * prints `tunevault <command>: <what is wrong and how to fix it>` on stderr and exits 64
 * (EX_USAGE); an endpoint that does not answer is named as such and exits 69 (EX_UNAVAILABLE);
 * any other failure exits 1. cli/main.ts maps the errors below to those exits.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const EXIT_USAGE = 64;
export const EXIT_UNAVAILABLE = 69;

/** Something the user asked for is malformed or missing; the message names it and the fix. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The endpoint the command was pointed at did not answer at all (nothing listens, no route, no DNS). */
export class EndpointUnreachableError extends Error {
  override readonly name = 'EndpointUnreachableError';
  constructor(
    readonly endpoint: string,
    reason: string,
    source: 'flag' | 'env' = 'flag',
  ) {
    super(
      `cannot reach the endpoint ${endpoint} (${reason}${source === 'env' ? ', from AWS_ENDPOINT_URL' : ''}). ` +
        'Start the embedded AWS with `npx tunevault local` (and export what it prints), or point --endpoint / AWS_ENDPOINT_URL at a running one; unset it to use real AWS.',
    );
  }
}

type Chosen = { url: string; source: 'flag' | 'env' };
// On globalThis, not in this module: the dispatcher and each command are separate bundles
// (cli/build.js), each with its own copy of this module.
const CHOSEN = Symbol.for('tunevault.cli.endpoint');

/** The endpoint this command was pointed at, to name it when it does not answer (one command per process). */
export function chosenEndpoint(): Chosen | undefined {
  return (globalThis as { [CHOSEN]?: Chosen })[CHOSEN];
}

export function rememberEndpoint(endpoint: Chosen): void {
  (globalThis as { [CHOSEN]?: Chosen })[CHOSEN] = endpoint;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens there',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
};

/** Why a request never reached a server (ECONNREFUSED and friends), looking through causes; else undefined. */
export function unreachableReason(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES[e.code]) return NETWORK_CODES[e.code];
  // The SDK rewraps an error from another realm as "AWS SDK error wrapper for Error: connect ECONNREFUSED …".
  const named =
    typeof e.message === 'string' ? /\b(E[A-Z_]+|UND_ERR_[A-Z_]+)\b/.exec(e.message)?.[1] : undefined;
  if (named && NETWORK_CODES[named]) return NETWORK_CODES[named];
  const nested = [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  for (const n of nested) {
    const reason = unreachableReason(n, depth + 1);
    if (reason) return reason;
  }
  return undefined;
}

/** parseArgs, with its errors ("Unknown option '--x'") turned into a UsageError that points at --help. */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T) {
  try {
    return parseArgs(config);
  } catch (err) {
    const message = (err as Error).message.replace(/\.$/, '');
    throw new UsageError(`${message}. Run 'tunevault ${command} --help' for the options.`);
  }
}

/** A positive number of seconds or a port, as given on the command line. */
export function integerOption(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} '${raw}' is not a whole number from ${min} to ${max}.`);
  return n;
}
