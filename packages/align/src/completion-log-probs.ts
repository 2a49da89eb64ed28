import type * as TfCore from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-module';
import type { CausalLm } from './causal-lm';
import type { PreferencePair } from './arithmetic-task';
import { buildSequenceBatch } from './sequence-batch';

/** Per-row sums of the labelled tokens' log-probs (`-100` = not counted) under `logits [B, T, V]`: `[B]`. */
export function summedLogProbs(tf: Tfjs, logits: TfCore.Tensor3D, labels: readonly (readonly number[])[]): TfCore.Tensor1D {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const oneHot = new Float32Array(B * T * V);
    labels.forEach((row, b) =>
      row.forEach((label, t) => {
        if (label >= 0) oneHot[(b * T + t) * V + label] = 1;
      }),
    );
    return tf.sum(tf.mul(tf.logSoftmax(logits), tf.tensor3d(oneHot, [B, T, V])), [1, 2]) as TfCore.Tensor1D;
  });
}

/** Summed log-prob of each completion given its prompt under `model`, in chunks (no gradient). */
export async function completionLogProbs(
  tf: Tfjs,
  model: CausalLm,
  rows: readonly { prompt: string; completion: string }[],
  steps: number,
  chunkSize = 512,
): Promise<Float32Array> {
  const out = new Float32Array(rows.length);
  for (let start = 0; start < rows.length; start += chunkSize) {
    const batch = buildSequenceBatch(rows.slice(start, start + chunkSize), steps);
    const sums = tf.tidy(() => summedLogProbs(tf, model.logits(batch.tokens, batch.rows, batch.steps), batch.labels));
    out.set((await sums.data()) as Float32Array, start);
    sums.dispose();
  }
  return out;
}

/** Summed log-probs of each pair's chosen and rejected answer, from forwards over both (chosen rows, then rejected). */
export async function pairLogProbs(
  tf: Tfjs,
  model: CausalLm,
  pairs: readonly PreferencePair[],
  steps: number,
): Promise<{ chosen: Float32Array; rejected: Float32Array }> {
  const sums = await completionLogProbs(
    tf,
    model,
    [
      ...pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen })),
      ...pairs.map((p) => ({ prompt: p.prompt, completion: p.rejected })),
    ],
    steps,
  );
  return { chosen: sums.slice(0, pairs.length), rejected: sums.slice(pairs.length) };
}
