/**
 * `tunevault <command>`: each command lives in cli/commands/<name>.ts and returns an exit code.
 * Errors end here, one convention for all (cli/lib/usage.ts): usage errors exit 64, an endpoint
 * that does not answer 69, anything else 1, each as `tunevault <command>: <message>` on stderr.
 */
import { printableLines } from './lib/text';
import {
  chosenEndpoint,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  EndpointUnreachableError,
  type UsageError,
  unreachableReason,
} from './lib/usage';

export const USAGE = `tunevault — S3 training data to a CMK-encrypted, tagged Bedrock custom model, safely.

Usage: tunevault <command> [options]

Commands:
  demo                      embedded AWS + stack + sample data: one whole run, live (npm start)
  local [--port 4566] [--state-dir DIR]
                            embedded AWS with the stack until Ctrl-C; prints the environment to use
  run FILE [--key K] [--validation FILE] [--json]
                            upload FILE to the training prefix and follow its run to the end
  runs [--json]             list runs, newest first
  report RUN [--out FILE]   write a self-contained HTML report of a run
  scan FILE [--json] [--policy block|redact|report]
                            the training-data guard, offline
  remediate --model ARN --reason R [--retrain] [--json]
                            delete a model trained on data it should not have seen (its deployments
                            first), quarantine that dataset, and with --retrain start a new run on a
                            redacted copy
  preflight [--stage S] [--param k=v]... [--json]
                            read-only checks of Region, base model, quota, roles, buckets and key,
                            with the fix for each failed line

Run 'tunevault <command> --help' for a command's options.
Exit status: 0 success, 1 the run or the operation failed, 64 usage error, 69 endpoint unreachable.`;

type Command = (args: string[]) => Promise<number>;

// Loaded on demand, each from its own file (cli/build.js compiles one bundle per command), so
// `tunevault --help` loads nothing but this file.

const COMMANDS: Record<string, () => { run: Command }> = {
  demo: () => require('./commands/demo'),
  local: () => require('./commands/local'),
  run: () => require('./commands/run'),
  runs: () => require('./commands/runs'),
  report: () => require('./commands/report'),
  scan: () => require('./commands/scan'),
  remediate: () => require('./commands/remediate'),
  preflight: () => require('./commands/preflight'),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (!name) {
    console.error(`tunevault: give a command.\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(
      `tunevault: unknown command '${printableLines(name)}'. Commands: ${Object.keys(COMMANDS).join(', ')}.`,
    );
    return EXIT_USAGE;
  }
  try {
    return await load().run(rest);
  } catch (err) {
    const fail = (message: string, code: number) => {
      console.error(`tunevault ${name}: ${printableLines(message)}`);
      return code;
    };
    // By name, not instanceof: each command is its own bundle (cli/build.js), with its own copy of the classes.
    const kind = (err as Error | undefined)?.name;
    if (kind === 'UsageError') return fail((err as UsageError).message, EXIT_USAGE);
    if (kind === 'EndpointUnreachableError')
      return fail((err as EndpointUnreachableError).message, EXIT_UNAVAILABLE);
    const endpoint = chosenEndpoint();
    const reason = unreachableReason(err);
    if (reason)
      return fail(
        endpoint
          ? new EndpointUnreachableError(endpoint.url, reason, endpoint.source).message
          : `cannot reach AWS (${reason}).`,
        EXIT_UNAVAILABLE,
      );
    const e = err as Error;
    return fail(e?.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : String(e?.message ?? err), 1);
  }
}
