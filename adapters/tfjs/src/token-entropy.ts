import type { LinearEntropyOptions, LinearHeadOptions } from '@pref/core/backend';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-types';
import { chunkPre, chunkedHeadGradients, chunksOf, headLogits, linearChunkSize } from './linear-token-log-probs';

/** Entropy `H = −Σ p·log p` `[N]` and the row log-sum-exp `[N]` of `logits [N, V]` (call inside `tf.tidy`). */
export function tokenEntropyForward(tf: Tfjs, logits: TfTensor): { entropy: TfTensor; logSumExp: TfTensor } {
  const [rows] = logits.shape;
  const logSumExp = tf.logSumExp(logits, 1);
  const logp = tf.sub(logits, tf.reshape(logSumExp, [rows, 1]));
  return { entropy: tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)), logSumExp };
}

/** `−upstream·p·(log p + H)` `[N, V]` from the forward's residuals (call inside `tf.tidy`). */
export function tokenEntropyBackward(tf: Tfjs, logits: TfTensor, logSumExp: TfTensor, entropy: TfTensor, upstream: TfTensor): TfTensor {
  const [rows] = logits.shape;
  const logp = tf.sub(logits, tf.reshape(logSumExp, [rows, 1]));
  const weight = tf.mul(tf.exp(logp), tf.neg(tf.reshape(upstream, [rows, 1])));
  return tf.mul(weight, tf.add(logp, tf.reshape(entropy, [rows, 1])));
}

const headOf = (options: LinearEntropyOptions): LinearHeadOptions => ({ ...options, ignoreIndex: -100 });

/**
 * Entropy from hidden states chunk by chunk over V (chunked `tf.matMul`): an online log-sum-exp
 * with an online `Σ e^{z−m}(z−m)`, so the largest temporaries are `[N, C]`.
 */
export function linearTokenEntropyForward(
  tf: Tfjs,
  hidden: TfTensor,
  weight: TfTensor,
  bias: TfTensor | null,
  options: LinearEntropyOptions,
): { entropy: TfTensor; logSumExp: TfTensor } {
  const head = headOf(options);
  const [rows] = hidden.shape;
  const vocab = weight.shape[0];
  let state: TfTensor[] | null = null; // max, sum, dot (each [N])
  try {
    for (const chunk of chunksOf(vocab, linearChunkSize(rows, vocab, head))) {
      const prev: TfTensor[] | null = state;
      const next: TfTensor[] = tf.tidy((): TfTensor[] => {
        const { z } = headLogits(tf, chunkPre(tf, hidden, weight, bias, chunk).pre, head);
        const chunkMax = tf.max(z, 1);
        const max: TfTensor = prev ? tf.maximum(prev[0], chunkMax) : chunkMax;
        const shifted = tf.sub(z, tf.reshape(max, [rows, 1]));
        const e = tf.exp(shifted);
        const sc = tf.sum(e, 1);
        const dc = tf.sum(tf.mul(e, shifted), 1);
        if (!prev) return [max, sc, dc];
        const delta: TfTensor = tf.sub(prev[0], max);
        const a: TfTensor = tf.exp(delta);
        const dot = tf.add(tf.mul(a, tf.add(prev[2], tf.mul(delta, prev[1]))), dc);
        return [max, tf.add(tf.mul(a, prev[1]), sc), dot];
      });
      if (prev) tf.dispose(prev);
      state = next;
    }
    const final: TfTensor[] | null = state;
    return tf.tidy(() => {
      if (!final) return { entropy: tf.zeros([rows]), logSumExp: tf.fill([rows], -Infinity) };
      const logSum = tf.log(final[1]);
      return { entropy: tf.sub(logSum, tf.div(final[2], final[1])), logSumExp: tf.add(final[0], logSum) };
    });
  } finally {
    if (state) tf.dispose(state);
  }
}

/** Gradients of {@link linearTokenEntropyForward} for hidden, weight and bias, chunked like it. */
export function linearTokenEntropyBackward(
  tf: Tfjs,
  hidden: TfTensor,
  weight: TfTensor,
  bias: TfTensor | null,
  logSumExp: TfTensor,
  entropy: TfTensor,
  upstream: TfTensor,
  options: LinearEntropyOptions,
): { hidden: TfTensor; weight: TfTensor; bias: TfTensor | null } {
  const head = headOf(options);
  const [rows] = hidden.shape;
  const { negUp, lse, ent } = tf.tidy(() => ({
    negUp: tf.neg(tf.reshape(upstream, [rows, 1])),
    lse: tf.reshape(logSumExp, [rows, 1]),
    ent: tf.reshape(entropy, [rows, 1]),
  }));
  try {
    return chunkedHeadGradients(tf, hidden, weight, bias, head, (z) => {
      const logp = tf.sub(z, lse);
      return tf.mul(tf.mul(tf.exp(logp), negUp), tf.add(logp, ent));
    });
  } finally {
    tf.dispose([negUp, lse, ent]);
  }
}
