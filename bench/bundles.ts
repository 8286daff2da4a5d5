/**
 * The Lambda bundles a deploy ships: `serverless package` (offline) into a temporary directory,
 * then per function the zip's size, whether a source map rides along, and the module-load time of
 * the unzipped bundle in fresh Node processes against loading an empty module (interleaved, so
 * background load hits both alike). Last, one whole run on the embedded AWS with these packaged
 * bundles in place of its own, so a bundling option that breaks a handler fails here.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { underPackagingLock } from '../local/stack';
import { startHarness } from '../test/e2e/support/embedded';
import { kib, median, type Report } from './lib/report';
import { readZip } from './lib/zip';

const SECTION = 'Lambda bundles';
const ROOT = path.join(__dirname, '..');
const TARGET_ZIP_BYTES = 400 * 1024;
const TARGET_LOAD_MS = 150;
const LOAD_SAMPLES = 5;

/** What every handler's configuration needs at load; CloudFormation values get stand-ins. */
const LOAD_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_METRICS_DISABLED: 'true',
  ACCOUNT_ID: '000000000000',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:tunevault-dev-customization',
  BEDROCK_ROLE_ARN: 'arn:aws:iam::000000000000:role/tunevault-dev-bedrock',
  KEY_BUILDER_ROLE_ARNS: 'arn:aws:iam::000000000000:role/tunevault-dev-submit',
  TASK_TOKEN_TABLE: 'tunevault-dev-task-tokens',
};

/** Prints how long requiring the module took and how long the process had run by then. */
const LOADER = `
const t0 = performance.now();
const mod = require(process.argv[1]);
const t1 = performance.now();
if (process.argv[2] && typeof mod[process.argv[2]] !== 'function') throw new Error('no handler export');
process.stdout.write(JSON.stringify({ requireMs: t1 - t0, readyMs: t1 }));
`;

interface Bundle {
  key: string;
  zipBytes: number;
  files: string[];
  jsBytes: number;
  handlerFile: string;
  exportName: string;
  env: Record<string, string>;
}

