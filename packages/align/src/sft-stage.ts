import type * as TfCore from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-module';
import type { CausalLm } from './causal-lm';
import type { ArithmeticExample } from './arithmetic-task';
import { buildSequenceBatch } from './sequence-batch';
import { tokenMeanNll } from './token-nll';
import { createBatchSampler } from './batch-sampler';

export interface SftStageOptions {
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Model input steps every row fits in. */
  readonly sequenceSteps: number;
  readonly seed: number;
  /** Called after each step with the step (1-based) and its loss. */
  readonly onStep?: (step: number, loss: number) => void;
}

/** Stage 1: supervised fine-tuning (token-mean NLL of answer and `<eos>`) with Adam. Returns the loss per step. */
export async function runSftStage(
  tf: Tfjs,
  model: CausalLm,
  examples: readonly ArithmeticExample[],
  options: SftStageOptions,
): Promise<number[]> {
  const optimizer = tf.train.adam(options.learningRate);
  const sample = createBatchSampler(examples, options.batchSize, options.seed);
  const losses: number[] = [];
  try {
    for (let step = 1; step <= options.steps; step++) {
      const rows = sample().map((e) => ({ prompt: e.prompt, completion: e.answer }));
      const batch = buildSequenceBatch(rows, options.sequenceSteps);
      const loss = optimizer.minimize(
        () => tokenMeanNll(tf, model.logits(batch.tokens, batch.rows, batch.steps), batch.labels),
        true,
        model.variables as TfCore.Variable[],
      )!;
      const value = (await loss.data())[0];
      loss.dispose();
      losses.push(value);
      options.onStep?.(step, value);
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}
