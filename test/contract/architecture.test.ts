/**
 * The import rules of ARCHITECTURE.md (architecture-rules.ts), held on every source file of the
 * rooms that have rules, and shown to refuse what they name.
 */
import { CHECKED_ROOMS, importsOf, sourceFiles, violationsOf } from './architecture-rules';

describe('the import rules (ARCHITECTURE.md)', () => {
  const imports = CHECKED_ROOMS.flatMap(sourceFiles).flatMap((f) => importsOf(f));

  it('hold for every file of functions/, local/, cli/, statemachines/ and examples/', () => {
    expect(violationsOf(imports)).toEqual([]);
  });

  it('are checked on what the files really import', () => {
    // The scan sees the imports that matter (so the rules above did not pass on nothing).
    expect(imports).toContainEqual(
      expect.objectContaining({
        file: 'functions/validate-bucket-encryption/handler.ts',
        target: 'functions/shared/aws/s3.ts',
        typeOnly: false,
      }),
    );
    expect(imports).toContainEqual(
      expect.objectContaining({
        file: 'functions/validate-bucket-encryption/core.ts',
        target: 'functions/shared/aws/s3.ts',
        typeOnly: true,
      }),
    );
    expect(imports).toContainEqual(
      expect.objectContaining({ file: 'functions/shared/aws/s3.ts', spec: '@aws-sdk/client-s3' }),
    );
  });

  it.each([
    ['functions/notify/core.ts', "import { EmbeddedAws } from '../../local/embedded';", 'local/'],
    ['functions/notify/core.ts', "import { x } from '../remediate/core';", 'another step'],
    ['functions/shared/naming.ts', "import { S3Client } from '@aws-sdk/client-s3';", 'the AWS SDK'],
    ['functions/notify/handler.ts', "const c = require('@aws-sdk/client-s3');", 'the AWS SDK'],
    ['functions/notify/core.ts', "import { S3Gateway } from '../shared/aws/s3';", 'a gateway as a value'],
    [
      'local/services/s3.ts',
      "import { x } from '../../functions/shared/naming';",
      'other than the model catalog',
    ],
    ['local/services/s3.ts', "export * from '../../cli/lib/text';", 'cli/'],
    ['cli/lib/drop.ts', "import { EmbeddedAws } from '../../local/embedded';", 'the embedded AWS'],
    ['cli/commands/report.ts', "import { handler } from '../../functions/notify/handler';", 'a step handler'],
    ['cli/commands/runs.ts', "import { SFNClient } from '@aws-sdk/client-sfn';", 'the AWS SDK'],
    ['cli/commands/runs.ts', "const m = import('../../test/e2e/support/embedded');", 'test/'],
    [
      'statemachines/loader.js',
      "const x = require('../functions/shared/naming');",
      'functions/shared/naming.ts',
    ],
  ])('refuse %s importing %s', (file, line, why) => {
    const found = violationsOf(importsOf(file, line));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(why);
  });

  it.each([
    ['functions/notify/core.ts', "import type { JobInfo } from '../shared/aws/bedrock';"],
    ['functions/finalize-custom-model/core.ts', "import { isAwsError } from '../shared/aws/errors';"],
    ['local/services/bedrock.ts', "import { findModel } from '../../functions/shared/catalog';"],
    ['cli/commands/local.ts', "import { EmbeddedAws } from '../../local/embedded';"],
    ['cli/commands/remediate.ts', "import { deleteDeployments } from '../../functions/remediate/core';"],
  ])('allow %s importing %s', (file, line) => {
    expect(violationsOf(importsOf(file, line))).toEqual([]);
  });
});
