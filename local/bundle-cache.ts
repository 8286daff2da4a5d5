/**
 * The handlers' esbuild output, reused while none of its inputs has changed.
 *
 * Every embedded AWS bundles its fourteen functions when it starts: about 6 s of esbuild's CPU
 * and 34 MB written, the same bytes each time the sources are the same. An e2e file starts one or
 * several; `npm test` starts dozens on two cores. esbuild has no cache of its own across
 * processes (its incremental `rebuild` lives in one process), so this keeps the output under
 * `<root>/<options digest>-<inputs digest>/` with the list of every file esbuild read (its
 * metafile's inputs) and each one's size and modification time. A start whose inputs all still
 * match reuses the folder; any change (a source edit, `npm ci`, other options) builds again.
 *
 * Written by hand: this is the check `make` does, over esbuild's own list of inputs.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type BuildOptions, build, version as esbuildVersion } from 'esbuild';

interface InputStamp {
  file: string;
  size: number;
  mtimeMs: number;
}

const INPUTS = 'inputs.json';
/** A stale output folder is removed once it is this old (a process that found it valid a moment ago may still be linking its files). */
const STALE_AFTER_MS = 10 * 60_000;
/** A folder of other options (another Node, other externals) is removed when unused for a day. */
const UNUSED_AFTER_MS = 24 * 60 * 60_000;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function stampsMatch(stamps: InputStamp[]): boolean {
  for (const s of stamps) {
    try {
      const st = fs.statSync(s.file);
      if (st.size !== s.size || st.mtimeMs !== s.mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function readStamps(dir: string): InputStamp[] | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, INPUTS), 'utf8')) as InputStamp[];
  } catch {
    return undefined;
  }
}

/** Gives OUTDIR its own links to the files of the cache folder DIR (a copy where links cannot be made). */
function linkOutputs(dir: string, outdir: string): void {
  fs.mkdirSync(outdir, { recursive: true });
  for (const name of fs.readdirSync(dir)) {
    if (name === INPUTS) continue;
    try {
      fs.linkSync(path.join(dir, name), path.join(outdir, name));
    } catch {
      fs.copyFileSync(path.join(dir, name), path.join(outdir, name));
    }
  }
}

/**
 * Writes esbuild's output for OPTIONS to OUTDIR (a new folder), built now or linked from the
 * cache under ROOT. Every caller gets its own files (a path of its own to `require`); none writes
 * to the cache's.
 */
export async function cachedBuild(
  options: Omit<BuildOptions, 'outdir' | 'absWorkingDir' | 'metafile' | 'write'>,
  outdir: string,
  { root, workingDir }: { root: string; workingDir: string },
): Promise<void> {
  const key = digest(JSON.stringify({ esbuildVersion, workingDir, options }));
  fs.mkdirSync(root, { recursive: true });
  for (const name of fs.readdirSync(root)) {
    if (name.startsWith('.')) continue;
    const dir = path.join(root, name);
    const ours = name.startsWith(`${key}-`);
    if (ours) {
      const stamps = readStamps(dir);
      if (stamps && stampsMatch(stamps)) {
        try {
          linkOutputs(dir, outdir);
          // Its last use, for the clean-up below.
          fs.utimesSync(dir, new Date(), new Date());
          return;
        } catch {
          // Removed by another process between the check and the links: build below.
          fs.rmSync(outdir, { recursive: true, force: true });
        }
      }
    }
    // Out of date (ours), or built with other options and unused for a day.
    try {
      if (Date.now() - fs.statSync(dir).mtimeMs > (ours ? STALE_AFTER_MS : UNUSED_AFTER_MS))
        fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }

  const started = Date.now();
  const scratch = path.join(root, `.building-${process.pid}-${randomUUID()}`);
  try {
    const result = await build({ ...options, absWorkingDir: workingDir, outdir: scratch, metafile: true });
    const stamps: InputStamp[] = [];
    let settled = true;
    for (const input of Object.keys(result.metafile.inputs)) {
      // Inputs of esbuild's own (a `<define:…>` or `<stdin>`) have no file.
      if (input.startsWith('<')) continue;
      const file = path.resolve(workingDir, input);
      const st = fs.statSync(file);
      // Changed while esbuild read it: the output may hold the old text, so it is not kept.
      if (st.mtimeMs >= started) settled = false;
      stamps.push({ file, size: st.size, mtimeMs: st.mtimeMs });
    }
    linkOutputs(scratch, outdir);
    if (!settled) return;
    fs.writeFileSync(path.join(scratch, INPUTS), JSON.stringify(stamps));
    const final = path.join(root, `${key}-${digest(JSON.stringify(stamps))}`);
    try {
      fs.renameSync(scratch, final);
    } catch (err) {
      // Another process cached the same output first.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
