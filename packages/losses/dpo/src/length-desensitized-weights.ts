import type { Tensor, TensorOps } from '@pref/core';

/**
 * Completion-relative position of every token `[N, T]`: at a counted token, how many counted
 * tokens of its row come up to and including it (1, 2, ...). A prefix sum of the mask by
 * doubling (log₂T shifted adds), written in `TensorOps` so it runs on any backend.
 */
export function completionPositions(ops: TensorOps, mask: Tensor): Tensor {
  const [rows, steps] = mask.shape;
  let positions = mask;
  for (let shift = 1; shift < steps; shift *= 2) {
    const shifted = ops.concat([ops.fill([rows, shift], 0), ops.slice(positions, [0, 0], [rows, steps - shift])], 1);
    positions = ops.add(positions, shifted);
  }
  return positions;
}

/**
 * LD-DPO token weights `[N, T]` (Liu et al. 2024, "Length Desensitization in Direct Preference
 * Optimization", arXiv 2409.06411): 1 for the first `commonLength` counted tokens of a row, `alpha` after.
 * `commonLength` `[N]` is `min(n_w, n_l)` of the pair. No gradient.
 */
export function lengthDesensitizedWeights(ops: TensorOps, mask: Tensor, commonLength: Tensor, alpha: number): Tensor {
  const positions = completionPositions(ops, mask);
  const withinCommon = ops.lessEqual(positions, ops.reshape(commonLength, [mask.shape[0], 1]));
  return ops.where(withinCommon, ops.fill(mask.shape, 1), alpha);
}

/** `Σ_t m·w·l` per row `[N]`; masked-out values are selected away before weighting. */
export function weightedSequenceSum(ops: TensorOps, values: Tensor, mask: Tensor, weights: Tensor | null): Tensor {
  const counted = ops.where(mask, values, 0);
  return ops.sum(weights ? ops.mul(counted, weights) : counted, 1);
}
