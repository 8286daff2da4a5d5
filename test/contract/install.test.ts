/**
 * The install tells the truth: package.json `engines` admits only Node versions every
 * dependency supports (so `npm ci` on a Node the README supports prints no EBADENGINE), the
 * README and CI use that same Node, and the Lambda runtime and bundle target are at least as
 * new. Node 20 reached its end of life in April 2026; aws-local-stepfunctions (one release,
 * engines >=22), @middy/core 7 and serverless-step-functions 3.31 need Node 22, @osls/compose
 * 22.13, and Jest 30 leaves out Node 23 (not an LTS line).
 */
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { parse } from 'yaml';

const ROOT = path.join(__dirname, '..', '..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
};
const oldest = semver.minVersion(pkg.engines.node) as semver.SemVer;

it('engines.node admits no Node version a dependency refuses (what EBADENGINE checks)', () => {
  const refusing = Object.entries(lock.packages)
    .filter(([name]) => name !== '')
    .map(([name, p]) => [name, Array.isArray(p.engines) ? undefined : p.engines?.node] as const)
    .filter((e): e is readonly [string, string] => typeof e[1] === 'string')
    .filter(([, range]) => !semver.satisfies(oldest, range) || !semver.subset(pkg.engines.node, range))
    .map(([name, range]) => `${name.replace(/^.*node_modules\//, '')} needs node ${range}`);
  expect(refusing).toEqual([]);
  expect(oldest.major).toBeGreaterThanOrEqual(22);
});

it('the README and CI name that same Node', () => {
  expect(read('README.md')).toContain(`\`engines\`: \`${pkg.engines.node}\``);
  expect(read('.ci/run')).toMatch(new RegExp(`^NODE_MAJOR=${oldest.major}$`, 'm'));
});

it('the Lambda runtime and the bundle target are a current Node, no older than the supported one', () => {
  const sls = parse(read('serverless.yml')) as {
    provider: { runtime: string };
    custom: { esbuild: { target: string } };
  };
  const runtime = /^nodejs(\d+)\.x$/.exec(sls.provider.runtime)?.[1];
  expect(Number(runtime)).toBeGreaterThanOrEqual(oldest.major);
  expect(sls.custom.esbuild.target).toBe(`node${runtime}`);
});
