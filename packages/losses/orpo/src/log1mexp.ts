import type { Tensor, TensorOps } from '@pref/core';

const LN2 = Math.LN2;
/** Largest argument used: `log1mexp(0) = −∞`, so inputs above this are clamped to it. */
export const LOG1MEXP_MAX_INPUT = -1e-30;

/**
 * `log(1 − eˣ)` for `x ≤ 0`, computed stably (Mächler 2012): `log1p(−eˣ)` for `x < −ln 2` and
 * `log(−expm1(x))` otherwise. Each branch's input is first clamped into the region where that
 * branch is finite (`≤ −ln 2` for the first, `[−ln 2, −1e−30]` for the second), so the branch
 * `where` leaves unselected has a finite value and gradient too, and the selected gradient
 * never meets `0·∞`. Inputs above `−1e−30` (0 or rounding above it) are evaluated at `−1e−30`
 * (value ≈ −69.08) and get no gradient.
 */
export function log1mexp(ops: TensorOps, x: Tensor): Tensor {
  const farBranch = ops.log1p(ops.neg(ops.exp(ops.minimum(x, -LN2))));
  const nearInput = ops.maximum(ops.minimum(x, LOG1MEXP_MAX_INPUT), -LN2);
  const nearBranch = ops.log(ops.neg(ops.expm1(nearInput)));
  return ops.where(ops.less(x, -LN2), farBranch, nearBranch);
}
