import type { Tensor, TensorOps } from '@pref/core';

/**
 * Shannon entropy (nats) of each token's distribution, `H = −Σ_v p_v·log p_v` with
 * `p = softmax(logits)`, from logits `[N, T, V]` to `[N, T]`, differentiable: the backend's
 * fused `tokenEntropy` (no `[N, T, V]` temporaries besides its gradient).
 */
export function tokenEntropies(ops: TensorOps, logits: Tensor): Tensor {
  return ops.tokenEntropy(logits);
}
