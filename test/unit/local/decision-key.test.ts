/**
 * The authorizer's decision cache: one evaluation per distinct question, and never an answer that
 * the evaluator would not give (every case below is decided twice: from the cache, and again by
 * the evaluator with TUNEVAULT_IAM_CACHE_CHECK=1).
 */
import { type Caller, Authorizer } from '../../../local/iam/authorizer';
import { shapeOf } from '../../../local/iam/decision-key';
import { IamRegistry } from '../../../local/iam/registry';
import type { AccessRequest, Principal } from '../../../local/iam/types';

const ACCOUNT = '111122223333';
const JOB = `arn:aws:bedrock:us-east-1:${ACCOUNT}:model-customization-job/amazon.nova-micro-v1:0:128k`;

/** A Bedrock service role's trust policy, as the stack writes it (aws:SourceAccount and aws:SourceArn). */
const TRUST = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'bedrock.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: { 'aws:SourceAccount': ACCOUNT },
        ArnLike: { 'aws:SourceArn': `arn:aws:bedrock:us-east-1:${ACCOUNT}:model-customization-job/*` },
      },
    },
  ],
};

function setUp(check: boolean) {
  const previous = process.env.TUNEVAULT_IAM_CACHE_CHECK;
  process.env.TUNEVAULT_IAM_CACHE_CHECK = check ? '1' : '0';
  const registry = new IamRegistry(ACCOUNT);
  const role = registry.putRole({
    name: 'reader',
    trustPolicy: TRUST,
    policies: [
      {
        name: 'read-training',
        document: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/training/*' }],
        },
      },
    ],
  });
  const authorizer = new Authorizer({ registry, region: 'us-east-1' });
  if (previous === undefined) delete process.env.TUNEVAULT_IAM_CACHE_CHECK;
  else process.env.TUNEVAULT_IAM_CACHE_CHECK = previous;
  const caller = (principal: Principal): Caller => ({
    principal,
    secureTransport: true,
    sourceIp: '127.0.0.1',
  });
  const reader = caller(registry.session(role.arn, 'test').principal);
  const bedrock = caller({ kind: 'service', arn: 'bedrock.amazonaws.com', accountId: ACCOUNT });
  const assume = (sourceArn: string, sourceAccount = ACCOUNT): AccessRequest => ({
    action: 'sts:AssumeRole',
    resource: role.arn,
    resourcePolicy: TRUST,
    resourcePolicyRequired: true,
    context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount },
  });
  const get = (key: string): AccessRequest => ({
    action: 's3:GetObject',
    resource: `arn:aws:s3:::data/${key}`,
  });
  return { authorizer, reader, bedrock, assume, get };
}

describe.each([
  ['from the cache', false],
  ['from the cache, each answer checked against the evaluator', true],
])('IAM decisions %s', (_name, check) => {
  test('objects of one bucket share a question only when the policies cannot tell them apart', async () => {
    const { authorizer, reader, get } = setUp(check);
    const results = [];
    for (const key of ['training/a.jsonl', 'training/run-1/b.jsonl', 'validation/c.jsonl', 'trainingx/d'])
      results.push((await authorizer.decide(reader, get(key))).result);
    for (let i = 0; i < 50; i++) await authorizer.decide(reader, get(`training/run-${i}/data.jsonl`));
    expect(results).toEqual(['Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied']);
    // Two questions: the objects under training/ (any depth), and those outside it.
    expect(authorizer.evaluations.evaluated).toBe(check ? 54 : 2);
  });

  test('a hundred jobs in aws:SourceArn are one question; an ARN the trust does not match is another', async () => {
    const { authorizer, bedrock, assume } = setUp(check);
    const ok = [];
    for (let i = 0; i < 100; i++)
      ok.push((await authorizer.decide(bedrock, assume(`${JOB}/job${i}`))).result);
    expect(new Set(ok)).toEqual(new Set(['Allowed']));
    const foreign = await authorizer.decide(
      bedrock,
      assume('arn:aws:bedrock:us-east-1:999999999999:model-customization-job/x/y'),
    );
    const otherKind = await authorizer.decide(
      bedrock,
      assume(`arn:aws:bedrock:us-east-1:${ACCOUNT}:model-invocation-job/y`),
    );
    const confused = await authorizer.decide(bedrock, assume(`${JOB}/job1`, '999999999999'));
    expect([foreign.result, otherKind.result, confused.result]).toEqual([
      'ImplicitlyDenied',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
    ]);
    // Three questions: a job of this account, an ARN the trust's ArnLike does not match (whichever
    // account or resource type), and a mismatched aws:SourceAccount.
    if (!check) expect(authorizer.evaluations.evaluated).toBe(3);
  });
});

test('the cache check fails loudly when a cached answer is not what the evaluator says', async () => {
  const { authorizer, reader, get } = setUp(true);
  await authorizer.decide(reader, get('training/a.jsonl'));
  // Corrupt the cache: the next identical question must be re-evaluated and refused.
  const cache = (authorizer as unknown as { cache: Map<string, { result: string }> }).cache;
  for (const answer of cache.values()) answer.result = 'ImplicitlyDenied';
  await expect(authorizer.decide(reader, get('training/b.jsonl'))).rejects.toThrow(/IAM decision cache/);
});

test('resource shapes: S3 objects by bucket, other ARNs without their last name', () => {
  expect(shapeOf('arn:aws:s3:::data/training/run-1/a.jsonl')).toBe('arn:aws:s3:::data/*');
  // Every bucket is of the bucket type; the policies' patterns tell buckets apart.
  expect(shapeOf('arn:aws:s3:::data')).toBe('arn:aws:s3:::*');
  expect(shapeOf(`arn:aws:kms:us-east-1:${ACCOUNT}:key/1234`)).toBe(`arn:aws:kms:us-east-1:${ACCOUNT}:key/*`);
});
