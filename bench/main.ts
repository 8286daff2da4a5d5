/**
 * `npm run bench`: every benchmark in one run, each figure printed as a ratio or a count with
 * its target beside it. Times are shown as indicative (the machines are shared and noisy); only
 * correctness — counts, runs that must succeed, bundles that must load — sets the exit code.
 *
 *   npm run bench [-- --only transitions,bundles,throughput,admission,iam,scan,memory] [--files 100] [--scan-args "--runs 1"]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundles } from './bundles';
import { dataGuard } from './data-guard';
import { iam } from './iam';
import { memory } from './memory';
import { capturingOutput, Report } from './lib/report';
import { admission, throughput } from './throughput';
import { transitions } from './transitions';

const SECTIONS = ['transitions', 'bundles', 'throughput', 'admission', 'iam', 'scan', 'memory'] as const;
type Section = (typeof SECTIONS)[number];

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      files: { type: 'string', default: '100' },
      'scan-args': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench [-- --only transitions,bundles,throughput,admission,iam,scan,memory] [--files N] [--scan-args "..."]',
    );
    return 0;
  }
  const only = (values.only ? values.only.split(',') : [...SECTIONS]) as Section[];
  const unknown = only.filter((s) => !SECTIONS.includes(s));
  if (unknown.length)
    throw new Error(`unknown section ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}`);
  const files = Number(values.files);
  if (!Number.isInteger(files) || files < 1) throw new Error('--files takes a positive integer');

  // Child processes get the environment as it was, not the embedded AWS's endpoint settings.
  const env = { ...process.env };
  const report = new Report();
  const started = Date.now();
  const log = path.join(__dirname, '..', '.tunevault', 'bench', `handlers-${process.pid}.log`);
  report.print(
    `TuneVault benchmarks — node ${process.version}, in-process handler logs → ${path.relative(process.cwd(), log)}`,
  );

  const embedded = (work: () => Promise<void>) => capturingOutput(log, work);
  if (only.includes('transitions')) await embedded(() => transitions(report));
  if (only.includes('bundles')) await embedded(() => bundles(report, env));
  // Each burst runs in a fresh process, its handlers logging to the same file.
  if (only.includes('throughput')) await throughput(report, files, { env, log });
  if (only.includes('admission')) await admission(report, { env, log });
  if (only.includes('iam')) await embedded(() => iam(report, env, files));
  if (only.includes('scan')) await dataGuard(report, env, values['scan-args'].split(' ').filter(Boolean));
  if (only.includes('memory')) await memory(report, env);

  report.summary();
  report.print(`  Total ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  return report.failures.length ? 1 : 0;
}
