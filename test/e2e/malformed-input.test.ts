/**
 * Malformed input is a 400 with AWS's error name, never a 500: hundreds of generated bodies per
 * protocol, sent signed over HTTP as a client would. awsJson (KMS, Step Functions, EventBridge,
 * DynamoDB through dynalite) and restJson (Bedrock): JSON of every type at the top level, members of every wrong
 * type (from the SDK's own schemas), truncated, deeply nested, huge, invalid UTF-8 →
 * `SerializationException` where the body cannot be read as the operation's input. restXml (S3):
 * deep documents, DTDs and entity tricks (billion laughs, external entities), bad character
 * references, truncations → `MalformedXML`; a bucket policy that is not JSON → `MalformedPolicy`.
 * The control API answers 400 with a message. Generation is seeded: a failure replays.
 */
import { NormalizedSchema } from '@smithy/core/schema';
import * as bedrockModel from '@aws-sdk/client-bedrock';
import * as dynamodbModel from '@aws-sdk/client-dynamodb';
import * as eventsModel from '@aws-sdk/client-eventbridge';
import * as kmsModel from '@aws-sdk/client-kms';
import * as sfnModel from '@aws-sdk/client-sfn';
import { createHash } from 'node:crypto';
import { seededRandom } from '../../local/core/random';
import { type Harness, startHarness } from './support/embedded';
import { type RawRequest, type RawResponse, signedRequest } from './support/signed';

jest.setTimeout(240_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const rnd = seededRandom(20261206);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

// ---- JSON bodies ----

const deepArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

/** Top-level bodies that are not a JSON object, or not JSON at all. */
const NOT_AN_OBJECT: (string | Buffer)[] = [
  'null',
  'true',
  'false',
  '0',
  '123',
  '-1.5e308',
  '1e400',
  '"KeyId"',
  '""',
  '[]',
  '[{}]',
  '[null]',
  'NaN',
  'undefined',
  '{',
  '}',
  '{"a":}',
  '{,}',
  "{'a':1}",
  '{"a":1}garbage',
  '{"a":1}{"b":2}',
  '{"a" 1}',
  '\u0000',
  ' \t\r\n',
  Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
  deepArray(100_000),
  deepObject(100_000),
];

/** Well-formed objects a service must not trip over. */
const ODD_OBJECTS: string[] = [
  '{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`,
];

const WRONG_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  true,
  false,
  '',
  'x',
  '\u0000\u001b[2J',
  '\ud800',
  [],
  [null],
  [1, 'a', {}],
  {},
  { a: { b: [] } },
  'x'.repeat(70_000),
];

type Kind = 'string' | 'number' | 'boolean' | 'list' | 'object' | 'other';

/** Members of an operation's input with their JSON kind, read from the SDK's schema (the service model). */
function membersOf(operationSchema: unknown): { name: string; kind: Kind }[] {
  const op = operationSchema as [number, string, string, number, unknown, unknown];
  const input = NormalizedSchema.of(op[4] as never);
  if (!input.isStructSchema()) return [];
  const members: { name: string; kind: Kind }[] = [];
  for (const [name, m] of input.structIterator()) {
    const traits = m.getMergedTraits();
    if (traits.httpLabel || traits.httpQuery || traits.httpHeader) continue;
    const kind: Kind =
      m.isStringSchema() || m.isBlobSchema()
        ? 'string'
        : m.isNumericSchema()
          ? 'number'
          : m.isBooleanSchema()
            ? 'boolean'
            : m.isListSchema()
              ? 'list'
              : m.isStructSchema() || m.isMapSchema()
                ? 'object'
                : 'other';
    members.push({ name, kind });
  }
  return members;
}

/** JSON values no member of that kind accepts. */
const NOT_OF_KIND: Record<Kind, unknown[]> = {
  string: [0, 1.5, true, [], ['x'], {}],
  number: ['1', true, [], {}],
  boolean: ['true', 1, [], {}],
  list: ['x', 1, true, {}],
  object: ['x', 1, false, []],
  other: [],
};

/**
 * Bodies for one operation: every not-an-object body and odd objects; per member random values,
 * a deep and a huge value, truncations. `wrongType` collects the bodies whose one member has a
 * JSON type the model refuses.
 */
