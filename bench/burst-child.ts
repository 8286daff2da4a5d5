/**
 * One burst of `bench/throughput.ts` in a fresh process, so every burst starts from the same
 * clean heap and loaded modules: in one process, the first burst pays for loading and JIT and
 * the last for whatever the earlier stacks left behind, and an ABBA order cannot cancel both.
 * Usage: node --require tsx/cjs burst-child.ts PATH FILES QUOTA JOB_MS OUT.json LOG
 */
import fs from 'node:fs';
import { capturingOutput } from './lib/report';
import { burst, type Path } from './throughput';

async function main(): Promise<void> {
  const [path, files, quota, jobMs, out, log] = process.argv.slice(2);
  if (path !== 'lease' && path !== 'alias-race') throw new Error(`unknown path ${path}`);
  if (!out || !log) throw new Error('usage: burst-child.ts PATH FILES QUOTA JOB_MS OUT.json LOG');
  const b = await capturingOutput(log, () =>
    burst(path as Path, Number(files), {
      ...(Number(quota) > 0 ? { quota: Number(quota) } : {}),
      jobMs: Number(jobMs),
    }),
  );
  fs.writeFileSync(out, JSON.stringify({ ...b, requests: [...b.requests] }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