function runPackage(outDir: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--package', outDir],
      {
        cwd: ROOT,
        env: {
          ...env,
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          // A build folder of its own (serverless.yml): a concurrent `serverless package` deletes its own.
          TUNEVAULT_ESBUILD_WORK_FOLDER: `.tunevault/esbuild-bench-${process.pid}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function unpack(outDir: string, into: string): Bundle[] {
  const state = JSON.parse(fs.readFileSync(path.join(outDir, 'serverless-state.json'), 'utf8')) as {
    service: {
      provider: { environment?: Record<string, unknown> };
      functions: Record<string, { handler: string; environment?: Record<string, unknown> }>;
    };
  };
  const strings = (o: Record<string, unknown> | undefined) =>
    Object.fromEntries(
      Object.entries(o ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  return Object.entries(state.service.functions).map(([key, fn]) => {
    const zip = fs.readFileSync(path.join(outDir, `${key}.zip`));
    const entries = readZip(zip);
    const dir = path.join(into, key);
    for (const e of entries) {
      if (e.name.endsWith('/')) continue;
      const file = path.join(dir, e.name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, e.data());
    }
    const dot = fn.handler.lastIndexOf('.');
    return {
      key,
      zipBytes: zip.length,
      files: entries.map((e) => e.name),
      jsBytes: entries.filter((e) => e.name.endsWith('.js')).reduce((s, e) => s + e.size, 0),
      handlerFile: path.join(dir, `${fn.handler.slice(0, dot)}.js`),
      exportName: fn.handler.slice(dot + 1),
      env: {
        ...strings(state.service.provider.environment),
        ...strings(fn.environment),
        ...LOAD_ENV,
        POWERTOOLS_SERVICE_NAME: key,
      },
    };
  });
}

function loadOnce(file: string, exportName: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, ['-e', LOADER, file, exportName], { env, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${path.basename(file)} failed to load: ${r.stderr.trim().split('\n')[0]}`);
  return JSON.parse(r.stdout) as { requireMs: number; readyMs: number };
}

/** Runs one whole workflow with the packaged handlers swapped in for the embedded AWS's own. */
async function workflowWithPackagedBundles(list: Bundle[]): Promise<{ status: string; loaded: number }> {
  const h = await startHarness();
  try {
    // LocalLambda maps each function to its bundle and loads it on first invocation.
    const map = (h.aws.lambda as unknown as { bundles?: Map<string, string> }).bundles;
    if (!(map instanceof Map))
      return { status: 'skipped: the embedded Lambda has no bundle map any more', loaded: 0 };
    // On Lambda each function has its own process and environment; the embedded Lambda gives its
    // own bundles theirs through a first line that shadows `process` (local/lambda.ts). The zips
    // lack that line, so it is put in front of each here, after their load times were taken.
    const hook = '__tunevaultBenchProcess';
    (globalThis as Record<string, unknown>)[hook] = (file: string) => h.aws.lambda.processFor(file);
    for (const b of list) {
      const code = fs.readFileSync(b.handlerFile, 'utf8');
      const strict = code.startsWith('"use strict";') ? '"use strict";' : '';
      const line = `var process = globalThis.${hook}(__filename);`;
      fs.writeFileSync(b.handlerFile, strict + line + code.slice(strict.length));
      map.set(b.key, b.handlerFile);
    }
    const { run } = await h.drop('packaged-bundles');
    const loaded = list.filter((b) => require.cache[b.handlerFile]).length;
    return { status: `${run.status}${run.error ? ` (${run.error}: ${run.cause ?? ''})` : ''}`, loaded };
  } finally {
    await h.stop();
  }
}

export async function bundles(report: Report, env: NodeJS.ProcessEnv): Promise<void> {
  report.heading('2. Lambda bundles (serverless package, offline)');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-bench-bundles-'));
  try {
    const outDir = path.join(work, 'package');
    const started = Date.now();
    // One `serverless package` in the project at a time (local/stack.ts): two lose each other's output.
    const pkg = await underPackagingLock(() => runPackage(outDir, env));
    if (pkg.code !== 0) {
      report.fail(SECTION, `serverless package failed (${pkg.code}):\n${pkg.output.trim()}`);
      return;
    }
    report.print(`  packaged in ${((Date.now() - started) / 1000).toFixed(1)} s into ${outDir}`);
    const list = unpack(outDir, path.join(work, 'unzipped'));

    const empty = path.join(work, 'empty.js');
    fs.writeFileSync(empty, '');
    const baseEnv = { PATH: process.env.PATH ?? '' };
    const emptyRuns: { requireMs: number; readyMs: number }[] = [];
    const runs = new Map<string, { requireMs: number; readyMs: number }[]>(list.map((b) => [b.key, []]));
    for (let i = 0; i < LOAD_SAMPLES; i++) {
      emptyRuns.push(loadOnce(empty, '', baseEnv));
      for (const b of list)
        runs.get(b.key)?.push(loadOnce(b.handlerFile, b.exportName, { ...baseEnv, ...b.env }));
    }
    const emptyReady = median(emptyRuns.map((r) => r.readyMs));
    const emptyRequire = median(emptyRuns.map((r) => r.requireMs));
    report.print(
      `  empty module: process ready after ${emptyReady.toFixed(0)} ms (require ${emptyRequire.toFixed(2)} ms); ` +
        `medians of ${LOAD_SAMPLES} fresh processes per bundle, interleaved`,
    );
    report.print();
    report.print(
      `  ${'function'.padEnd(26)} ${'zip'.padStart(10)} ${'bundle'.padStart(11)}  ${'require'.padStart(8)}  ${'ready ÷ empty'.padStart(13)}  files`,
    );
    let largest = list[0] as Bundle;
    const loads: number[] = [];
    const ratios: number[] = [];
    for (const b of list) {
      const r = runs.get(b.key) ?? [];
      const requireMs = median(r.map((x) => x.requireMs));
      const ratio = median(r.map((x) => x.readyMs)) / emptyReady;
      loads.push(requireMs);
      ratios.push(ratio);
      if (b.zipBytes > largest.zipBytes) largest = b;
      const maps = b.files.filter((f) => f.endsWith('.map'));
      report.print(
        `  ${b.key.padEnd(26)} ${kib(b.zipBytes).padStart(10)} ${kib(b.jsBytes).padStart(11)}  ${`${requireMs.toFixed(0)} ms`.padStart(8)}  ${`${ratio.toFixed(2)}×`.padStart(13)}  ${b.files.length}${maps.length ? ` (${maps.length} source map)` : ''}${b.zipBytes > TARGET_ZIP_BYTES ? '  ← over 400 KiB' : ''}`,
      );
    }
    report.print();
    const over = list.filter((b) => b.zipBytes > TARGET_ZIP_BYTES);
    const withMaps = list.filter((b) => b.files.some((f) => f.endsWith('.map')));
    report.figure(
      SECTION,
      'largest zip',
      `${kib(largest.zipBytes)} (${largest.key})`,
      '≤ 400 KiB each',
      over.length === 0,
    );
    report.figure(
      SECTION,
      'zips over 400 KiB',
      over.length ? over.map((b) => `${b.key} ${kib(b.zipBytes)}`).join(', ') : `none of ${list.length}`,
    );
    report.figure(
      SECTION,
      'source maps in the zips',
      withMaps.length ? withMaps.map((b) => b.key).join(', ') : 'none (sourcemap: false)',
      'none',
      withMaps.length === 0,
    );
    report.figure(
      SECTION,
      'load: process ready ÷ empty module',
      `${Math.min(...ratios).toFixed(2)}×–${Math.max(...ratios).toFixed(2)}× (median ${median(ratios).toFixed(2)}×)`,
    );
    report.figure(
      SECTION,
      'load: require time (indicative)',
      `${Math.min(...loads).toFixed(0)}–${Math.max(...loads).toFixed(0)} ms (median ${median(loads).toFixed(0)})`,
      `≤ ${TARGET_LOAD_MS} ms`,
      Math.max(...loads) <= TARGET_LOAD_MS,
    );
    const { status, loaded } = await workflowWithPackagedBundles(list);
    if (status.startsWith('skipped')) report.figure(SECTION, 'workflow on the packaged bundles', status);
    else {
      report.figure(
        SECTION,
        'workflow on the packaged bundles',
        `${status}, ${loaded} of ${list.length} ran`,
      );
      report.count(SECTION, 'runs on the packaged bundles SUCCEEDED', status === 'SUCCEEDED' ? 1 : 0, 1);
    }
  } catch (err) {
    report.fail(SECTION, err instanceof Error ? err.message : String(err));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
