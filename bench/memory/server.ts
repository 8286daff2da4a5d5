/**
 * The server side of the memory benchmark, in its own process so that only its memory is
 * measured: the embedded AWS's services behind the endpoint (no stack: nothing else runs), and a
 * line protocol on stdin/stdout — `reset` clears the peak, `peak` prints the peak RSS growth since.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { EmbeddedAws } from '../../local/embedded';

const MIB = 1024 * 1024;

/** Peak RSS (VmHWM) can be reset on Linux; elsewhere the RSS is sampled every 5 ms. */
function peakMeter() {
  const linux = fs.existsSync('/proc/self/clear_refs') && fs.existsSync('/proc/self/status');
  const hwm = () =>
    Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
  let sampled = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    method: linux ? 'VmHWM' : 'RSS sampled every 5 ms',
    reset(): number {
      global.gc?.();
      const base = process.memoryUsage().rss;
      if (linux) fs.writeFileSync('/proc/self/clear_refs', '5');
      else {
        sampled = base;
        clearInterval(timer);
        timer = setInterval(() => {
          sampled = Math.max(sampled, process.memoryUsage().rss);
        }, 5);
      }
      return base;
    },
    peak(): number {
      return linux ? hwm() : Math.max(sampled, process.memoryUsage().rss);
    },
  };
}

async function main() {
  const aws = new EmbeddedAws({ port: 0, logLevel: 'SILENT' });
  await aws.endpoint.listen();
  aws.endpoint.open();
  const meter = peakMeter();
  let base = meter.reset();
  process.stdout.write(`ready ${aws.url} ${meter.method}\n`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === 'reset') {
      base = meter.reset();
      process.stdout.write(`base ${(base / MIB).toFixed(1)}\n`);
    } else if (line === 'peak') {
      process.stdout.write(`peak ${((meter.peak() - base) / MIB).toFixed(1)} ${(base / MIB).toFixed(1)}\n`);
    } else if (line === 'stop') break;
  }
  await aws.stop();
  process.exit(0);
}

void main();