function jsonBodies(members: { name: string; kind: Kind }[], wrongType?: Set<string>): (string | Buffer)[] {
  const bodies: (string | Buffer)[] = [...NOT_AN_OBJECT, ...ODD_OBJECTS];
  for (const { name, kind } of members) {
    for (let i = 0; i < 2; i++) bodies.push(JSON.stringify({ [name]: pick(WRONG_VALUES) }));
    if (NOT_OF_KIND[kind].length > 0) {
      const body = JSON.stringify({ [name]: pick(NOT_OF_KIND[kind]) });
      bodies.push(body);
      wrongType?.add(body);
    }
    bodies.push(`{"${name}":${deepArray(5_000)}}`);
  }
  const first = members[0]?.name ?? 'Name';
  bodies.push(JSON.stringify({ [first]: 'y'.repeat(4 * 1024 * 1024) }));
  const valid = JSON.stringify(Object.fromEntries(members.map((m) => [m.name, 'value'])));
  for (let i = 0; i < 4; i++) bodies.push(valid.slice(0, Math.floor(rnd() * valid.length)));
  return bodies;
}

interface Outcome {
  label: string;
  status: number;
  error: string;
}

const preview = (b: string | Buffer) => {
  const s = typeof b === 'string' ? b : `<bytes ${b.toString('hex').slice(0, 24)}>`;
  return s.length > 60 ? `${s.slice(0, 40)}… (${s.length} chars)` : s;
};

function errorOf(res: RawResponse): string {
  const header = res.headers['x-amzn-errortype'];
  if (typeof header === 'string') return header.split(':')[0] ?? header;
  try {
    const parsed = JSON.parse(res.body) as { __type?: string; message?: string };
    return (parsed.__type ?? '').split('#').pop() ?? '';
  } catch {
    return /<Code>([^<]*)<\/Code>/.exec(res.body)?.[1] ?? '';
  }
}

async function send(label: string, r: RawRequest): Promise<Outcome> {
  const res = await signedRequest(h.aws.url, r);
  return { label, status: res.status, error: errorOf(res) };
}

/** Runs the requests a few at a time; returns every answer. */
async function runAll(requests: [string, RawRequest][]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < requests.length; i += 8) {
    const batch = requests.slice(i, i + 8);
    out.push(...(await Promise.all(batch.map(([label, r]) => send(label, r)))));
  }
  return out;
}

const fivexx = (outcomes: Outcome[]) =>
  outcomes.filter((o) => o.status >= 500).map((o) => `${o.status} ${o.error} ← ${o.label}`);

function operationsOf(model: Record<string, unknown>, names: string[]) {
  return names.map((op) => {
    const schema = model[`${op}$`];
    if (!schema) throw new Error(`no SDK schema for ${op}`);
    return { op, members: membersOf(schema) };
  });
}

const AWS_JSON = [
  {
    service: 'kms',
    target: 'TrentService',
    version: '1.1',
    model: kmsModel,
    ops: [
      'CreateKey',
      'DescribeKey',
      'Encrypt',
      'Decrypt',
      'GenerateDataKey',
      'CreateAlias',
      'ListAliases',
      'GetKeyPolicy',
      'PutKeyPolicy',
      'EnableKeyRotation',
      'ScheduleKeyDeletion',
      'TagResource',
      'CreateGrant',
      'ListGrants',
    ],
  },
  {
    service: 'states',
    target: 'AWSStepFunctions',
    version: '1.0',
    model: sfnModel,
    ops: [
      'CreateStateMachine',
      'ListStateMachines',
      'StartExecution',
      'DescribeExecution',
      'ListExecutions',
      'GetExecutionHistory',
      'StopExecution',
      'SendTaskSuccess',
      'SendTaskFailure',
    ],
  },
  {
    service: 'events',
    target: 'AWSEvents',
    version: '1.1',
    model: eventsModel,
    ops: ['PutRule', 'PutTargets', 'PutEvents'],
  },
  {
    // dynalite behind the endpoint; the model's member types are checked before it sees a body.
    service: 'dynamodb',
    target: 'DynamoDB_20120810',
    version: '1.0',
    model: dynamodbModel,
    ops: [
      'CreateTable',
      'PutItem',
      'GetItem',
      'Query',
      'Scan',
      'DeleteItem',
      'UpdateTimeToLive',
      'DescribeTimeToLive',
    ],
  },
] as const;

/** Every 5xx, and every answer to a body in `expected` that is not 400 with `code`. */
function wrongAnswers(outcomes: Outcome[], expected: string[], code: string): string[] {
  const want = new Set(expected);
  return [
    ...fivexx(outcomes),
    ...outcomes
      .filter((o) => want.has(o.label) && (o.status !== 400 || o.error !== code))
      .map((o) => `${o.status} ${o.error} ← ${o.label}`),
  ];
}

