import type * as TfCore from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-module';

/**
 * Token-mean negative log-likelihood of the labelled tokens (`-100` = not counted) under
 * `logits [B, T, V]`: the supervised fine-tuning loss.
 */
export function tokenMeanNll(tf: Tfjs, logits: TfCore.Tensor3D, labels: readonly (readonly number[])[]): TfCore.Scalar {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const flat = new Int32Array(B * T);
    const counted = new Float32Array(B * T);
    labels.forEach((row, b) =>
      row.forEach((label, t) => {
        if (label >= 0) {
          flat[b * T + t] = label;
          counted[b * T + t] = 1;
        }
      }),
    );
    const total = counted.reduce((s, c) => s + c, 0);
    if (total === 0) throw new Error('tokenMeanNll: no labelled tokens in the batch');
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.tensor2d(flat, [B, T], 'int32'), V)), -1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, tf.tensor2d(counted, [B, T])))), total) as TfCore.Scalar;
  });
}
