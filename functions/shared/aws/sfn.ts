/** Step Functions: start runs idempotently and answer waiting task tokens. */
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sfnClient } from './clients';
import { executionArnFor } from '../naming';
import { isAwsError, orUndefined } from './errors';

/** 'closed' means the token was already answered or timed out: someone else resumed the task. */
export type TaskAnswer = 'sent' | 'closed';

export class SfnGateway {
  constructor(private readonly sfn: SFNClient = sfnClient()) {}

  /**
   * Starting an execution whose name is taken means this object version was already started:
   * AWS returns the running execution for the same input, or ExecutionAlreadyExists once closed.
   */
  async startExecution(
    stateMachineArn: string,
    name: string,
    input: unknown,
  ): Promise<{ executionArn: string; alreadyStarted: boolean }> {
    try {
      const out = await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return { executionArn: out.executionArn ?? '', alreadyStarted: false };
    } catch (err) {
      if (!isAwsError(err, 'ExecutionAlreadyExists')) throw err;
      const executionArn = executionArnFor(stateMachineArn, name);
      return { executionArn, alreadyStarted: true };
    }
  }

  /** RUNNING, a closed status, or `missing` when no such execution exists (any more). */
  async executionStatus(executionArn: string): Promise<string> {
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status ?? 'missing';
    } catch (err) {
      if (isAwsError(err, 'ExecutionDoesNotExist')) return 'missing';
      throw err;
    }
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<TaskAnswer> {
    return this.answer(() =>
      this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<TaskAnswer> {
    return this.answer(() =>
      this.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32_768) })),
    );
  }

  private async answer(send: () => Promise<unknown>): Promise<TaskAnswer> {
    try {
      await send();
      return 'sent';
    } catch (err) {
      if (isAwsError(err, 'TaskTimedOut', 'TaskDoesNotExist')) return 'closed';
      throw err;
    }
  }

  /** The input a run started with; undefined when no such execution exists (any more: AWS keeps closed ones 90 days). */
  async executionInput(executionArn: string): Promise<Record<string, unknown> | undefined> {
    const out = await orUndefined(
      this.sfn.send(new DescribeExecutionCommand({ executionArn })),
      'ExecutionDoesNotExist',
    );
    return out ? (JSON.parse(out.input ?? '{}') as Record<string, unknown>) : undefined;
  }
}
