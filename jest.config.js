/** Unit, contract and end-to-end tests as separate Jest projects (serverless-test-samples style). */
const os = require('node:os');
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest'] };
const shared = {
  transform,
  // @middy/core is ESM-only: map it to its file and let swc transform it.
  // Handler bundles built by the embedded AWS are plain CommonJS already.
  transformIgnorePatterns: ['/node_modules/(?!@middy/)', '/\\.tunevault/'],
  moduleNameMapper: { '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  setupFiles: ['<rootDir>/test/setup-env.js'],
  // Stryker's sandboxes are copies of the project: never collect their tests or modules.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/.stryker-tmp/'],
  testEnvironment: 'node',
};
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...shared, displayName: 'contract', testMatch: ['<rootDir>/test/contract/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      // Stops what a test file left running, after all its hooks (see the file).
      testEnvironment: '<rootDir>/test/e2e/support/environment.js',
    },
  ],
  // A global option (Jest ignores it per project): e2e hooks start an embedded AWS.
  // 120 s: on a shared 2-core machine under a load of 15, starting an embedded AWS in a beforeAll
  // took over 60 s (a hung test still fails, later).
  testTimeout: 120_000,
  // One test file more than the machine has cores, at most four: an e2e file spends most of its
  // time waiting on its workflow's timers and polls, so files share cores well (npm test on 2 cores:
  // 13 min with one worker, 4.8 min with two, 4.0 min with three: clean clones, 2026-12-07). At most
  // four, so a big machine does not run enough embedded AWS stacks at once to starve their timers.
  maxWorkers: Math.min(4, os.availableParallelism() + 1),
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  testSequencer: '<rootDir>/test/sequencer.js',
};
