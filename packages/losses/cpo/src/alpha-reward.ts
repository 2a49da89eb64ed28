import type { Tensor, TensorOps } from '@pref/core';

/**
 * Below this |α| the AlphaPO reward is the plain log-prob: `R = p − αp²/2 + …` differs from `p`
 * by under 1e-11 relative for |p| < 1e4, while dividing the gradient by a smaller α overflows.
 */
export const ALPHA_REWARD_MIN_ALPHA = 1e-15;

/**
 * AlphaPO's reward shape `R = (1 − exp(−α·logp)) / α` (written `−expm1(−α·logp)/α` for
 * accuracy near 0); `α = 0` is the limit `R = logp` (also used for |α| < 1e-15). Large
 * `α·|logp|` overflows `exp` in float32 (above ~88), as in the reference trainer.
 */
export function alphaReward(ops: TensorOps, logp: Tensor, alpha: number): Tensor {
  if (Math.abs(alpha) < ALPHA_REWARD_MIN_ALPHA) return logp;
  return ops.div(ops.neg(ops.expm1(ops.mul(logp, -alpha))), alpha);
}
