import type { Tensor, TensorOps } from '@pref/core';

/** The PPO clipped surrogate loss and where its clip binds. */
export interface ClippedSurrogate {
  /** `−min(ρ̃·A, clip(ρ, 1−ε_low, 1+ε_high)·A)`, `ρ̃ = min(ρ, δ)` with two-sided clipping, else ρ. */
  readonly loss: Tensor;
  /** 1 where `ρ̃ < 1 − ε_low` and `A < 0` (the lower clip is active), else 0. No gradient. */
  readonly lowClipped: Tensor;
  /** 1 where `ρ̃ > 1 + ε_high` and `A > 0` (the upper clip is active), else 0. No gradient. */
  readonly highClipped: Tensor;
}

/**
 * PPO's clipped surrogate (Schulman et al. 2017, Eq. 7) with asymmetric bounds (DAPO's
 * clip-higher) and, when `delta` is a number, INTELLECT-2's two-sided clipping (Prime Intellect,
 * "INTELLECT-2", 2025: the unclipped ratio is capped at δ, bounding the loss of negative
 * advantages), elementwise with broadcasting of `ratio` and `advantages`. The clip indicators
 * are TRL's `is_low_clipped` / `is_high_clipped`, evaluated on the δ-capped ratio as TRL does.
 */
export function clippedSurrogate(
  ops: TensorOps,
  ratio: Tensor,
  advantages: Tensor,
  epsilonLow: number,
  epsilonHigh: number,
  delta: number | null = null,
): ClippedSurrogate {
  const clipped = ops.minimum(ops.maximum(ratio, 1 - epsilonLow), 1 + epsilonHigh);
  const capped = delta === null ? ratio : ops.minimum(ratio, delta);
  const loss = ops.neg(ops.minimum(ops.mul(capped, advantages), ops.mul(clipped, advantages)));
  const lowClipped = ops.mul(ops.less(capped, 1 - epsilonLow), ops.less(advantages, 0));
  const highClipped = ops.mul(ops.greater(capped, 1 + epsilonHigh), ops.greater(advantages, 0));
  return { loss, lowClipped, highClipped };
}
