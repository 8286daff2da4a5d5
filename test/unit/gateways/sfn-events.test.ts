/** SfnGateway and EventsGateway: what they send and how they read AWS's answers (aws-sdk-client-mock). */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EventsGateway } from '../../../functions/shared/aws/events';
import { SfnGateway } from '../../../functions/shared/aws/sfn';

const awsError = (name: string, message = `${name} message`) =>
  Object.assign(new Error(message), { name, $metadata: {} });
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);
beforeEach(() => {
  sfn.reset();
  events.reset();
});

const SM = 'arn:aws:states:us-east-1:111122223333:stateMachine:tunevault-dev-customization';

describe('SfnGateway: duplicates and closed tokens', () => {
  it('counts ExecutionAlreadyExists as started, with the existing execution ARN', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists'));
    const result = await new SfnGateway(new SFNClient({})).startExecution(SM, 'tv-run-1', { a: 1 });
    expect(result).toEqual({
      executionArn: 'arn:aws:states:us-east-1:111122223333:execution:tunevault-dev-customization:tv-run-1',
      alreadyStarted: true,
    });
  });

  it('lets other StartExecution errors bubble with their names', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('StateMachineDoesNotExist'));
    await expect(new SfnGateway(new SFNClient({})).startExecution(SM, 'x', {})).rejects.toMatchObject({
      name: 'StateMachineDoesNotExist',
    });
  });

  it('treats a closed or unknown token as already answered, not as failure', async () => {
    sfn
      .on(SendTaskSuccessCommand)
      .rejectsOnce(awsError('TaskTimedOut'))
      .rejectsOnce(awsError('TaskDoesNotExist'))
      .resolves({});
    const gw = new SfnGateway(new SFNClient({}));
    await expect(gw.sendTaskSuccess('t', {})).resolves.toBe('closed');
    await expect(gw.sendTaskSuccess('t', {})).resolves.toBe('closed');
    await expect(gw.sendTaskSuccess('t', { ok: true })).resolves.toBe('sent');
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 't',
      output: '{"ok":true}',
    });
  });
});

describe('SfnGateway', () => {
  const gw = () => new SfnGateway(new SFNClient({}));

  it('starts an execution with the input as JSON and returns its ARN', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: 'arn:e', startDate: new Date() })
      .resolvesOnce({} as never);
    const g = gw();
    await expect(g.startExecution('arn:sm', 'n', { a: 1 })).resolves.toEqual({
      executionArn: 'arn:e',
      alreadyStarted: false,
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: 'arn:sm',
      name: 'n',
      input: '{"a":1}',
    });
    await expect(g.startExecution('arn:sm', 'n', {})).resolves.toEqual({
      executionArn: '',
      alreadyStarted: false,
    });
  });

  it("reads an execution's status; a missing execution (or status) is 'missing', other errors are kept", async () => {
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolvesOnce({} as never)
      .rejectsOnce(awsError('ExecutionDoesNotExist'))
      .rejectsOnce(awsError('ThrottlingException'));
    const g = gw();
    await expect(g.executionStatus('arn:exec')).resolves.toBe('RUNNING');
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: 'arn:exec' });
    await expect(g.executionStatus('arn:exec')).resolves.toBe('missing');
    await expect(g.executionStatus('arn:exec')).resolves.toBe('missing');
    await expect(g.executionStatus('arn:exec')).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('sends a task failure with the cause cut to the 32 768 characters Step Functions accepts', async () => {
    sfn
      .on(SendTaskFailureCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('TaskDoesNotExist'))
      .rejectsOnce(awsError('InvalidToken'));
    const g = gw();
    await expect(g.sendTaskFailure('t', 'E', 'c'.repeat(40_000))).resolves.toBe('sent');
    const sent = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(sent).toEqual({ taskToken: 't', error: 'E', cause: 'c'.repeat(32_768) });
    await expect(g.sendTaskFailure('t', 'E', 'c')).resolves.toBe('closed');
    await expect(g.sendTaskFailure('t', 'E', 'c')).rejects.toMatchObject({ name: 'InvalidToken' });
  });
});

describe('EventsGateway', () => {
  const gw = () => new EventsGateway(new EventBridgeClient({}));

  it('publishes one tunevault event with only ARNs as resources, and returns its id', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });
    await expect(gw().publish('TuneVault Run Completed', { a: 1 }, ['arn:x', 'not-an-arn'])).resolves.toBe(
      'ev-1',
    );
    expect(events).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        {
          Source: 'tunevault',
          DetailType: 'TuneVault Run Completed',
          Detail: '{"a":1}',
          Resources: ['arn:x'],
        },
      ],
    });
  });

  it('fails with the entry error when EventBridge refuses the event, or gives no id', async () => {
    events
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{}] })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'ev-2' }] });
    const g = gw();
    await expect(g.publish('t', {}, [])).rejects.toThrow(
      'PutEvents rejected the notification: InternalFailure try again',
    );
    await expect(g.publish('t', {}, [])).rejects.toThrow(/^PutEvents rejected the notification: unknown $/);
    await expect(g.publish('t', {}, [])).rejects.toThrow('PutEvents rejected the notification');
  });
});
