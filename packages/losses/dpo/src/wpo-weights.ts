import { type SequenceTensors, type Tensor, type TensorOps } from '@pref/core';

/** `log Σ_v exp(x_v)` over the last axis of `[N, T, V]`, max-shifted; no gradient. */
function logSumExp(ops: TensorOps, x: Tensor): Tensor {
  const [rows, steps] = x.shape;
  const peak = ops.max(x, 2, true);
  const summed = ops.sum(ops.exp(ops.sub(x, peak)), 2);
  return ops.add(ops.log(summed), ops.reshape(peak, [rows, steps]));
}

/**
 * WPO sequence weight `[N]` (Zhou et al. 2024, "WPO: Enhancing RLHF with Weighted Preference
 * Optimization", arXiv 2406.11827; the sampled-distribution alignment form, as in TRL HEAD):
 * `w(y) = exp( (1/n) Σ_t m_t [ l_t − log Σ_v p_t(v)² ] )`, `log Σ_v p² = lse(2z) − 2·lse(z)`.
 * Detached. Needs the logits path (`side.logits`; DPO_INPUTS' `logitsWhen` guarantees it).
 */
export function wpoSequenceWeights(ops: TensorOps, side: SequenceTensors): Tensor {
  const logits = ops.stopGradient(side.logits!);
  const logSumSquares = ops.sub(logSumExp(ops, ops.mul(logits, 2)), ops.mul(logSumExp(ops, logits), 2));
  const perToken = ops.sub(ops.stopGradient(side.logps), logSumSquares);
  const meanPerRow = ops.div(ops.sum(ops.where(side.mask, perToken, 0), 1), ops.sum(side.mask, 1));
  return ops.exp(meanPerRow);
}
