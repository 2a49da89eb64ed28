import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-types';

/**
 * Fused token log-probs on tfjs kernels. Logits are viewed as `[R, V]` (R = every position).
 * The forward pass materialises two `[R, V]` temporaries (shifted logits and their exponentials,
 * for the log-sum-exp), the gradient five (shifted logits, softmax, one-hot as int and as float,
 * one-hot − softmax) besides its result; each is released as soon as it is used, so at most two
 * (forward) or three (gradient, with its result) are alive at once.
 * Call inside `tf.tidy`.
 */

interface Rows {
  readonly logits: TfTensor;
  readonly labels: TfTensor;
  /** Labels other than the ignore index, as bool `[R]`. */
  readonly counted: TfTensor;
  /** Labels with the ignore index replaced by 0 (safe to index with). */
  readonly safeLabels: TfTensor;
}

function asRows(tf: Tfjs, logits: TfTensor, labels: TfTensor, ignoreIndex: number): Rows {
  const vocab = logits.shape[logits.rank - 1];
  const rows = labels.size;
  const flatLabels = tf.reshape(labels, [rows]);
  const counted = tf.notEqual(flatLabels, tf.scalar(ignoreIndex, 'int32'));
  return {
    logits: tf.reshape(logits, [rows, vocab]),
    labels: flatLabels,
    counted,
    safeLabels: tf.where(counted, flatLabels, tf.zerosLike(flatLabels)),
  };
}

/** `log Σ_v exp(z_v)` of each row of `[R, V]` logits → `[R]`. */
export function rowLogSumExp(tf: Tfjs, logits2d: TfTensor): TfTensor {
  const max = tf.max(logits2d, 1, true);
  const shifted = tf.sub(logits2d, max);
  const exps = tf.exp(shifted);
  shifted.dispose();
  const sums = tf.sum(exps, 1);
  exps.dispose();
  return tf.add(tf.log(sums), tf.reshape(max, [logits2d.shape[0]]));
}

/** `logits[label] − logsumexp(logits)`, 0 where `label == ignoreIndex`; also returns the log-sum-exp `[R]`. */
export function tokenLogProbsForward(
  tf: Tfjs,
  logits: TfTensor,
  labels: TfTensor,
  ignoreIndex: number,
): { logps: TfTensor; logSumExp: TfTensor } {
  const rows = asRows(tf, logits, labels, ignoreIndex);
  const [count, vocab] = rows.logits.shape;
  const logSumExp = rowLogSumExp(tf, rows.logits);
  const flatIndex = tf.add(tf.mul(tf.range(0, count, 1, 'int32'), tf.scalar(vocab, 'int32')), rows.safeLabels);
  const picked = tf.gather(tf.reshape(rows.logits, [count * vocab]), flatIndex);
  const logps = tf.where(rows.counted, tf.sub(picked, logSumExp), tf.zerosLike(picked));
  return { logps: tf.reshape(logps, labels.shape), logSumExp };
}

/** `upstream · (onehot(label) − softmax(logits))`, zero rows where ignored; `[..., V]` like `logits`. */
export function tokenLogProbsBackward(
  tf: Tfjs,
  logits: TfTensor,
  labels: TfTensor,
  upstream: TfTensor,
  ignoreIndex: number,
  logSumExp?: TfTensor,
): TfTensor {
  const rows = asRows(tf, logits, labels, ignoreIndex);
  const [count, vocab] = rows.logits.shape;
  const lse = logSumExp ?? rowLogSumExp(tf, rows.logits);
  const flatUpstream = tf.reshape(upstream, [count]);
  const weight = tf.reshape(tf.where(rows.counted, flatUpstream, tf.zerosLike(flatUpstream)), [count, 1]);
  const shifted = tf.sub(rows.logits, tf.reshape(lse, [count, 1]));
  const probs = tf.exp(shifted);
  shifted.dispose();
  const hotInt = tf.oneHot(rows.safeLabels, vocab);
  const hot = tf.cast(hotInt, 'float32'); // wasm's OneHot ignores a float dtype, so cast
  hotInt.dispose();
  const difference = tf.sub(hot, probs);
  hot.dispose();
  probs.dispose();
  const grad = tf.mul(difference, weight);
  difference.dispose();
  return tf.reshape(grad, logits.shape);
}
