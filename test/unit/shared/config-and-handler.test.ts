import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { isAwsError, orUndefined, withContext } from '../../../functions/shared/aws/errors';
import { ConfigurationError, JOB_VARS, jobDefaultsFrom, loadConfig } from '../../../functions/shared/config';
import { InvalidInputError } from '../../../functions/shared/errors';
import { makeHandler, parseInput } from '../../../functions/shared/handler';
import { EXPIRES_AT_TAG, provenanceTags, STACK_TAG } from '../../../functions/shared/provenance';

describe('loadConfig', () => {
  it('reads only the variables asked for, with their defaults and transforms', () => {
    expect(
      loadConfig(
        [
          'STAGE',
          'TRAINING_PREFIX',
          'HYPER_PARAMETERS',
          'KEY_BUILDER_ROLE_ARNS',
          'TOKEN_TTL_SECONDS',
          'KEY_ARN',
          'REQUIRED_ENCRYPTION',
        ],
        {
          HYPER_PARAMETERS: '{"epochCount":"2"}',
          KEY_BUILDER_ROLE_ARNS: ' arn:aws:iam::111122223333:role/a , ,arn:aws:iam::111122223333:user/b',
          TOKEN_TTL_SECONDS: '120',
          TRAINING_BUCKET: 'not asked for',
        },
      ),
    ).toEqual({
      STAGE: 'dev',
      TRAINING_PREFIX: 'training/',
      HYPER_PARAMETERS: { epochCount: '2' },
      KEY_BUILDER_ROLE_ARNS: ['arn:aws:iam::111122223333:role/a', 'arn:aws:iam::111122223333:user/b'],
      TOKEN_TTL_SECONDS: 120,
      KEY_ARN: '',
      REQUIRED_ENCRYPTION: 'aws:kms',
    });
  });

  it.each([
    ['arn:aws:iam::111122223333:role/builder', true],
    ['arn:aws-us-gov:iam::111122223333:role/builder', true],
    ['arn:aws:iam::111122223333:user/path/alice', true],
    ['xarn:aws:iam::111122223333:role/builder', false],
    ['arn:aws:iam::111122223333:role/builder\nx', false],
    ['arn:aws:iam::111122223333:group/builders', false],
  ])('takes %j as a key role ARN: %s', (arn, ok) => {
    const read = () => loadConfig(['KEY_BUILDER_ROLE_ARNS'], { KEY_BUILDER_ROLE_ARNS: arn });
    if (ok) expect(read()).toEqual({ KEY_BUILDER_ROLE_ARNS: [arn] });
    else expect(read).toThrow('KEY_BUILDER_ROLE_ARNS: must be IAM role or user ARNs');
  });

  it('throws an error named ConfigurationError', () => {
    expect(() => loadConfig(['ACCOUNT_ID'], { ACCOUNT_ID: 'x' })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError' }),
    );
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig(['STAGE', 'KEY_USER_ROLE_ARNS'], { STAGE: '', KEY_USER_ROLE_ARNS: '' })).toEqual({
      STAGE: 'dev',
      KEY_USER_ROLE_ARNS: [],
    });
  });

  it('lists every bad or missing variable in one ConfigurationError, by name', () => {
    const read = () =>
      loadConfig(['TRAINING_BUCKET', 'ACCOUNT_ID', 'HYPER_PARAMETERS', 'KEY_USER_ROLE_ARNS', 'KEY_ARN'], {
        ACCOUNT_ID: '12345',
        HYPER_PARAMETERS: '{"epochCount":2}',
        KEY_USER_ROLE_ARNS: 'chat-app',
        KEY_ARN: 'key/123',
      });
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(
      /^Invalid environment — TRAINING_BUCKET: .+; ACCOUNT_ID: must be a 12-digit AWS account id; HYPER_PARAMETERS: must be a JSON object of string values, e\.g\. \{"epochCount":"2"\}; KEY_USER_ROLE_ARNS: must be IAM role or user ARNs; KEY_ARN: must be a KMS key ARN or empty\. Set these in serverless\.yml \(stage params\) or the shell\.$/,
    );
  });

  it('refuses a TTL under a minute and HYPER_PARAMETERS that are not JSON', () => {
    expect(() => loadConfig(['TOKEN_TTL_SECONDS'], { TOKEN_TTL_SECONDS: '59' })).toThrow(/TOKEN_TTL_SECONDS/);
    expect(() => loadConfig(['HYPER_PARAMETERS'], { HYPER_PARAMETERS: '{' })).toThrow(
      /HYPER_PARAMETERS: must be a JSON object/,
    );
  });

  it('reads the admission settings with their defaults: auto concurrency, the lease bootstrap and its durations', () => {
    const names = [
      'MAX_CONCURRENT_JOBS',
      'KEY_BOOTSTRAP',
      'KEY_LEASE_SECONDS',
      'SLOT_LEASE_SECONDS',
      'QUOTA_RETRY_SECONDS',
    ] as const;
    expect(loadConfig(names, {})).toEqual({
      MAX_CONCURRENT_JOBS: 'auto',
      KEY_BOOTSTRAP: 'lease',
      KEY_LEASE_SECONDS: 60,
      SLOT_LEASE_SECONDS: 1800,
      QUOTA_RETRY_SECONDS: 900,
    });
    expect(loadConfig(['MAX_CONCURRENT_JOBS'], { MAX_CONCURRENT_JOBS: '1' })).toEqual({
      MAX_CONCURRENT_JOBS: 1,
    });
    expect(loadConfig(['MAX_CONCURRENT_JOBS'], { MAX_CONCURRENT_JOBS: '9999' })).toEqual({
      MAX_CONCURRENT_JOBS: 9999,
    });
    expect(loadConfig(['KEY_LEASE_SECONDS'], { KEY_LEASE_SECONDS: '900' })).toEqual({
      KEY_LEASE_SECONDS: 900,
    });
  });

  it.each(['0', '10000', '03', '2.5', 'Auto', 'auto ', 'x1'])(
    "refuses MAX_CONCURRENT_JOBS '%s', saying what it takes",
    (value) => {
      expect(() => loadConfig(['MAX_CONCURRENT_JOBS'], { MAX_CONCURRENT_JOBS: value })).toThrow(
        "Invalid environment — MAX_CONCURRENT_JOBS: must be 'auto' or a whole number from 1 to 9999.",
      );
    },
  );

  it('refuses a key lease beyond the 15 minutes a Lambda invocation lasts, and an unknown bootstrap', () => {
    expect(() => loadConfig(['KEY_LEASE_SECONDS'], { KEY_LEASE_SECONDS: '901' })).toThrow(ConfigurationError);
    expect(() => loadConfig(['KEY_BOOTSTRAP'], { KEY_BOOTSTRAP: 'race' })).toThrow(/KEY_BOOTSTRAP/);
  });
});

