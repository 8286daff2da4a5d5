/**
 * The numbers a simulated job reports, derived from the bytes of its data so the same data always
 * gives the same curve: the step-wise training metrics CSV and, with validation data, the
 * validation metrics CSV, in the columns Bedrock writes (model-customization-analyze).
 */
import { createHash } from 'node:crypto';
import { seededRandom } from '../../core/random';
import type { JobRecord } from './model';

export function seedOf(data: Buffer): number {
  return createHash('sha256').update(data).digest().readUInt32BE(0);
}

export function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

export interface SimulatedMetrics {
  trainingCsv: string;
  trainingLoss: number;
  validationCsv: string | undefined;
  validationLoss: number | undefined;
}

export function simulateMetrics(job: JobRecord): SimulatedMetrics {
  const epochs = Number(job.hyperParameters['epochCount'] ?? '2');
  const batch = Number(job.hyperParameters['batchSize'] ?? '1');
  const stepsPerEpoch = Math.min(50, Math.max(1, Math.ceil((job.recordCount ?? 1) / batch)));
  const total = epochs * stepsPerEpoch;
  const rand = seededRandom(job.dataSeed ?? 1);
  const start = 1.8 + rand();
  const floor = start * (0.2 + rand() * 0.15);
  const lossAt = (step: number) => floor + (start - floor) * Math.exp((-4 * step) / Math.max(1, total - 1));

  const trainingRows = ['step_number,epoch_number,training_loss,perplexity'];
  let trainingLoss = start;
  for (let step = 0; step < total; step++) {
    // Noise shrinks as training converges, so the curve stays plausibly downward.
    const noise = (rand() - 0.5) * 0.06 * lossAt(step) * (1 - step / total);
    trainingLoss = round(Math.max(0.01, lossAt(step) + noise));
    trainingRows.push(
      `${step},${Math.floor(step / stepsPerEpoch)},${trainingLoss},${round(Math.exp(trainingLoss))}`,
    );
  }

  let validationCsv: string | undefined;
  let validationLoss: number | undefined;
  if (job.validationSeed !== undefined) {
    const vrand = seededRandom(job.validationSeed ^ (job.dataSeed ?? 0));
    const rows = ['step_number,epoch_number,validation_loss,validation_perplexity'];
    for (let epoch = 0; epoch < epochs; epoch++) {
      const step = (epoch + 1) * stepsPerEpoch - 1;
      validationLoss = round(lossAt(step) * (1.04 + vrand() * 0.1));
      rows.push(`${step},${epoch},${validationLoss},${round(Math.exp(validationLoss))}`);
    }
    validationCsv = `${rows.join('\n')}\n`;
  }
  return { trainingCsv: `${trainingRows.join('\n')}\n`, trainingLoss, validationCsv, validationLoss };
}
