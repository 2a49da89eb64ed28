import type { LinearHeadOptions } from '@pref/core/backend';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-types';

/**
 * The hidden-state path on tfjs ops: `z = softcap(logitScale·(hidden·weightᵀ + bias))` one
 * vocabulary chunk at a time (`tf.matMul` of `hidden [N, H]` with a `[C, H]` slice of the
 * weight), with an online log-sum-exp, so no `[N, V]` tensor ever exists: the largest
 * temporaries are `[N, C]`. Each chunk runs in its own `tf.tidy`.
 */

/** Logits (floats) per chunk when the caller gives no `chunkSize`: `[N, C]` stays at 16 MiB or less. */
const CHUNK_ELEMENTS = 1 << 22;

/** Vocabulary rows per chunk: `options.chunkSize`, else as many as keep `[N, C]` under {@link CHUNK_ELEMENTS}. */
export function linearChunkSize(rows: number, vocab: number, options: LinearHeadOptions): number {
  const chosen = options.chunkSize ?? Math.floor(CHUNK_ELEMENTS / Math.max(rows, 1));
  return Math.max(1, Math.min(vocab, chosen));
}

interface Chunk {
  readonly start: number;
  readonly size: number;
}

export function chunksOf(vocab: number, size: number): Chunk[] {
  const chunks: Chunk[] = [];
  for (let start = 0; start < vocab; start += size) chunks.push({ start, size: Math.min(size, vocab - start) });
  return chunks;
}

/** `logitScale·(x + bias)` of logits before the softcap, and the softcap. */
export function headLogits(tf: Tfjs, pre: TfTensor, options: LinearHeadOptions): { scaled: TfTensor; z: TfTensor } {
  const scaled = options.logitScale === 1 ? pre : tf.mul(pre, tf.scalar(options.logitScale));
  const cap = options.softcap;
  const z = cap === null ? scaled : tf.mul(tf.tanh(tf.div(scaled, tf.scalar(cap))), tf.scalar(cap));
  return { scaled, z };
}

/** `hidden·weight[chunk]ᵀ + bias[chunk]` → `[N, C]`. */
export function chunkPre(
  tf: Tfjs,
  hidden: TfTensor,
  weight: TfTensor,
  bias: TfTensor | null,
  chunk: Chunk,
): { pre: TfTensor; rows: TfTensor } {
  const [vocab, size] = weight.shape as [number, number];
  const whole = chunk.start === 0 && chunk.size === vocab;
  const rows = whole ? weight : tf.slice(weight, [chunk.start, 0], [chunk.size, size]);
  const product = tf.matMul(hidden, rows, false, true);
  const pre = bias ? tf.add(product, whole ? bias : tf.slice(bias, [chunk.start], [chunk.size])) : product;
  return { pre, rows };
}

function counted(tf: Tfjs, labels: TfTensor, ignoreIndex: number): { isCounted: TfTensor; safe: TfTensor } {
  const isCounted = tf.notEqual(labels, tf.scalar(ignoreIndex, 'int32'));
  return { isCounted, safe: tf.where(isCounted, labels, tf.zerosLike(labels)) };
}

/** The logit of each row's label, `[N]`, from the label's weight row (O(N·H), not a chunk). */
function labelLogits(
  tf: Tfjs,
  hidden: TfTensor,
  weight: TfTensor,
  bias: TfTensor | null,
  safe: TfTensor,
  options: LinearHeadOptions,
): TfTensor {
  const dot = tf.sum(tf.mul(hidden, tf.gather(weight, safe)), 1);
  return headLogits(tf, bias ? tf.add(dot, tf.gather(bias, safe)) : dot, options).z;
}

/** Token log-probs `[N]` (0 where ignored) and the row log-sum-exp `[N]`. */
export function linearTokenLogProbsForward(
  tf: Tfjs,
  hidden: TfTensor,
  weight: TfTensor,
  bias: TfTensor | null,
  labels: TfTensor,
  options: LinearHeadOptions,
): { logps: TfTensor; logSumExp: TfTensor } {
  const [rows] = hidden.shape;
  const vocab = weight.shape[0];
  let max: TfTensor = tf.fill([rows], -Infinity, 'float32');
  let sum: TfTensor = tf.zeros([rows], 'float32');
  for (const chunk of chunksOf(vocab, linearChunkSize(rows, vocab, options))) {
    const [nextMax, nextSum] = tf.tidy(() => {
      const { z } = headLogits(tf, chunkPre(tf, hidden, weight, bias, chunk).pre, options);
      const chunkMax = tf.maximum(max, tf.max(z, 1));
      const rescaled = tf.mul(sum, tf.exp(tf.sub(max, chunkMax)));
      return [chunkMax, tf.add(rescaled, tf.sum(tf.exp(tf.sub(z, tf.reshape(chunkMax, [rows, 1]))), 1))];
    });
    max.dispose();
    sum.dispose();
    max = nextMax;
    sum = nextSum;
  }
  const result = tf.tidy(() => {
    const logSumExp = tf.add(max, tf.log(sum));
    const { isCounted, safe } = counted(tf, labels, options.ignoreIndex);
    const picked = labelLogits(tf, hidden, weight, bias, safe, options);
    return { logps: tf.where(isCounted, tf.sub(picked, logSumExp), tf.zerosLike(picked)), logSumExp };
  });
  max.dispose();
  sum.dispose();
  return result;
}

