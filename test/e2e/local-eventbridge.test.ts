/** The embedded EventBridge through the real client: rules, patterns, async Lambda targets, lossy delivery. */
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import type { LocalEndpoint } from '../../local/core/server';
import { localClientConfig, startTestEndpoint } from '../../local/core/test-endpoint';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/core/types';
import { EventBridgeService } from '../../local/services/eventbridge';
import { matchesPattern, parsePattern } from '../../local/services/eventbridge/patterns';
import { ratePeriodMs } from '../../local/services/eventbridge/schedules';

const fn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
const BEDROCK_PATTERN = { source: ['aws.bedrock'], 'detail-type': ['Model Customization Job State Change'] };

const invocations: Array<{ arn: string; event: unknown }> = [];
let endpoint: LocalEndpoint;
let bus: EventBridgeService;
let eb: EventBridgeClient;

const jobEvent = (jobName: string, jobStatus: string) => ({
  Source: 'aws.bedrock',
  DetailType: 'Model Customization Job State Change',
  Detail: JSON.stringify({
    version: '0.0',
    jobName,
    jobStatus,
    jobArn: `arn:aws:bedrock:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:model-customization-job/${jobName}`,
  }),
  Resources: [`arn:aws:bedrock:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:model-customization-job/${jobName}`],
});

const invokedWith = (name: string) => invocations.filter((i) => i.arn === fn(name)).map((i) => i.event);

beforeAll(async () => {
  bus = new EventBridgeService({
    accountId: LOCAL_ACCOUNT_ID,
    region: LOCAL_REGION,
    invokeLambda: async (arn, event) => {
      invocations.push({ arn, event });
      if (arn === fn('broken')) throw new Error('handler crashed');
      return null;
    },
  });
  endpoint = await startTestEndpoint([bus]);
  eb = new EventBridgeClient(localClientConfig(endpoint.url));

  await eb.send(
    new PutRuleCommand({ Name: 'job-state-change', EventPattern: JSON.stringify(BEDROCK_PATTERN) }),
  );
  await eb.send(
    new PutTargetsCommand({
      Rule: 'job-state-change',
      Targets: [{ Id: 'onJobStateChange', Arn: fn('onJobStateChange') }],
    }),
  );
});

afterEach(async () => {
  await bus.idle();
  invocations.length = 0;
});

afterAll(async () => {
  eb.destroy();
  await endpoint.close();
});

describe('scheduled rules', () => {
  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(2 days)', 172_800_000],
    // AWS refuses a plural unit for 1 and a singular one above it.
    ['rate(1 minutes)', undefined],
    ['rate(5 hour)', undefined],
    ['rate(0 minutes)', undefined],
    ['cron(0 12 * * ? *)', undefined],
  ])('%s has period %s ms', (expression, period) => {
    expect(ratePeriodMs(expression)).toBe(period);
  });

  it("runs a rate rule's targets with the Scheduled Event, from resumeSchedules() on, until disabled", async () => {
    const ticks: unknown[] = [];
    // rate(1 minute) at a scale of 1/600: a tick every 100 ms.
    const scheduled = new EventBridgeService({
      accountId: LOCAL_ACCOUNT_ID,
      region: LOCAL_REGION,
      invokeLambda: async (_arn, event) => {
        ticks.push(event);
        return null;
      },
      scheduleScale: 1 / 600,
      schedulesPaused: true,
    });
    const local = await startTestEndpoint([scheduled]);
    const client = new EventBridgeClient(localClientConfig(local.url));
    try {
      const { RuleArn } = await client.send(
        new PutRuleCommand({ Name: 'sweep', ScheduleExpression: 'rate(1 minute)' }),
      );
      await client.send(new PutTargetsCommand({ Rule: 'sweep', Targets: [{ Id: 'fn', Arn: fn('sweep') }] }));
      await new Promise((r) => setTimeout(r, 350));
      expect(ticks).toEqual([]); // paused: the functions are not built yet

      scheduled.resumeSchedules();
      for (const deadline = Date.now() + 10_000; ticks.length < 2 && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 20));
      expect(ticks[0]).toEqual({
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: LOCAL_ACCOUNT_ID,
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        region: LOCAL_REGION,
        resources: [RuleArn],
        detail: {},
      });

      await client.send(
        new PutRuleCommand({ Name: 'sweep', ScheduleExpression: 'rate(1 minute)', State: 'DISABLED' }),
      );
      await scheduled.idle();
      const seen = ticks.length;
      await new Promise((r) => setTimeout(r, 350));
      expect(ticks).toHaveLength(seen);
    } finally {
      scheduled.close();
      await scheduled.idle();
      client.destroy();
      await local.close();
    }
  });
});

