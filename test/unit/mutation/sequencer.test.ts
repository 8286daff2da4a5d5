/**
 * The mutation run's test-file filter (test/mutation/sequencer.js) must not change a verdict: a
 * mutant run keeps every file Jest's own `testNamePattern` would run a test of.
 */
// The sequencer is a CommonJS module Jest loads by path.
const { coveringFiles, moduleNames, runOrder } = require('../../mutation/sequencer.js');
const ROOT = require('node:path').join(__dirname, '../../..');

const file = (path: string) => ({ path });
const names = {
  '/p/test/unit/a.test.ts': ['kms gateway creates a key', 'kms gateway tags it'],
  '/p/test/unit/b.test.ts': ['config reads the stage'],
  '/p/test/unit/c.test.ts': ['Naming (a+b) escapes'],
};
const tests = Object.keys(names).map(file);
const paths = (ts: { path: string }[]) => ts.map((t) => t.path);

describe('the mutation sequencer keeps the test files a mutant run needs', () => {
  it('keeps only the files holding a test the pattern matches', () => {
    expect(paths(coveringFiles(tests, names, '(kms gateway tags it)'))).toEqual(['/p/test/unit/a.test.ts']);
  });

  it('matches as Jest does: case-insensitive, anywhere in the full name, regex alternatives', () => {
    expect(paths(coveringFiles(tests, names, '(STAGE)|(naming \\(a\\+b\\))'))).toEqual([
      '/p/test/unit/b.test.ts',
      '/p/test/unit/c.test.ts',
    ]);
  });

  it('keeps a file the dry run did not record', () => {
    const unknown = file('/p/test/unit/new.test.ts');
    expect(paths(coveringFiles([...tests, unknown], names, '(config reads)'))).toEqual([
      '/p/test/unit/b.test.ts',
      '/p/test/unit/new.test.ts',
    ]);
  });

  it('keeps every file when no recorded file matches, rather than run no test', () => {
    expect(paths(coveringFiles(tests, names, '(a test renamed since the dry run)'))).toEqual(paths(tests));
  });
});

describe('the mutation sequencer names the mutated module as its focused test files do', () => {
  it.each([
    ['/p/functions/shared/aws/kms.ts', ['kms', 'aws']],
    ['/p/functions/shared/guard/detectors/secrets.ts', ['secrets', 'detectors']],
    ['/p/functions/remediate/core.ts', ['remediate']],
    ['/p/functions/shared/catalog/index.ts', ['catalog']],
    ['/p/statemachines/loader.js', ['loader', 'statemachines']],
  ])('%s → %j', (path, names) => {
    expect(moduleNames(path)).toEqual(names);
  });
});

describe('the mutation sequencer loads the focused test files first, heavy ones after the light', () => {
  it('fastpath.ts: fastpath-grammar.test.ts, then the heavy fastpath.test.ts, then the others, the heavy rest last', () => {
    const at = (rel: string) => file(`${ROOT}/${rel}`);
    const sizes: Record<string, number> = {
      'test/unit/guard/fastpath.test.ts': 10,
      'test/unit/guard/fastpath-grammar.test.ts': 50,
      'test/unit/guard/records.test.ts': 40,
      'test/unit/guard/tally.test.ts': 5,
      'test/unit/guard/properties.test.ts': 1,
    };
    const order = runOrder(
      Object.keys(sizes).map(at),
      [`${ROOT}/functions/shared/guard/fastpath.ts`],
      (t: { path: string }) => sizes[t.path.slice(ROOT.length + 1)],
    );
    expect(paths(order).map((p: string) => p.slice(ROOT.length + 1))).toEqual([
      'test/unit/guard/fastpath-grammar.test.ts',
      'test/unit/guard/fastpath.test.ts',
      'test/unit/guard/tally.test.ts',
      'test/unit/guard/records.test.ts',
      'test/unit/guard/properties.test.ts',
    ]);
  });
});
