// `npm run validate:asl`: asl-validator on every ASL file (its CLI takes one --json-path per file).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.asl.json'));
if (files.length === 0) {
  console.error('no statemachines/*.asl.json found');
  process.exit(1);
}
const bin = require.resolve('asl-validator/dist/bin/asl-validator.js');
const args = files.flatMap((f) => ['--json-path', path.join(__dirname, f)]);
execFileSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
