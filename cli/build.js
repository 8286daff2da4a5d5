#!/usr/bin/env node
/**
 * Compiles the `tunevault` command into dist/ (`npm run build`; `npm ci` and `npm install` run it
 * through `prepare`), so no TypeScript is transpiled when the command starts.
 *
 *   dist/cli/main.js                 the dispatcher: parses nothing but the command name
 *   dist/cli/commands/<name>.js      one bundle per command, loaded only when that command runs
 *   dist/cli/commands/guard-worker.js  the data guard's worker thread, for `scan` on large files
 *
 * `scan` bundles its dependencies too (zod, libphonenumber-js, …): one file to read at start,
 * no module resolution. The other commands keep node_modules external: they start the embedded
 * AWS, which builds handler bundles with esbuild at run time, and their start-up is not the cost
 * that matters.
 *
 * Sources read `__dirname` to find the project (local/stack.ts, cli/commands/demo.ts); in a
 * bundle it would name dist/…, so each module's `__dirname` is rewritten to the directory its
 * source lives in, resolved from the bundle's own location at run time.
 *
 * The bundles are written to a folder beside dist/ (same depth, so the paths above hold) and then
 * moved over the old files one by one (a rename over a file is atomic): a test or a command that
 * runs dist/ while it is rebuilt finds the old file or the new one, never none.
 */
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** Where this build writes before it moves its files into dist/. */
const STAGING = path.join(ROOT, `.dist-build-${process.pid}`);
const COMMANDS = fs
  .readdirSync(path.join(ROOT, 'cli', 'commands'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
/** Commands whose dependencies are bundled with them (see the file comment). */
const SELF_CONTAINED = new Set(['scan']);

/** `__dirname` of each source module, as the directory it has in the project. */
function sourceDirname(outDir) {
  const toRoot = path.relative(outDir, ROOT).split(path.sep).join('/');
  return {
    name: 'source-dirname',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        let contents = await fs.promises.readFile(args.path, 'utf8');
        if (contents.includes('__dirname')) {
          const dir = path.relative(ROOT, path.dirname(args.path)).split(path.sep).join('/');
          contents = contents.replace(
            /\b__dirname\b/g,
            `require("node:path").join(__tunevaultRoot, ${JSON.stringify(dir)})`,
          );
        }
        return { contents, loader: 'ts' };
      });
      build.initialOptions.banner = {
        js: `var __tunevaultRoot = require("node:path").resolve(__dirname, ${JSON.stringify(toRoot)});`,
      };
    },
  };
}

/** main.js loads each command from its own bundle, next to it. */
const commandsExternal = {
  name: 'commands-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\// }, (args) => ({
      path: `${args.path}.js`,
      external: true,
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Class names are how errors are reported (`UsageError`, the guard's named errors).
  keepNames: true,
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  // The ES module builds of the AWS SDK and Smithy tree-shake; their CommonJS builds do not.
  mainFields: ['module', 'main'],
};

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir) {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name)));
}

/** Moves each file built under `staging` over its namesake in dist/, then removes what the build no longer makes. */
function swapIn(staging) {
  const built = filesUnder(staging);
  for (const file of built) {
    fs.mkdirSync(path.dirname(path.join(DIST, file)), { recursive: true });
    fs.renameSync(path.join(staging, file), path.join(DIST, file));
  }
  const keep = new Set(built);
  for (const file of filesUnder(DIST)) if (!keep.has(file)) fs.rmSync(path.join(DIST, file));
  fs.rmSync(staging, { recursive: true, force: true });
}

async function build() {
  const started = Date.now();
  fs.rmSync(STAGING, { recursive: true, force: true });
  const cliOut = path.join(STAGING, 'cli');
  const commandsOut = path.join(cliOut, 'commands');
  await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: [path.join(ROOT, 'cli', 'main.ts')],
      outfile: path.join(cliOut, 'main.js'),
      plugins: [commandsExternal, sourceDirname(cliOut)],
    }),
    ...COMMANDS.map((name) =>
      esbuild.build({
        ...common,
        entryPoints: [path.join(ROOT, 'cli', 'commands', `${name}.ts`)],
        outfile: path.join(commandsOut, `${name}.js`),
        ...(SELF_CONTAINED.has(name) ? {} : { packages: 'external' }),
        plugins: [sourceDirname(commandsOut)],
      }),
    ),
    esbuild.build({
      ...common,
      entryPoints: [path.join(ROOT, 'functions', 'shared', 'guard', 'worker.ts')],
      outfile: path.join(commandsOut, 'guard-worker.js'),
      plugins: [sourceDirname(commandsOut)],
    }),
  ]);
  fs.writeFileSync(
    path.join(STAGING, 'README.txt'),
    'Built by `npm run build` (cli/build.js) from the TypeScript sources; not edited by hand.\n',
  );
  swapIn(STAGING);
  if (!process.argv.includes('--quiet')) {
    console.log(`tunevault: built dist/ (${COMMANDS.length} commands) in ${Date.now() - started} ms`);
  }
}

if (require.main === module) {
  build().catch((error) => {
    fs.rmSync(STAGING, { recursive: true, force: true });
    console.error(`tunevault build failed: ${error?.message ?? error}`);
    process.exitCode = 1;
  });
}

module.exports = { filesUnder };