describe.each(AWS_JSON)('awsJson $service: malformed bodies', ({ service, target, version, model, ops }) => {
  it(`never 500; a body that is not the operation's JSON object, or a member of the wrong JSON type, is a SerializationException`, async () => {
    const requests: [string, RawRequest][] = [];
    const notObject = new Set<string | Buffer>(NOT_AN_OBJECT);
    const expectSerialization: string[] = [];
    for (const { op, members } of operationsOf(model as Record<string, unknown>, [...ops])) {
      const wrongType = new Set<string>();
      for (const body of jsonBodies(members, wrongType)) {
        const label = `${service} ${op} ${preview(body)}`;
        if (notObject.has(body) || wrongType.has(body as string)) expectSerialization.push(label);
        requests.push([
          label,
          {
            service,
            headers: {
              'content-type': `application/x-amz-json-${version}`,
              'x-amz-target': `${target}.${op}`,
            },
            body,
          },
        ]);
      }
    }
    // Over a hundred bodies for each service (EventBridge serves three operations: 163).
    expect(requests.length).toBeGreaterThanOrEqual(150);
    const outcomes = await runAll(requests);
    expect(wrongAnswers(outcomes, expectSerialization, 'SerializationException')).toEqual([]);
    // Every 4xx names its error.
    expect(outcomes.filter((o) => o.status >= 400 && !o.error).map((o) => o.label)).toEqual([]);
  });
});

it('restJson bedrock: never 500; a body that is not a JSON object, or a wrong member type, is a SerializationException', async () => {
  const routes: [string, string, string][] = [
    ['CreateModelCustomizationJob', 'POST', '/model-customization-jobs'],
    ['TagResource', 'POST', '/tagResource'],
    ['UntagResource', 'POST', '/untagResource'],
    ['ListTagsForResource', 'POST', '/listTagsForResource'],
  ];
  const requests: [string, RawRequest][] = [];
  const expectSerialization: string[] = [];
  for (const [op, method, path] of routes) {
    const members = operationsOf(bedrockModel as Record<string, unknown>, [op])[0]?.members ?? [];
    const wrongType = new Set<string>();
    for (const body of jsonBodies(members, wrongType)) {
      const label = `bedrock ${op} ${preview(body)}`;
      if (NOT_AN_OBJECT.includes(body) || wrongType.has(body as string)) expectSerialization.push(label);
      requests.push([
        label,
        { service: 'bedrock', method, path, headers: { 'content-type': 'application/json' }, body },
      ]);
    }
  }
  expect(requests.length).toBeGreaterThanOrEqual(200);
  expect(wrongAnswers(await runAll(requests), expectSerialization, 'SerializationException')).toEqual([]);
});

// ---- XML bodies ----

const LAUGHS = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><Tagging><TagSet><Tag><Key>&lol2;</Key><Value>v</Value></Tag></TagSet></Tagging>`;
const XXE = `<?xml version="1.0"?><!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Tagging><TagSet><Tag><Key>&xxe;</Key><Value>v</Value></Tag></TagSet></Tagging>`;
const PARAMETER = `<!DOCTYPE t [<!ENTITY % p SYSTEM "http://169.254.169.254/latest/meta-data/"> %p;]><Tagging/>`;

function wrapIn(root: string, inner: string) {
  return `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;
}

/** Bodies that are not well-formed XML, or use what S3's parser refuses (DTDs, entities, bad references). */
function notWellFormed(root: string, valid: string): (string | Buffer)[] {
  const refs = [
    '&#0;',
    '&#x0;',
    '&#xD800;',
    '&#xDFFF;',
    '&#xFFFE;',
    '&#xFFFF;',
    '&#99999999999;',
    '&#x110000;',
    '&#;',
    '&#x;',
    '&#-1;',
    '&#x-1;',
    '&foo;',
    '&amp',
    '& ',
    '&#65',
    '&#x1F600',
  ];
  const bodies: (string | Buffer)[] = [
    'hello',
    '{}',
    '<',
    '<a',
    '</a>',
    `<${root}>`,
    `<${root}></Other>`,
    `<${root}/><${root}/>`,
    `<${root}/>trailing`,
    `<${root} a="1" a="2"/>`,
    `<${root} a="<"/>`,
    `<${root}><![CDATA[never closed</${root}>`,
    `<${root}><!-- never closed</${root}>`,
    `<${root}><?pi never closed</${root}>`,
    LAUGHS,
    XXE,
    PARAMETER,
    `${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}`,
    wrapIn(root, `${'<a>'.repeat(5_000)}${'</a>'.repeat(5_000)}`),
    Buffer.concat([
      Buffer.from(`<${root}>`),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from(`</${root}>`),
    ]),
    `<${root}>\u0000</${root}>`,
    `<${root}>\u0001\u001b</${root}>`,
  ];
  for (const ref of refs) bodies.push(valid.replace('>v<', `>${ref}<`));
  for (let i = 0; i < 12; i++) bodies.push(valid.slice(0, 1 + Math.floor(rnd() * (valid.length - 2))));
  return bodies;
}

