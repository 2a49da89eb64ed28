import type * as TfCore from '@tensorflow/tfjs-core';
import type { Batch } from '@pref/core';
import type { Tfjs } from './tfjs-module';
import type { CausalLm } from './causal-lm';
import type { SequenceBatch } from './sequence-batch';

/**
 * What the objective's loss reads from the model in stage 2. `logits`: the model's logits
 * `[B, T, V]` with labels. `hidden`: the last hidden states `[B, T, H]` with the LM head's weight
 * `[V, H]` as `lmHead` (`@pref/core`'s hidden-state path: the loss computes the token log-probs
 * chunk by chunk over the vocabulary and never holds `[B, T, V]` logits; gradients reach the
 * hidden states and the head's weight).
 */
export type LossInputKind = 'logits' | 'hidden';

/** The loss inputs of one step, built on tfjs's tape inside `optimizer.minimize`. */
export interface PairLossInputs {
  /** The sequence inputs of the objective for the chosen rows `[0, B)` and rejected rows `[B, 2B)` (reference inputs are added by the caller). */
  readonly batch: Batch;
  /**
   * Logits `[2B, T, V]` for the step's logged log-prob sums. On the logits path these are the
   * loss's own logits; on the hidden path they are `hidden · weightᵀ`, computed only for the log
   * (not part of the loss, so no gradient flows through them).
   */
  readonly logits: TfCore.Tensor3D;
}

/** Builds the loss inputs of a step from the model and its `2B`-row batch (chosen rows, then rejected). */
export type LossInputBuilder = (tf: Tfjs, model: CausalLm, batch: SequenceBatch, pairs: number) => PairLossInputs;

export const LOSS_INPUTS: Readonly<Record<LossInputKind, LossInputBuilder>> = {
  logits: (tf, model, batch, B) => {
    const T = batch.steps;
    const V = model.shape.vocabularySize;
    const logits = model.logits(batch.tokens, 2 * B, T);
    return {
      logits,
      batch: {
        chosenLogits: tf.slice(logits, [0, 0, 0], [B, T, V]),
        chosenLabels: batch.labels.slice(0, B),
        rejectedLogits: tf.slice(logits, [B, 0, 0], [B, T, V]),
        rejectedLabels: batch.labels.slice(B),
      },
    };
  },
  hidden: (tf, model, batch, B) => {
    const T = batch.steps;
    const V = model.shape.vocabularySize;
    const hidden = model.hidden(batch.tokens, 2 * B, T);
    const H = hidden.shape[2];
    const weight = model.headWeight();
    const logits = tf.reshape(tf.matMul(tf.reshape(hidden, [2 * B * T, H]), weight, false, true), [2 * B, T, V]) as TfCore.Tensor3D;
    return {
      logits,
      batch: {
        chosenHidden: tf.slice(hidden, [0, 0, 0], [B, T, H]),
        chosenLabels: batch.labels.slice(0, B),
        rejectedHidden: tf.slice(hidden, [B, 0, 0], [B, T, H]),
        rejectedLabels: batch.labels.slice(B),
        lmHead: { weight },
      },
    };
  },
};

export const LOSS_INPUT_KINDS = Object.keys(LOSS_INPUTS) as LossInputKind[];

/** What `pref align` trains through unless told otherwise: the hidden-state path. */
export const DEFAULT_LOSS_INPUT: LossInputKind = 'hidden';
