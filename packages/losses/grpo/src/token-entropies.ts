import type { Tensor, TensorOps } from '@pref/core';

/**
 * Shannon entropy (nats) of each token's distribution, `H = −Σ_v p_v·log p_v` with
 * `p = softmax(logits)`, from logits `[N, T, V]` to `[N, T]`, differentiable. Forms `[N, T, V]`
 * temporaries (a fused kernel that does not is the hidden-state path's business).
 */
export function tokenEntropies(ops: TensorOps, logits: Tensor): Tensor {
  const shifted = ops.sub(logits, ops.stopGradient(ops.max(logits, 2, true)));
  const logProbs = ops.sub(shifted, ops.log(ops.sum(ops.exp(shifted), 2, true)));
  return ops.neg(ops.sum(ops.mul(ops.exp(logProbs), logProbs), 2));
}