describe("the stage's job settings", () => {
  const jobConfig = (env: NodeJS.ProcessEnv) => loadConfig(JOB_VARS, { AWS_REGION: 'us-east-1', ...env });

  it('defaults to fine-tuning the catalog default model, no VPC, no deploy, no expiry', () => {
    // Strict: no key set to undefined either (the job resolution tells absent from present).
    expect(jobDefaultsFrom(jobConfig({}))).toStrictEqual({
      region: 'us-east-1',
      baseModelId: 'amazon.nova-micro-v1:0:128k',
      customizationType: 'FINE_TUNING',
      hyperParameters: {},
      rftGraderLambdaArns: [],
      deploy: 'none',
      provisionedModelUnits: 1,
    });
  });

  it('passes every stage parameter on: VPC lists, graders, deploy mode, units and expiry', () => {
    const grader = 'arn:aws:lambda:us-east-1:111122223333:function:reward';
    expect(
      jobDefaultsFrom(
        jobConfig({
          BASE_MODEL_ID: 'amazon.titan-text-express-v1',
          CUSTOMIZATION_TYPE: 'CONTINUED_PRE_TRAINING',
          HYPER_PARAMETERS: '{"epochCount":"3"}',
          VPC_SUBNET_IDS: 'subnet-a, subnet-b',
          VPC_SECURITY_GROUP_IDS: 'sg-1',
          RFT_GRADER_LAMBDA_ARNS: grader,
          DEPLOY_MODE: 'provisioned',
          PROVISIONED_MODEL_UNITS: '2',
          PROVISIONED_EXPIRY_HOURS: '12.5',
        }),
      ),
    ).toEqual({
      region: 'us-east-1',
      baseModelId: 'amazon.titan-text-express-v1',
      customizationType: 'CONTINUED_PRE_TRAINING',
      hyperParameters: { epochCount: '3' },
      vpc: { subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: ['sg-1'] },
      rftGraderLambdaArns: [grader],
      deploy: 'provisioned',
      provisionedModelUnits: 2,
      provisionedExpiryHours: 12.5,
    });
  });

  it('keeps a half-set VPC (groups without subnets) for the job check to name, not dropped', () => {
    expect(jobDefaultsFrom(jobConfig({ VPC_SECURITY_GROUP_IDS: 'sg-1' })).vpc).toEqual({
      subnetIds: [],
      securityGroupIds: ['sg-1'],
    });
  });

  it('keeps a half-set VPC (subnets without groups) too', () => {
    expect(jobDefaultsFrom(jobConfig({ VPC_SUBNET_IDS: 'subnet-a' })).vpc).toEqual({
      subnetIds: ['subnet-a'],
      securityGroupIds: [],
    });
  });

  it.each(['0', '-1', 'soon'])('refuses PROVISIONED_EXPIRY_HOURS=%s', (hours) => {
    expect(() => jobConfig({ PROVISIONED_EXPIRY_HOURS: hours })).toThrow(
      /PROVISIONED_EXPIRY_HOURS: must be a positive number of hours or empty/,
    );
  });
});

