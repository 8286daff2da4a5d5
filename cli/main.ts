/** `tunevault <command>`: each command lives in cli/commands/<name>.ts and returns an exit code. */
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

Run 'tunevault <command> --help' for a command's options.`;

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
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 64;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`tunevault: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    return 64;
  }
  return load().run(rest);
}