it('restXml s3: never 500; what is not well-formed is MalformedXML, a policy that is not JSON MalformedPolicy', async () => {
  const bucket = h.stack.trainingBucket;
  const key = 'fuzz/object.txt';
  await h.put(key, 'x');
  const tagging = wrapIn('Tagging', '<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>');
  const documents: [string, string, Record<string, string>, string][] = [
    ['PutBucketTagging', `/${bucket}`, { tagging: '' }, tagging],
    ['PutObjectTagging', `/${bucket}/${key}`, { tagging: '' }, tagging],
    [
      'PutBucketEncryption',
      `/${bucket}`,
      { encryption: '' },
      wrapIn(
        'ServerSideEncryptionConfiguration',
        '<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>v</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>',
      ),
    ],
    [
      'PutPublicAccessBlock',
      `/${bucket}`,
      { publicAccessBlock: '' },
      wrapIn('PublicAccessBlockConfiguration', '<BlockPublicAcls>v</BlockPublicAcls>'),
    ],
    [
      'PutBucketVersioning',
      `/${bucket}`,
      { versioning: '' },
      wrapIn('VersioningConfiguration', '<Status>v</Status>'),
    ],
    [
      'PutBucketNotificationConfiguration',
      `/${bucket}-fuzz-none`,
      { notification: '' },
      wrapIn(
        'NotificationConfiguration',
        '<LambdaFunctionConfiguration><Id>v</Id></LambdaFunctionConfiguration>',
      ),
    ],
    ['DeleteObjects', `/${bucket}`, { delete: '' }, wrapIn('Delete', '<Object><Key>v</Key></Object>')],
  ];
  const requests: [string, RawRequest][] = [];
  const mustBeMalformed: string[] = [];
  for (const [op, path, query, valid] of documents) {
    for (const body of notWellFormed(op === 'DeleteObjects' ? 'Delete' : 'Tagging', valid)) {
      const label = `s3 ${op} ${preview(body)}`;
      // A body that names a bucket that does not exist may be refused for that first.
      if (!path.endsWith('-fuzz-none')) mustBeMalformed.push(label);
      const md5 = createHash('md5').update(body).digest('base64');
      requests.push([
        label,
        {
          service: 's3',
          method: op === 'DeleteObjects' ? 'POST' : 'PUT',
          path,
          query,
          headers: { 'content-md5': md5 },
          body,
        },
      ]);
    }
  }
  for (const body of ['', 'null', '[]', '{', '{"Statement":', deepArray(100_000), '<Policy/>']) {
    requests.push([
      `s3 PutBucketPolicy ${preview(body)}`,
      { service: 's3', method: 'PUT', path: `/${bucket}`, query: { policy: '' }, body },
    ]);
  }
  expect(requests.length).toBeGreaterThanOrEqual(200);
  const outcomes = await runAll(requests);
  expect(wrongAnswers(outcomes, mustBeMalformed, 'MalformedXML')).toEqual([]);
  const policies = outcomes.filter((o) => o.label.startsWith('s3 PutBucketPolicy'));
  expect(policies.map((o) => `${o.status} ${o.error}`)).toEqual(policies.map(() => '400 MalformedPolicy'));
});

it("the control API: a body that is not the route's JSON object is a 400 naming the problem", async () => {
  const routes = [
    '/_tunevault/faults',
    '/_tunevault/s3/redeliver',
    '/_tunevault/s3/objects',
    '/_tunevault/events/drop',
    '/_tunevault/bedrock',
  ];
  const requests: [string, RawRequest][] = [];
  for (const path of routes)
    for (const body of [...NOT_AN_OBJECT, ...ODD_OBJECTS.slice(1)])
      requests.push([
        `control ${path} ${preview(body)}`,
        { service: 's3', unsigned: true, path, headers: { 'content-type': 'application/json' }, body },
      ]);
  const outcomes = await Promise.all(
    requests.map(async ([label, r]) => {
      const res = await signedRequest(h.aws.url, r);
      return { label, status: res.status, message: (JSON.parse(res.body) as { message?: string }).message };
    }),
  );
  expect(
    outcomes.filter((o) => o.status !== 400 || !o.message).map((o) => `${o.status} ← ${o.label}`),
  ).toEqual([]);
});
