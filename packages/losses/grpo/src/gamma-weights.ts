import type { Tensor, TensorOps } from '@pref/core';

/** VESPO's Gamma-weight shape per advantage sign (TRL `vespo_k_pos`, ...). */
export interface GammaWeightShape {
  readonly kPositive: number;
  readonly lambdaPositive: number;
  readonly kNegative: number;
  readonly lambdaNegative: number;
}

/** `log 1e-8`, the lower clamp of VESPO's log-weights (as the reference implementation). */
const LOG_WEIGHT_FLOOR = Math.log(1e-8);
/** Upper clamp of VESPO's per-token log-ratios and log-weights. */
const LOG_WEIGHT_CEILING = 20;

/**
 * VESPO's detached sequence weights `φ(w) = exp(λ + k·log w − λ·w)` `[N, 1]` (Gamma weighting,
 * normalized so that `φ(1) = 1`; "VESPO: Variational Sequence-Level Soft Policy Optimization",
 * arXiv 2602.10693), with `log w = clamp(Σ_t m·clamp(l − l_old, −20, 20) + Σ_t clamp(log ρ_IS,
 * log 1e-8, 20), log 1e-8, 20)` and `(k, λ)` by the sign of the advantage (`A ≥ 0`: positive).
 * `logRatio`, `mask` `[N, T]`, `advantages` `[N, 1]`; `samplerLogWeights` `[N, T]` or `[N, 1]`
 * (the log of the sampler importance weights), optional.
 */
export function gammaWeights(
  ops: TensorOps,
  logRatio: Tensor,
  mask: Tensor,
  advantages: Tensor,
  samplerLogWeights: Tensor | null,
  shape: GammaWeightShape,
): Tensor {
  const clampLog = (x: Tensor, low: number) => ops.minimum(ops.maximum(x, low), LOG_WEIGHT_CEILING);
  const tokenLogRatio = clampLog(ops.stopGradient(logRatio), -LOG_WEIGHT_CEILING);
  let sequenceLogRatio = ops.sum(ops.where(mask, tokenLogRatio, 0), 1, true);
  if (samplerLogWeights) {
    sequenceLogRatio = ops.add(sequenceLogRatio, ops.sum(clampLog(samplerLogWeights, LOG_WEIGHT_FLOOR), 1, true));
  }
  const logWeight = clampLog(sequenceLogRatio, LOG_WEIGHT_FLOOR);
  const nonNegative = ops.greaterEqual(advantages, 0);
  const k = ops.where(nonNegative, shape.kPositive, shape.kNegative);
  const lambda = ops.where(nonNegative, Math.max(shape.lambdaPositive, 1e-4), Math.max(shape.lambdaNegative, 1e-4));
  const logPhi = ops.sub(ops.add(lambda, ops.mul(k, logWeight)), ops.mul(lambda, ops.exp(logWeight)));
  return ops.stopGradient(ops.exp(logPhi));
}
