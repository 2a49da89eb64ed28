import type { Tensor, TensorOps } from '@pref/core';

/** Floor of the log margin's arguments, so `p_w − p_l = ±1` after underflow gives a finite margin. */
const LOG_ARGUMENT_FLOOR = 1e-30;

export interface MarginFunctionParams {
  readonly marginFunction: 'power' | 'log' | 'sigmoid';
  readonly marginExponent: number;
  readonly marginAlpha: number;
  readonly marginTemperature: number;
}

/**
 * LMPO's margin `m = (1 − p_w)·g(p_w − p_l)` per pair, unscaled:
 * - `power`: `g(x) = 1 − x^k` (integer k exactly; non-integer k as the odd extension `sign(x)·|x|^k`,
 *   since `x` may be negative);
 * - `log`: `g(x) = (1/α)·log((1−x)/(1+x)) + 0.5` (both arguments floored at 1e-30);
 * - `sigmoid`: `g(x) = σ(−x/τ)`.
 */
export function lengthControlledMargin(ops: TensorOps, chosen: Tensor, rejected: Tensor, params: MarginFunctionParams): Tensor {
  const x = ops.sub(chosen, rejected);
  return ops.mul(ops.sub(1, chosen), marginShape(ops, x, params));
}

function marginShape(ops: TensorOps, x: Tensor, params: MarginFunctionParams): Tensor {
  switch (params.marginFunction) {
    case 'power':
      return ops.sub(1, signedPower(ops, x, params.marginExponent));
    case 'log': {
      const below = ops.maximum(ops.sub(1, x), LOG_ARGUMENT_FLOOR);
      const above = ops.maximum(ops.add(1, x), LOG_ARGUMENT_FLOOR);
      return ops.add(ops.div(ops.sub(ops.log(below), ops.log(above)), params.marginAlpha), 0.5);
    }
    case 'sigmoid':
      return ops.sigmoid(ops.div(ops.neg(x), params.marginTemperature));
  }
}

/** Below this |x| the gradient of a non-integer power is taken as 0 (its derivative is unbounded at 0 for k < 1). */
const POWER_GRADIENT_FLOOR = 1e-12;

/**
 * `x^k` for integer k; `sign(x)·|x|^k` otherwise. The value is exact; the gradient is that of
 * `|x|^k` with `|x|` floored at 1e-12 (0 below it), so identical pairs (`x = 0`) and k < 1 give
 * finite gradients (at most `k·1e-12^(k−1)`) instead of ±Infinity or NaN.
 */
function signedPower(ops: TensorOps, x: Tensor, k: number): Tensor {
  if (Number.isInteger(k)) return ops.pow(x, k);
  const negative = ops.less(x, 0);
  const absolute = ops.where(negative, ops.neg(x), x);
  const exact = ops.stopGradient(ops.pow(absolute, k));
  const floored = ops.pow(ops.maximum(absolute, POWER_GRADIENT_FLOOR), k);
  const magnitude = ops.add(exact, ops.sub(floored, ops.stopGradient(floored)));
  return ops.where(negative, ops.neg(magnitude), magnitude);
}
