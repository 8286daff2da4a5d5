/**
 * A step's failure as the run keeps it: Step Functions keeps a Lambda error's name and message
 * only, so the details a refusal carries must survive inside the message, in both shapes a
 * Catch's Cause takes.
 */
import { BucketNotCompliantError, SensitiveDataError } from '../../../functions/shared/errors';
import {
  bucketRulesOfFailure,
  guardDetailsOfFailure,
  stepFailureOf,
} from '../../../functions/shared/step-failure';
import type { RuleResult } from '../../../functions/shared/types';

const RULES: RuleResult[] = [
  {
    bucket: 'acme-training',
    rule: 'default-encryption',
    passed: false,
    detail: 'SSE-S3 (AES256); "quoted"; a: b',
  },
  {
    bucket: 'acme-training',
    rule: 'tls-only-policy',
    passed: true,
    detail: 'bucket policy denies requests without TLS',
  },
  { bucket: 'acme-output', rule: 'block-public-access', passed: false, detail: 'not on: BlockPublicAcls' },
];

/** The Cause as the embedded AWS (by default) records it: the error's message. */
const embeddedCause = (err: Error) => err.message;
/** The Cause as AWS records it: the Node.js runtime's answer to a thrown error, as JSON. */
const awsCause = (err: Error) =>
  JSON.stringify({ errorType: err.name, errorMessage: err.message, trace: (err.stack ?? '').split('\n') });

describe.each([
  ['the embedded AWS', embeddedCause],
  ['AWS', awsCause],
])('a failure recorded as %s records it', (_where, causeOf) => {
  it('keeps every rule of a bucket refusal, passed ones too, and its sentence', () => {
    const err = new BucketNotCompliantError(RULES);
    const failure = stepFailureOf(err.name, causeOf(err));

    expect(failure.error).toBe('BucketNotCompliantError');
    expect(failure.message).toBe(
      'Bucket not compliant: [default-encryption] s3://acme-training: SSE-S3 (AES256); "quoted"; a: b; [block-public-access] s3://acme-output: not on: BlockPublicAcls',
    );
    expect(bucketRulesOfFailure(failure)).toEqual(RULES);
    expect(guardDetailsOfFailure(failure)).toBeUndefined();
  });

  it("keeps the guard's count and report", () => {
    const err = new SensitiveDataError('s3://b/k holds 3 finding(s)', {
      findings: 3,
      reportS3Uri: 's3://out/runs/x/guard-report.json',
    });
    const failure = stepFailureOf(err.name, causeOf(err));

    expect(failure.message).toBe('s3://b/k holds 3 finding(s)');
    expect(guardDetailsOfFailure(failure)).toEqual({
      findings: 3,
      reportS3Uri: 's3://out/runs/x/guard-report.json',
    });
    expect(bucketRulesOfFailure(failure)).toBeUndefined();
  });

  it('reads an error without details as its message', () => {
    const err = Object.assign(new Error('Job ended with unexpected status Weird'), {
      name: 'CustomizationJobFailedError',
    });
    expect(stepFailureOf(err.name, causeOf(err))).toEqual({
      error: 'CustomizationJobFailedError',
      message: 'Job ended with unexpected status Weird',
    });
  });
});

describe('stepFailureOf', () => {
  it('takes a Cause that is not one of ours as it is', () => {
    expect(stepFailureOf('States.Timeout', undefined)).toEqual({ error: 'States.Timeout', message: '' });
    expect(stepFailureOf('X', '{"not":"ours"}')).toEqual({ error: 'X', message: '{"not":"ours"}' });
    expect(stepFailureOf('X', '[1,2]')).toEqual({ error: 'X', message: '[1,2]' });
  });

  it('does not take details that do not fit the error they came with', () => {
    const failure = stepFailureOf(
      'BucketNotCompliantError',
      JSON.stringify({ message: 'm', details: { rules: [{ bucket: 'b' }] } }),
    );
    expect(failure.message).toBe('m');
    expect(bucketRulesOfFailure(failure)).toBeUndefined();
    expect(bucketRulesOfFailure({ ...failure, error: 'KeyNotUsableError', details: { rules: RULES } })).toBe(
      undefined,
    );
  });
});

describe('the guard details, exactly', () => {
  const guard = { findings: 2, reportS3Uri: 's3://out/runs/x/guard-report.json' };

  it("reads the guard's details for both of the guard's refusals, and for no other error", () => {
    for (const error of ['SensitiveDataError', 'InvalidTrainingDataError'])
      expect(guardDetailsOfFailure({ error, message: 'm', details: guard })).toEqual(guard);
    expect(
      guardDetailsOfFailure({ error: 'KeyNotUsableError', message: 'm', details: guard }),
    ).toBeUndefined();
    // The report is an s3:// URI the report command opens; anything else is not the guard's.
    const elsewhere = { ...guard, reportS3Uri: 'https://example.com/guard-report.json' };
    expect(
      guardDetailsOfFailure({ error: 'SensitiveDataError', message: 'm', details: elsewhere }),
    ).toBeUndefined();
  });
});
