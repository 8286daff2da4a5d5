/**
 * An example RFT reward function (grader) for Amazon Bedrock reinforcement fine-tuning: Bedrock
 * invokes it with the records it sampled, each with the model's answer appended to `messages`
 * and the record's other fields under `metadata` (Bedrock user guide, "Setting up reward
 * functions for Amazon Nova models"), and expects an `aggregate_reward_score` per record id.
 *
 * This one rewards an answer that contains the record's `reference_answer` (1) and anything else
 * with 0. Deploy it as a Lambda function, list its ARN in the stage parameter
 * rftGraderLambdaArns, and name it in the sidecar's customizationConfig.rftConfig.
 */
interface GraderRecord {
  id: string;
  messages: Array<{ role: string; content: string }>;
  metadata?: { reference_answer?: unknown };
}

export async function handler(records: GraderRecord[]) {
  return records.map((r) => {
    const answer = [...r.messages].reverse().find((m) => m.role === 'assistant')?.content ?? '';
    const reference = r.metadata?.reference_answer;
    const expected = typeof reference === 'string' ? reference : JSON.stringify(reference ?? '');
    const score = expected !== '' && answer.includes(expected) ? 1 : 0;
    return { id: r.id, aggregate_reward_score: score, metrics_list: [{ name: 'exact_match', value: score, type: 'Reward' }] };
  });
}