/**
 * Gradients for `hidden`, `weight` and `bias` from the forward's `logSumExp` and the upstream
 * gradient `[N]` of the log-probs, chunk by chunk ({@link chunkedHeadGradients}) with
 * `dz = u·(onehot − p)`, `p = exp(z − lse)`.
 */
export function linearTokenLogProbsBackward(
  tf: Tfjs,
  hidden: TfTensor,
  weight: TfTensor,
  bias: TfTensor | null,
  labels: TfTensor,
  logSumExp: TfTensor,
  upstream: TfTensor,
  options: LinearHeadOptions,
): { hidden: TfTensor; weight: TfTensor; bias: TfTensor | null } {
  const [rows] = hidden.shape;
  const { rowWeight, lse, column } = tf.tidy(() => {
    const isCounted = tf.notEqual(labels, tf.scalar(options.ignoreIndex, 'int32'));
    return {
      rowWeight: tf.reshape(tf.where(isCounted, upstream, tf.zerosLike(upstream)), [rows, 1]),
      lse: tf.reshape(logSumExp, [rows, 1]),
      column: tf.reshape(labels, [rows, 1]),
    };
  });
  try {
    return chunkedHeadGradients(tf, hidden, weight, bias, options, (z, chunk) => {
      const probs = tf.exp(tf.sub(z, lse));
      const ids = tf.reshape(tf.range(chunk.start, chunk.start + chunk.size, 1, 'int32'), [1, chunk.size]);
      return tf.mul(tf.sub(tf.cast(tf.equal(column, ids), 'float32'), probs), rowWeight);
    });
  } finally {
    tf.dispose([rowWeight, lse, column]);
  }
}

/**
 * The hidden, weight and bias gradients of a loss on `z = softcap(s·(h·Wᵀ + b))`, chunk by chunk
 * over the vocabulary: `dLogits(z, chunk)` is the loss's gradient for one chunk's `z` (called in a
 * `tf.tidy`); per chunk `dpre = s·c'(z)·dLogits` (`c'` the softcap's derivative),
 * `dHidden += dpre·W[chunk]`, `dWeight[chunk] = dpreᵀ·hidden`, `dBias[chunk] = Σ_n dpre`. The
 * weight and bias gradients are assembled from their chunks at the end (one concat).
 */
export function chunkedHeadGradients(
  tf: Tfjs,
  hidden: TfTensor,
  weight: TfTensor,
  bias: TfTensor | null,
  options: LinearHeadOptions,
  dLogits: (z: TfTensor, chunk: Chunk) => TfTensor,
): { hidden: TfTensor; weight: TfTensor; bias: TfTensor | null } {
  const [rows] = hidden.shape;
  const vocab = weight.shape[0];
  let dHidden: TfTensor = tf.zeros(hidden.shape, 'float32');
  const dWeight: TfTensor[] = [];
  const dBias: TfTensor[] = [];
  try {
    for (const chunk of chunksOf(vocab, linearChunkSize(rows, vocab, options))) {
      const step = tf.tidy((): Record<string, TfTensor> => {
        const { pre, rows: weightRows } = chunkPre(tf, hidden, weight, bias, chunk);
        const { z } = headLogits(tf, pre, options);
        let dz = dLogits(z, chunk);
        if (options.softcap !== null) dz = tf.mul(dz, tf.sub(tf.scalar(1), tf.square(tf.div(z, tf.scalar(options.softcap)))));
        const dPre = options.logitScale === 1 ? dz : tf.mul(dz, tf.scalar(options.logitScale));
        return {
          hidden: tf.add(dHidden, tf.matMul(dPre, weightRows)),
          weight: tf.matMul(dPre, hidden, true, false),
          ...(bias ? { bias: tf.sum(dPre, 0) } : {}),
        };
      });
      dHidden.dispose();
      dHidden = step.hidden;
      dWeight.push(step.weight);
      if (step.bias) dBias.push(step.bias);
    }
    const weightGrad = dWeight.length === 1 ? dWeight.pop()! : tf.concat(dWeight, 0);
    const biasGrad = bias ? (dBias.length === 1 ? dBias.pop()! : tf.concat(dBias, 0)) : null;
    return { hidden: dHidden, weight: weightGrad, bias: biasGrad };
  } catch (error) {
    dHidden.dispose();
    throw error;
  } finally {
    tf.dispose([...dWeight, ...dBias]);
  }
}
