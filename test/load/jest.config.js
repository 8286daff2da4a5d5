/**
 * `npm run test:load`: the admission cases under load (many first runs at once, more datasets than
 * the job quota), kept out of `npm test` for its five minutes on two cores and run once by CI
 * (.ci/run) after it. The e2e project's settings, over test/load only.
 */
const path = require('node:path');
const base = require('../../jest.config.js');

const rootDir = path.join(__dirname, '../..');
const e2e = base.projects.find((p) => p.displayName === 'e2e');

module.exports = {
  rootDir,
  projects: [{ ...e2e, rootDir, displayName: 'load', testMatch: ['<rootDir>/test/load/**/*.test.ts'] }],
  testTimeout: base.testTimeout,
  maxWorkers: base.maxWorkers,
  globalSetup: base.globalSetup,
  globalTeardown: base.globalTeardown,
};