describe('parseInput and makeHandler', () => {
  const schema = z.object({ jobArn: z.string().startsWith('arn:'), n: z.number().optional() });

  it('returns the parsed input (unknown fields stripped)', () => {
    expect(parseInput(schema, { jobArn: 'arn:x', extra: 1 }, 'Input')).toEqual({ jobArn: 'arn:x' });
  });

  it('refuses bad input with InvalidInputError naming up to five problems by path', () => {
    const many = z.object(Object.fromEntries('abcdefg'.split('').map((k) => [k, z.string()])));
    const read = () => parseInput(many, {}, 'WaitForJob input');
    expect(read).toThrow(InvalidInputError);
    expect(read).toThrow(/^WaitForJob input is not valid — a: .+; b: .+; c: .+; d: .+; e: .+$/);
    expect(() => parseInput(schema, 'x', 'Input')).toThrow(/^Input is not valid — \(root\): /);
  });

  it('runs the core with the parsed input and returns its answer', async () => {
    const handler = makeHandler(schema, 'Input', async (input) => ({ got: input }));
    await expect(handler({ jobArn: 'arn:x', n: 1 }, {} as Context)).resolves.toEqual({
      got: { jobArn: 'arn:x', n: 1 },
    });
  });

  it('rejects with the error the core throws, its name intact for the ASL', async () => {
    const handler = makeHandler(schema, 'Input', async () => {
      throw new InvalidInputError('nope');
    });
    await expect(handler({ jobArn: 'arn:x' }, {} as Context)).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
    await expect(handler({ jobArn: 'x' }, {} as Context)).rejects.toThrow(/^Input is not valid — jobArn: /);
  });
});

describe('AWS error helpers', () => {
  const named = (name: string) => Object.assign(new Error('m'), { name });

  it('matches an error by any of the names given; non-errors match nothing', () => {
    expect(isAwsError(named('NotFoundException'), 'AccessDenied', 'NotFoundException')).toBe(true);
    expect(isAwsError(named('NotFoundException'), 'AccessDenied')).toBe(false);
    expect(isAwsError({ name: 'NotFoundException' }, 'NotFoundException')).toBe(false);
    expect(isAwsError(undefined, 'undefined')).toBe(false);
  });

  it('orUndefined maps the not-found names to undefined and lets the rest through', async () => {
    await expect(orUndefined(Promise.resolve(1), 'X')).resolves.toBe(1);
    await expect(orUndefined(Promise.reject(named('NoSuchKey')), 'NoSuchKey')).resolves.toBeUndefined();
    await expect(orUndefined(Promise.reject(named('AccessDenied')), 'NoSuchKey')).rejects.toMatchObject({
      name: 'AccessDenied',
    });
  });
});

describe('provenanceTags', () => {
  const base = {
    source: { bucket: 'b', key: 'training/seté.jsonl', etag: 'e1' },
    keyArn: 'arn:aws:kms:us-east-1:1:key/k',
    executionArn: 'arn:aws:states:us-east-1:1:execution:sm:run',
  };

  it('names source, version, key and execution, tag-safe', () => {
    expect(provenanceTags(base)).toEqual({
      'tunevault:source': expect.stringMatching(/^s3:\/\/b\/training\/set_\.jsonl\+[0-9a-f]{12}$/),
      'tunevault:source-version': 'e:e1',
      'tunevault:kms-key-arn': 'arn:aws:kms:us-east-1:1:key/k',
      'tunevault:execution-arn': 'arn:aws:states:us-east-1:1:execution:sm:run',
    });
  });

  it("adds the guard's verdict and the sidecar's tags, made tag-safe (keys to 128 characters)", () => {
    const tags = provenanceTags({
      ...base,
      scan: { sha256: 'ab', verdict: 'redact', totalFindings: 3 },
      extra: { team: 'ml ops', ['k'.repeat(200)]: 'ü' },
    });
    expect(tags).toMatchObject({
      'tunevault:data-sha256': 'ab',
      'tunevault:guard-verdict': 'redact',
      'tunevault:guard-findings': '3',
      team: 'ml ops',
    });
    const longKey = Object.keys(tags).find((k) => k.startsWith('kkk'));
    expect(longKey).toHaveLength(128);
    expect(tags[longKey ?? '']).toMatch(/^_\+[0-9a-f]{12}$/);
  });
});

describe('names other code and other versions rely on', () => {
  it('keeps the tag keys deployed resources already carry (the README documents tunevault:expires-at)', () => {
    // A rename would orphan what an earlier version tagged: the cleanup would no longer find it.
    expect(EXPIRES_AT_TAG).toBe('tunevault:expires-at');
    expect(STACK_TAG).toBe('tunevault:stack');
  });

  it("withContext keeps the error's name and the original as its cause", () => {
    const original = Object.assign(new Error('denied'), { name: 'AccessDenied' });
    const wrapped = withContext(original, 'tagging s3://b/k');
    expect(wrapped).toMatchObject({ name: 'AccessDenied', message: 'tagging s3://b/k: denied' });
    expect(wrapped.cause).toBe(original);
  });
});
