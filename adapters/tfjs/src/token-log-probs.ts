import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-types';

/**
 * Fused token log-probs on tfjs kernels, for `logits [N, V]` and int `labels [N]`.
 * The forward materialises two `[N, V]` temporaries (shifted logits and their exponentials,
 * for the log-sum-exp); the gradient, from the forward's log-sum-exp, five (shifted logits,
 * softmax, one-hot as int and as float, one-hot − softmax) besides its result. Each is released
 * as soon as it is used, so at most two (forward) or three (gradient, with its result) are
 * alive at once. Call inside `tf.tidy`.
 */

/** Labels other than the ignore index (bool `[N]`), and the labels with it replaced by 0 (safe to index with). */
function countedLabels(tf: Tfjs, labels: TfTensor, ignoreIndex: number): { counted: TfTensor; safe: TfTensor } {
  const counted = tf.notEqual(labels, tf.scalar(ignoreIndex, 'int32'));
  return { counted, safe: tf.where(counted, labels, tf.zerosLike(labels)) };
}

/** `log Σ_v exp(z_v)` of each row of `[N, V]` logits → `[N]`. */
export function rowLogSumExp(tf: Tfjs, logits: TfTensor): TfTensor {
  const max = tf.max(logits, 1, true);
  const shifted = tf.sub(logits, max);
  const exps = tf.exp(shifted);
  shifted.dispose();
  const sums = tf.sum(exps, 1);
  exps.dispose();
  return tf.add(tf.log(sums), tf.reshape(max, [logits.shape[0]]));
}

/** `logits[label] − logsumexp(logits)`, 0 where `label == ignoreIndex`, and the log-sum-exp `[N]`. */
export function tokenLogProbsForward(
  tf: Tfjs,
  logits: TfTensor,
  labels: TfTensor,
  ignoreIndex: number,
): { logps: TfTensor; logSumExp: TfTensor } {
  const [rows, vocab] = logits.shape;
  const { counted, safe } = countedLabels(tf, labels, ignoreIndex);
  const logSumExp = rowLogSumExp(tf, logits);
  const flatIndex = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32')), safe);
  const picked = tf.gather(tf.reshape(logits, [rows * vocab]), flatIndex);
  const logps = tf.where(counted, tf.sub(picked, logSumExp), tf.zerosLike(picked));
  return { logps, logSumExp };
}

/** `upstream · (onehot(label) − exp(logits − logSumExp))`, zero rows where ignored; `[N, V]`. */
export function tokenLogProbsBackward(
  tf: Tfjs,
  logits: TfTensor,
  labels: TfTensor,
  logSumExp: TfTensor,
  upstream: TfTensor,
  ignoreIndex: number,
): TfTensor {
  const [rows, vocab] = logits.shape;
  const { counted, safe } = countedLabels(tf, labels, ignoreIndex);
  const weight = tf.reshape(tf.where(counted, upstream, tf.zerosLike(upstream)), [rows, 1]);
  const shifted = tf.sub(logits, tf.reshape(logSumExp, [rows, 1]));
  const probs = tf.exp(shifted);
  shifted.dispose();
  const hotInt = tf.oneHot(safe, vocab);
  const hot = tf.cast(hotInt, 'float32'); // wasm's OneHot ignores a float dtype, so cast
  hotInt.dispose();
  const difference = tf.sub(hot, probs);
  hot.dispose();
  probs.dispose();
  const grad = tf.mul(difference, weight);
  difference.dispose();
  return grad;
}
