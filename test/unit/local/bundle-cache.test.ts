/**
 * The handlers' esbuild output is reused only while every file esbuild read is unchanged, and
 * each caller gets files of its own (its own module when it `require`s them).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cachedBuild } from '../../../local/bundle-cache';

/** Each test's project folder, removed after it. */
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function project() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-bundle-cache-'));
  made.push(dir);
  fs.writeFileSync(path.join(dir, 'greeting.js'), "module.exports = 'hello';\n");
  fs.writeFileSync(path.join(dir, 'entry.js'), "module.exports.handler = () => require('./greeting');\n");
  // Sources written a while ago: one written during a build is not cached (its test is below).
  const past = new Date(Date.now() - 60_000);
  for (const f of ['greeting.js', 'entry.js']) fs.utimesSync(path.join(dir, f), past, past);
  const root = path.join(dir, 'cache');
  const options = {
    entryPoints: { fn: path.join(dir, 'entry.js') },
    bundle: true,
    platform: 'node' as const,
    format: 'cjs' as const,
    logLevel: 'silent' as const,
  };
  let n = 0;
  /** Builds into a new folder; returns the bundle's file and the cache's folders. */
  async function buildOnce(extra: Record<string, unknown> = {}) {
    const outdir = path.join(dir, `out-${n++}`);
    await cachedBuild({ ...options, ...extra }, outdir, { root, workingDir: dir });
    return {
      file: path.join(outdir, 'fn.js'),
      cached: fs.readdirSync(root).filter((f) => !f.startsWith('.')),
    };
  }
  const run = (file: string) => (require(file) as { handler(): string }).handler();
  return { dir, buildOnce, run };
}

it('a second build with the same inputs reuses the first (one cached folder, the same inode) into a folder of its own', async () => {
  const p = project();
  const first = await p.buildOnce();
  const second = await p.buildOnce();
  expect(first.cached).toHaveLength(1);
  expect(second.cached).toEqual(first.cached);
  expect(second.file).not.toBe(first.file);
  expect(fs.statSync(second.file).ino).toBe(fs.statSync(first.file).ino);
  expect(p.run(first.file)).toBe('hello');
  expect(p.run(second.file)).toBe('hello');
});

it('an edited dependency (not the entry point) is built again, with its new text', async () => {
  const p = project();
  const first = await p.buildOnce();
  // A different size, and a modification time after the first text's. Set, not left to the write:
  // a file stamped in the millisecond the next build starts counts as changed during that build
  // (not cached, by design; tested below), which made this test fail once on a loaded machine.
  const file = path.join(p.dir, 'greeting.js');
  fs.writeFileSync(file, "module.exports = 'good morning';\n");
  const later = new Date(Date.now() - 30_000);
  fs.utimesSync(file, later, later);
  const second = await p.buildOnce();
  expect(p.run(second.file)).toBe('good morning');
  expect(fs.statSync(second.file).ino).not.toBe(fs.statSync(first.file).ino);
  expect(second.cached).toHaveLength(2);
  expect(p.run(first.file)).toBe('hello');
});

it('an edit of the same size is seen by its modification time', async () => {
  const p = project();
  await p.buildOnce();
  const file = path.join(p.dir, 'greeting.js');
  fs.writeFileSync(file, "module.exports = 'HELLO';\n");
  // Later than the first text's, and still before this build.
  const later = new Date(Date.now() - 30_000);
  fs.utimesSync(file, later, later);
  const second = await p.buildOnce();
  expect(p.run(second.file)).toBe('HELLO');
  expect(second.cached).toHaveLength(2);
});

it('other options are another cache entry (a define changes the output)', async () => {
  const p = project();
  await p.buildOnce();
  const other = await p.buildOnce({ banner: { js: '/* other */' } });
  expect(other.cached).toHaveLength(2);
  expect(fs.readFileSync(other.file, 'utf8')).toContain('/* other */');
});

it('a source modified while it is built is not cached (the output may hold its old text)', async () => {
  const p = project();
  const file = path.join(p.dir, 'greeting.js');
  const future = new Date(Date.now() + 60_000);
  fs.utimesSync(file, future, future);
  const first = await p.buildOnce();
  expect(p.run(first.file)).toBe('hello');
  expect(first.cached).toEqual([]);
});

it('a build error leaves nothing in the cache and names the file', async () => {
  const p = project();
  fs.writeFileSync(path.join(p.dir, 'greeting.js'), 'module.exports = (;\n');
  await expect(p.buildOnce()).rejects.toThrow(/greeting\.js/);
  expect(fs.readdirSync(path.join(p.dir, 'cache'))).toEqual([]);
});
