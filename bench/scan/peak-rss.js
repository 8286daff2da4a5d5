// Preloaded (`node --require`) into each whole process the benchmark times: at exit, writes the
// process's peak resident set size (all threads) to the file named by TUNEVAULT_BENCH_RSS_FILE.
// It changes nothing else in the process it measures.
const { writeFileSync } = require('node:fs');

const out = process.env.TUNEVAULT_BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    // maxRSS is in KiB on Linux and macOS.
    writeFileSync(out, String(process.resourceUsage().maxRSS));
  });
}
