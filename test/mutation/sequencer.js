/**
 * Test files in an order that kills a mutant early (with bail-environment.js the rest of the run
 * is then skipped): focused files first, smallest first; last the guard's differential, property
 * and thread tests, which take seconds per test and rarely are the first to fail.
 */
const fs = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const HEAVY_LAST = [
  'test/unit/guard/cli-scan.test.ts',
  'test/unit/steps/scan-workers.test.ts',
  'test/unit/guard/parallel.test.ts',
  'test/unit/guard/schemas.test.ts',
  'test/unit/guard/scan.test.ts',
  'test/unit/guard/properties.test.ts',
  'test/unit/guard/fastpath.test.ts',
];
const ROOT = path.join(__dirname, '../..');

class MutationSequencer extends Sequencer {
  sort(tests) {
    const rank = (t) => HEAVY_LAST.indexOf(path.relative(ROOT, t.path).split(path.sep).join('/'));
    const size = (t) => fs.statSync(t.path).size;
    return [...tests].sort((a, b) => rank(a) - rank(b) || size(a) - size(b));
  }
}

module.exports = MutationSequencer;
