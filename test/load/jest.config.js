/**
 * `npm run test:load`: the proofs too heavy for `npm test`, run once by CI (.ci/run) after it —
 * the admission cases under load (many first runs at once, more datasets than the job quota; the
 * e2e project's settings) and every detector's linear time on 1 MiB hostile lines
 * (adversarial.test.ts; the unit project's settings).
 */
const path = require('node:path');
const base = require('../../jest.config.js');

const rootDir = path.join(__dirname, '../..');
const e2e = base.projects.find((p) => p.displayName === 'e2e');
const unit = base.projects.find((p) => p.displayName === 'unit');
const ADVERSARIAL = '<rootDir>/test/load/adversarial.test.ts';

module.exports = {
  rootDir,
  projects: [
    {
      ...e2e,
      rootDir,
      displayName: 'load',
      testMatch: ['<rootDir>/test/load/**/*.test.ts'],
      testPathIgnorePatterns: [...e2e.testPathIgnorePatterns, ADVERSARIAL],
    },
    { ...unit, rootDir, displayName: 'load (unit)', testMatch: [ADVERSARIAL] },
  ],
  testTimeout: base.testTimeout,
  maxWorkers: base.maxWorkers,
  globalSetup: base.globalSetup,
  globalTeardown: base.globalTeardown,
};
