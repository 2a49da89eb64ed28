import type * as TfCore from '@tensorflow/tfjs-core';
import type { AnyObjective, ObjectiveState, PrefBackend } from '@pref/core';
import { tfjsLoss } from '@pref/adapter-tfjs';
import type { Tfjs } from './tfjs-module';
import type { CausalLm } from './causal-lm';
import type { PreferencePair } from './arithmetic-task';
import { buildSequenceBatch } from './sequence-batch';
import { summedLogProbs } from './completion-log-probs';
import { createBatchSampler } from './batch-sampler';
import { LOSS_INPUTS, type LossInputKind } from './loss-input';

/** One preference-optimisation step, measured the same way for every objective. */
export interface PreferenceStepLog {
  readonly step: number;
  readonly loss: number;
  /** Batch mean of the summed log-prob of the chosen answer (with `<eos>`). */
  readonly chosenLogp: number;
  /** Batch mean of the summed log-prob of the rejected answer. */
  readonly rejectedLogp: number;
  /** `chosenLogp − rejectedLogp`. */
  readonly margin: number;
  /** Fraction of the batch's pairs whose chosen answer has the higher summed log-prob. */
  readonly accuracy: number;
  /** Wall time of the step (forward, backward, update), milliseconds. */
  readonly milliseconds: number;
  /** The objective's own metrics (TRL names: `rewards/margins`, ...). */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface PreferenceStageOptions {
  readonly backend: PrefBackend;
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly sequenceSteps: number;
  /** Seed of the batch order: the same for every objective, so all see the same batches. */
  readonly seed: number;
  /** Summed log-probs of each pair under the frozen SFT model, by pair index (objectives with reference inputs). */
  readonly referenceSums?: { readonly chosen: Float32Array; readonly rejected: Float32Array };
  /** What the loss reads from the model (default `logits`; see {@link LOSS_INPUTS}). */
  readonly lossInput?: LossInputKind;
  readonly onStep?: (log: PreferenceStepLog) => void | Promise<void>;
}

/**
 * Stage 2 for one objective: Adam on the objective's loss, computed by `tfjsLoss` from the
 * model's outputs (its logits, or whatever {@link LOSS_INPUTS} builds for `lossInput`) so
 * gradients reach the model's variables through tfjs's autodiff. Stateful objectives (LMPO)
 * get their state back each step.
 */
export async function runPreferenceStage(
  tf: Tfjs,
  model: CausalLm,
  objective: AnyObjective,
  params: Readonly<Record<string, unknown>>,
  pairs: readonly PreferencePair[],
  options: PreferenceStageOptions,
): Promise<PreferenceStepLog[]> {
  const optimizer = tf.train.adam(options.learningRate);
  const sample = createBatchSampler(
    pairs.map((_, i) => i),
    options.batchSize,
    options.seed,
  );
  const lossInputs = LOSS_INPUTS[options.lossInput ?? 'logits'];
  if (!lossInputs) throw new RangeError(`unknown loss input ${String(options.lossInput)}; known: ${Object.keys(LOSS_INPUTS).join(', ')}`);
  const logs: PreferenceStepLog[] = [];
  let state: ObjectiveState | null = null;
  try {
    for (let step = 1; step <= options.steps; step++) {
      const indices = sample();
      const B = indices.length;
      const rows = [
        ...indices.map((i) => ({ prompt: pairs[i].prompt, completion: pairs[i].chosen })),
        ...indices.map((i) => ({ prompt: pairs[i].prompt, completion: pairs[i].rejected })),
      ];
      const batch = buildSequenceBatch(rows, options.sequenceSteps);
      const reference = options.referenceSums
        ? {
            refChosenLogps: indices.map((i) => options.referenceSums!.chosen[i]),
            refRejectedLogps: indices.map((i) => options.referenceSums!.rejected[i]),
          }
        : {};
      const started = performance.now();
      let metrics: Record<string, TfCore.Scalar> = {};
      let sums: TfCore.Tensor | null = null;
      let nextState: Promise<ObjectiveState | null> = Promise.resolve(null);
      const loss = optimizer.minimize(
        () => {
          const inputs = lossInputs(tf, model, batch, B);
          const result = tfjsLoss(objective, { ...inputs.batch, ...reference }, params, { backend: options.backend, state });
          metrics = Object.fromEntries(Object.entries(result.metrics).map(([name, value]) => [name, tf.keep(value)]));
          sums = tf.keep(summedLogProbs(tf, inputs.logits, batch.labels));
          nextState = result.state;
          return result.loss;
        },
        true,
        model.variables as TfCore.Variable[],
      )!;
      const lossValue = (await loss.data())[0];
      const milliseconds = performance.now() - started;
      state = objective.stateful ? await nextState : null;
      const sumValues = (await sums!.data()) as Float32Array;
      const metricValues: Record<string, number> = {};
      for (const [name, value] of Object.entries(metrics)) metricValues[name] = (await value.data())[0];
      [loss, sums!, ...Object.values(metrics)].forEach((t) => t.dispose());
      let chosen = 0;
      let rejected = 0;
      let wins = 0;
      for (let b = 0; b < B; b++) {
        chosen += sumValues[b];
        rejected += sumValues[B + b];
        wins += Number(sumValues[b] > sumValues[B + b]);
      }
      const log: PreferenceStepLog = {
        step,
        loss: lossValue,
        chosenLogp: chosen / B,
        rejectedLogp: rejected / B,
        margin: (chosen - rejected) / B,
        accuracy: wins / B,
        milliseconds,
        metrics: metricValues,
      };
      logs.push(log);
      await options.onStep?.(log);
    }
  } finally {
    optimizer.dispose();
  }
  return logs;
}
