import {
  CLIENT_REQUEST_TOKEN_PATTERN,
  CUSTOM_MODEL_NAME_PATTERN,
  JOB_NAME_PATTERN,
  clientRequestTokenFor,
  customModelNameFor,
  decodeS3EventKey,
  deploymentNameFor,
  executionNameFor,
  jobNameFor,
  tagSafe,
} from '../../../functions/shared/naming';

const v1 = { bucket: 'training', key: 'training/my first seté.jsonl', versionId: 'v1' };
const v2 = { ...v1, versionId: 'v2' };

describe("Bedrock's name patterns (botocore bedrock 2023-04-20), whole names only", () => {
  it.each([
    ['jobName', JOB_NAME_PATTERN, ['a', 'tunevault-x-1', 'a--b.c+d'], ['-abc', 'abc!', 'ab c', '']],
    [
      'customModelName',
      CUSTOM_MODEL_NAME_PATTERN,
      ['a', 'tunevault-x_1', 'a'.repeat(63)],
      ['_abc', 'abc!', 'a--b', ''],
    ],
    [
      'clientRequestToken',
      CLIENT_REQUEST_TOKEN_PATTERN,
      ['a', 'ab', 'tunevault-0f'],
      ['-abc', 'abc-', 'abc!', ''],
    ],
  ])(
    '%s: accepts the valid names, refuses a name with a bad first or last character',
    (_name, pattern, good, bad) => {
      for (const name of good) expect(pattern.test(name)).toBe(true);
      for (const name of bad) expect(pattern.test(name)).toBe(false);
    },
  );
});

describe('names derived from the object version', () => {
  it('decodes the S3 event key: + is a space, then percent-decoding', () => {
    expect(decodeS3EventKey('training/my+first+set%C3%A9.jsonl')).toBe('training/my first seté.jsonl');
  });

  it.each([
    v1,
    { bucket: 'b', key: `training/${'ü'.repeat(300)}.jsonl`, etag: 'abc' },
    { bucket: 'b', key: 'training/---.jsonl', etag: 'e' },
  ])('are valid by Bedrock and Step Functions patterns (%#)', (o) => {
    const job = jobNameFor(o);
    const model = customModelNameFor(o);
    const token = clientRequestTokenFor(o);
    const exec = executionNameFor(o);
    expect(job).toMatch(JOB_NAME_PATTERN);
    expect(job.length).toBeLessThanOrEqual(63);
    expect(model).toMatch(CUSTOM_MODEL_NAME_PATTERN);
    expect(model.length).toBeLessThanOrEqual(63);
    const deployment = deploymentNameFor(o);
    expect(deployment).toMatch(CUSTOM_MODEL_NAME_PATTERN);
    expect(deployment.length).toBeLessThanOrEqual(63);
    expect(token).toMatch(CLIENT_REQUEST_TOKEN_PATTERN);
    expect(token.length).toBeLessThanOrEqual(256);
    expect(exec).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('are identical for the same object version and differ for a new one', () => {
    expect(jobNameFor({ ...v1 })).toBe(jobNameFor(v1));
    expect(clientRequestTokenFor({ ...v1 })).toBe(clientRequestTokenFor(v1));
    expect(executionNameFor({ ...v1 })).toBe(executionNameFor(v1));
    expect(jobNameFor(v2)).not.toBe(jobNameFor(v1));
    expect(clientRequestTokenFor(v2)).not.toBe(clientRequestTokenFor(v1));
    expect(executionNameFor(v2)).not.toBe(executionNameFor(v1));
    expect(customModelNameFor(v2)).not.toBe(customModelNameFor(v1));
  });

  it('uses the ETag when the bucket is not versioned', () => {
    const a = { bucket: 'b', key: 'training/x.jsonl', etag: '"aaa"' };
    expect(jobNameFor(a)).toBe(jobNameFor({ ...a, etag: 'aaa' }));
    expect(jobNameFor(a)).not.toBe(jobNameFor({ ...a, etag: 'bbb' }));
  });

  it('makes tag values that Bedrock accepts, keeping distinct keys distinct', () => {
    const a = tagSafe('s3://b/training/seté.jsonl');
    const b = tagSafe('s3://b/training/setè.jsonl');
    expect(a).toMatch(/^[a-zA-Z0-9\s._:/=+@-]*$/);
    expect(a).not.toBe(b);
    expect(tagSafe('x'.repeat(400)).length).toBeLessThanOrEqual(256);
    expect(tagSafe('s3://b/plain.jsonl')).toBe('s3://b/plain.jsonl');
  });
});
