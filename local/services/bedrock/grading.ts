/**
 * Reinforcement fine-tuning: Bedrock sends a few training records, each with a simulated model
 * response, to the job's grader Lambda and records the rewards it answers.
 */
import type { Body } from '../../core/input';
import type { JobRecord, RewardRecord } from './model';
import { round } from './metrics';
import { errorText } from './rest';

/** Records an RFT job sends its grader: a few, enough to show the grader works. */
const RFT_GRADED_RECORDS = 3;

/** How Bedrock invokes an RFT job's grader (as the job's service role). */
export type InvokeGrader = (functionArn: string, payload: unknown, roleArn: string) => Promise<unknown>;

/** The first records of the training data, kept at validation to grade at the end. */
export function rftSamples(training: Buffer): unknown[] {
  const out: unknown[] = [];
  for (const line of training.toString('utf8').split('\n')) {
    if (out.length >= RFT_GRADED_RECORDS) break;
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // Not a record; the data guard refuses such files before a job is submitted.
    }
  }
  return out;
}

/**
 * One grader input record. The simulated model answers with the reference answer for even
 * records and a wrong one for odd records, so a grader that compares gives distinct rewards.
 */
function graderItem(record: unknown, i: number): { id: string; messages: unknown[]; metadata: Body } {
  const r = (record ?? {}) as Body;
  const { messages, reference_answer, id, ...rest } = r;
  const reference =
    typeof reference_answer === 'string' ? reference_answer : JSON.stringify(reference_answer ?? null);
  const answer = i % 2 === 0 ? reference : 'I do not know.';
  return {
    id: typeof id === 'string' ? id : `sample-${i + 1}`,
    messages: [...(Array.isArray(messages) ? messages : []), { role: 'assistant', content: answer }],
    metadata: { reference_answer, ...rest },
  };
}

/**
 * Sends a few training records, each with a simulated response, to the job's grader as the
 * reward-function payload of the Bedrock guide (reward-functions): `[{id, messages (with the
 * assistant's answer appended), metadata: {reference_answer, …other fields}}]`, and expects
 * `[{id, aggregate_reward_score}]` back. Records the rewards on the job and answers undefined
 * when it went well; else the failure message.
 */
export async function grade(
  job: JobRecord,
  invoke: InvokeGrader | undefined,
  region: string,
): Promise<string | undefined> {
  const config = job.customizationConfig;
  const arn =
    config && 'rftConfig' in config ? config.rftConfig.graderConfig.lambdaGrader.lambdaArn : undefined;
  if (!arn) return 'The job has no reward function (customizationConfig.rftConfig).';
  const payload = (job.rftSamples ?? []).map((record, i) => graderItem(record, i));
  if (payload.length === 0)
    return `The training data at ${job.trainingDataConfig.s3Uri} holds no RFT prompt to grade.`;
  if (!invoke) return `Amazon Bedrock could not invoke the reward function ${arn}: no Lambda service.`;
  let answer: unknown;
  try {
    answer = await invoke(arn, payload, job.roleArn);
  } catch (err) {
    return `Amazon Bedrock could not invoke the reward function ${arn} (${errorText(err)}). Check that it exists in ${region} and that the job's role may invoke it (lambda:InvokeFunction).`;
  }
  const scores: number[] = [];
  const byId = new Map(
    (Array.isArray(answer) ? answer : []).map((a: unknown) => [String((a as Body)?.['id']), a as Body]),
  );
  for (const item of payload) {
    const score = byId.get(item.id)?.['aggregate_reward_score'];
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      return `The reward function ${arn} returned no numeric aggregate_reward_score for record ${item.id}: it must answer [{"id", "aggregate_reward_score"}] for each record it is sent.`;
    }
    scores.push(score);
  }
  const rewards: RewardRecord = {
    graderArn: arn,
    ids: payload.map((p) => p.id),
    scores,
    meanReward: round(scores.reduce((a, b) => a + b, 0) / scores.length),
  };
  job.rewards = rewards;
  return undefined;
}
