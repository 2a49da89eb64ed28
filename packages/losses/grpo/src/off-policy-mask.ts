import type { Tensor, TensorOps } from '@pref/core';

/**
 * DeepSeek-V3.2's off-policy sequence mask (DeepSeek-AI, "DeepSeek-V3.2", 2025, Eq. 9; TRL
 * `off_policy_mask_threshold`): a row is dropped when its advantage is negative and the mean
 * over its counted tokens of `l_sampler − l` (detached) exceeds `threshold`. `samplerLogps`
 * (or the old log-probs), `logps`, `mask` `[N, T]`, `advantages` `[N, 1]`; returns `[N, 1]` 0/1.
 */
export function offPolicyMask(
  ops: TensorOps,
  logps: Tensor,
  samplerLogps: Tensor,
  mask: Tensor,
  advantages: Tensor,
  threshold: number,
): Tensor {
  const gap = ops.where(mask, ops.sub(samplerLogps, ops.stopGradient(logps)), 0);
  const meanGap = ops.div(ops.sum(gap, 1, true), ops.maximum(ops.sum(mask, 1, true), 1));
  const keep = ops.add(ops.greaterEqual(advantages, 0), ops.lessEqual(meanGap, threshold));
  return ops.greater(keep, 0);
}
