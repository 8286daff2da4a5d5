// `npm run validate:asl`: asl-validator on every ASL file as written and as deployed (the loader
// adds the shared retriers of retries.json); its CLI takes one --json-path per file.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { readAsl } = require('./loader');

const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.asl.json'));
if (files.length === 0) {
  console.error('no statemachines/*.asl.json found');
  process.exit(1);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-asl-'));
try {
  const deployed = files.map((f) => {
    const out = path.join(tmp, f.replace(/\.asl\.json$/, '.deployed.asl.json'));
    fs.writeFileSync(out, JSON.stringify(readAsl(path.join(__dirname, f))));
    return out;
  });
  const bin = require.resolve('asl-validator/dist/bin/asl-validator.js');
  const args = [...files.map((f) => path.join(__dirname, f)), ...deployed].flatMap((f) => ['--json-path', f]);
  execFileSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
