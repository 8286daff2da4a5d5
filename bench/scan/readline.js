// The baseline of the whole-process comparison: a plain Node readline loop over a file, the way
// anyone reads JSONL line by line. `node bench/scan/readline.js FILE` prints the line count.
const { createReadStream } = require('node:fs');
const { createInterface } = require('node:readline');

let lines = 0;
createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Number.POSITIVE_INFINITY })
  .on('line', () => {
    lines++;
  })
  .on('close', () => {
    console.log(lines);
  });