describe('rules and targets', () => {
  it('invokes the Bedrock rule target asynchronously with the full envelope', async () => {
    const before = invocations.length;
    await bus.putEvents([{ ...jobEvent('job-1', 'Completed'), Time: new Date('2023-08-11T12:34:56.789Z') }]);
    expect(invocations.length).toBe(before); // not yet: targets run after PutEvents answers
    await bus.idle();
    const [event] = invokedWith('onJobStateChange');
    expect(event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Model Customization Job State Change',
      source: 'aws.bedrock',
      account: LOCAL_ACCOUNT_ID,
      time: '2023-08-11T12:34:56Z',
      region: LOCAL_REGION,
      resources: [`arn:aws:bedrock:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:model-customization-job/job-1`],
      detail: expect.objectContaining({ jobName: 'job-1', jobStatus: 'Completed' }),
    });
    expect(bus.deliveries().at(-1)).toMatchObject({
      rule: 'job-state-change',
      targetId: 'onJobStateChange',
      status: 'delivered',
    });
  });

  it('refuses reserved aws.* sources on the API, accepts custom ones and answers EventIds', async () => {
    const out = await eb.send(
      new PutEventsCommand({
        Entries: [
          jobEvent('job-2', 'Completed'),
          { Source: 'tunevault', DetailType: 'Run Completed', Detail: '{"ok":true}' },
          { Source: 'tunevault', DetailType: 'X', Detail: 'nope' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries?.[0]).toMatchObject({ ErrorCode: 'NotAuthorizedForSourceException' });
    expect(out.Entries?.[1]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Entries?.[2]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    await bus.idle();
    expect(invokedWith('onJobStateChange')).toHaveLength(0);
    expect(bus.events({ source: 'tunevault' }).at(-1)?.detail).toEqual({ ok: true });
  });

  it('matches prefix and anything-but on nested detail fields, with Input / InputPath', async () => {
    await eb.send(
      new PutRuleCommand({
        Name: 'terminal-jobs',
        EventPattern: JSON.stringify({
          source: [{ prefix: 'tunevault' }],
          detail: { jobStatus: [{ 'anything-but': ['InProgress', 'Stopping'] }] },
        }),
      }),
    );
    await eb.send(
      new PutTargetsCommand({
        Rule: 'terminal-jobs',
        Targets: [
          { Id: 'whole', Arn: fn('terminal') },
          { Id: 'detail', Arn: fn('terminalDetail'), InputPath: '$.detail' },
          { Id: 'fixed', Arn: fn('terminalFixed'), Input: '{"fixed":true}' },
        ],
      }),
    );
    const put = (source: string, jobStatus: string) =>
      eb.send(
        new PutEventsCommand({
          Entries: [{ Source: source, DetailType: 'Job', Detail: JSON.stringify({ jobStatus }) }],
        }),
      );
    await put('tunevault.test', 'InProgress');
    await put('other', 'Completed');
    await put('tunevault.test', 'Failed');
    await bus.idle();
    expect(invokedWith('terminal')).toHaveLength(1);
    expect(invokedWith('terminal')[0]).toMatchObject({
      source: 'tunevault.test',
      detail: { jobStatus: 'Failed' },
    });
    expect(invokedWith('terminalDetail')).toEqual([{ jobStatus: 'Failed' }]);
    expect(invokedWith('terminalFixed')).toEqual([{ fixed: true }]);
  });

  it('does not deliver to disabled rules; a rule put again keeps its ARN and targets', async () => {
    const rule = { Name: 'job-state-change', EventPattern: JSON.stringify(BEDROCK_PATTERN) };
    const disabled = await eb.send(new PutRuleCommand({ ...rule, State: 'DISABLED' }));
    expect(disabled.RuleArn).toBe(`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:rule/job-state-change`);
    await bus.putEvents([jobEvent('job-3', 'Completed')]);
    await bus.idle();
    expect(invokedWith('onJobStateChange')).toHaveLength(0);
    const enabled = await eb.send(new PutRuleCommand(rule));
    expect(enabled.RuleArn).toBe(disabled.RuleArn);
    await bus.putEvents([jobEvent('job-3', 'Completed')]);
    await bus.idle();
    expect(invokedWith('onJobStateChange')).toHaveLength(1);
  });

  it('rejects invalid patterns and unknown buses', async () => {
    await expect(
      eb.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source":"aws.bedrock"}' })),
    ).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
    });
    await expect(
      eb.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source":[{"prefixx":"a"}]}' })),
    ).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
    });
    await expect(
      eb.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"a":[1]}', EventBusName: 'custom' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

describe('delivery controls', () => {
  it('dropNext drops the next matching events before rule matching; others still flow', async () => {
    bus.dropNext(1, { source: 'aws.bedrock', detailType: 'Model Customization Job State Change' });
    await bus.putEvents([jobEvent('job-4', 'Completed')]);
    await bus.putEvents([jobEvent('job-5', 'Completed')]);
    await bus.idle();
    const delivered = invokedWith('onJobStateChange') as Array<{ detail: { jobName: string } }>;
    expect(delivered.map((e) => e.detail.jobName)).toEqual(['job-5']);
    const records = bus.history().slice(-2);
    expect(records.map((r) => [r.dropped, r.matchedRules])).toEqual([
      [true, []],
      [false, ['job-state-change']],
    ]);
    // Dropped events still count as put (PutEvents succeeded).
    expect(
      bus.events({ source: 'aws.bedrock' }).map((e) => (e.detail as { jobName: string }).jobName),
    ).toContain('job-4');
  });

  it('duplicateNext delivers the same event (same id) twice', async () => {
    bus.duplicateNext(1, { source: 'aws.bedrock' });
    await bus.putEvents([jobEvent('job-6', 'Failed')]);
    await bus.idle();
    const delivered = invokedWith('onJobStateChange') as Array<{ id: string }>;
    expect(delivered).toHaveLength(2);
    expect(delivered[0]?.id).toBe(delivered[1]?.id);
  });

  it('a failing target is recorded, not thrown back to the producer', async () => {
    await eb.send(new PutRuleCommand({ Name: 'to-broken', EventPattern: '{"source":["broken.test"]}' }));
    await eb.send(new PutTargetsCommand({ Rule: 'to-broken', Targets: [{ Id: 'b', Arn: fn('broken') }] }));
    const out = await eb.send(
      new PutEventsCommand({ Entries: [{ Source: 'broken.test', DetailType: 'x', Detail: '{}' }] }),
    );
    expect(out.FailedEntryCount).toBe(0);
    await bus.idle();
    expect(bus.deliveries().at(-1)).toMatchObject({
      rule: 'to-broken',
      status: 'failed',
      error: 'Error: handler crashed',
    });
  });
});

describe('pattern matching', () => {
  const event = {
    version: '0',
    id: '1',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: LOCAL_ACCOUNT_ID,
    time: '2026-01-01T00:00:00Z',
    region: LOCAL_REGION,
    resources: ['arn:aws:s3:::training', 'arn:aws:s3:::other'],
    detail: {
      bucket: { name: 'training' },
      object: { key: 'data/Train.JSONL', size: 2048 },
      reason: 'PutObject',
      'source-ip-address': '10.0.3.7',
      tags: [{ k: 'a' }, { k: 'b' }],
      empty: '',
      nothing: null,
    },
  };
  const cases: Array<[string, object, boolean]> = [
    ['exact + arrays OR', { source: ['aws.s3', 'aws.bedrock'] }, true],
    ['exact miss', { source: ['aws.bedrock'] }, false],
    ['event array field matches any element', { resources: ['arn:aws:s3:::other'] }, true],
    ['nested', { detail: { bucket: { name: ['training'] } } }, true],
    ['nested missing', { detail: { bucket: { owner: ['x'] } } }, false],
    ['prefix', { detail: { object: { key: [{ prefix: 'data/' }] } } }, true],
    [
      'prefix ignore case',
      { detail: { object: { key: [{ prefix: { 'equals-ignore-case': 'DATA/' } }] } } },
      true,
    ],
    ['suffix case-sensitive', { detail: { object: { key: [{ suffix: '.jsonl' }] } } }, false],
    [
      'suffix ignore case',
      { detail: { object: { key: [{ suffix: { 'equals-ignore-case': '.jsonl' } }] } } },
      true,
    ],
    ['equals-ignore-case', { detail: { reason: [{ 'equals-ignore-case': 'putobject' }] } }, true],
    ['anything-but scalar', { detail: { reason: [{ 'anything-but': 'CopyObject' }] } }, true],
    ['anything-but list', { detail: { reason: [{ 'anything-but': ['PutObject', 'CopyObject'] }] } }, false],
    [
      'anything-but prefix',
      { detail: { object: { key: [{ 'anything-but': { prefix: 'data/' } }] } } },
      false,
    ],
    ['anything-but on missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
    ['numeric range', { detail: { object: { size: [{ numeric: ['>', 1024, '<=', 4096] }] } } }, true],
    ['numeric miss', { detail: { object: { size: [{ numeric: ['<', 100] }] } } }, false],
    ['exists true', { detail: { reason: [{ exists: true }] } }, true],
    ['exists false on missing', { detail: { 'version-id': [{ exists: false }] } }, true],
    ['exists false on present', { detail: { reason: [{ exists: false }] } }, false],
    ['exists on an object node', { detail: { bucket: [{ exists: true }] } }, false],
    ['empty string', { detail: { empty: [''] } }, true],
    ['null', { detail: { nothing: [null] } }, true],
    ['wildcard', { detail: { object: { key: [{ wildcard: 'data/*.JSONL' }] } } }, true],
    ['cidr', { detail: { 'source-ip-address': [{ cidr: '10.0.0.0/16' }] } }, true],
    ['cidr miss', { detail: { 'source-ip-address': [{ cidr: '10.1.0.0/16' }] } }, false],
    ['array of objects', { detail: { tags: { k: ['b'] } } }, true],
    ['$or', { $or: [{ source: ['aws.bedrock'] }, { detail: { reason: ['PutObject'] } }] }, true],
    ['$or miss', { $or: [{ source: ['aws.bedrock'] }, { detail: { reason: ['CopyObject'] } }] }, false],
    ['all fields must match', { source: ['aws.s3'], 'detail-type': ['Object Deleted'] }, false],
  ];
  it.each(cases)('%s', (_name, pattern, expected) => {
    expect(matchesPattern(parsePattern(JSON.stringify(pattern)), event)).toBe(expected);
  });
});
