/**
 * cli/build.js rebuilds dist/ while other test files run the compiled command beside it (Jest runs
 * files in parallel): a clean-clone CI run once failed because a rebuild removed dist/ first and
 * conventions.test.ts found no dist/cli/main.js. The build now writes beside dist/ and moves each
 * file over the old one.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../../..');
const DIST = path.join(ROOT, 'dist');

// cli/build.js is a CommonJS script; it builds only when run, not when required.
const { filesUnder } = require('../../../cli/build.js') as { filesUnder(dir: string): string[] };

describe('npm run build (cli/build.js)', () => {
  it('never leaves a moment without the compiled command while it rebuilds dist/, and leaves no staging folder', async () => {
    const before = filesUnder(DIST).sort();
    expect(before).toContain(path.join('cli', 'main.js'));
    const watched = before.map((file) => path.join(DIST, file));
    const missing = new Set<string>();
    let checks = 0;
    const build = spawn(process.execPath, [path.join(ROOT, 'cli', 'build.js'), '--quiet'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    build.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => build.on('exit', resolve));
    let running = true;
    void exited.then(() => {
      running = false;
    });
    // Look on every turn of the event loop until the build has exited.
    while (running) {
      for (const file of watched) if (!fs.existsSync(file)) missing.add(path.relative(DIST, file));
      checks++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect({ code: await exited, stderr }).toEqual({ code: 0, stderr: '' });
    expect(checks).toBeGreaterThan(10);
    expect([...missing]).toEqual([]);
    expect(filesUnder(DIST).sort()).toEqual(before);
    expect(fs.readdirSync(ROOT).filter((entry) => entry.startsWith('.dist-build-'))).toEqual([]);
  }, 60_000);
});
