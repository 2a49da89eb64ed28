import type { Tensor, TensorOps } from '@pref/core';

/** The largest exponent whose `exp` is finite in the backend's precision (float64 709, float32 88). */
export function maxFiniteExponent(ops: TensorOps): number {
  return ops.backend.capabilities.precision === 64 ? 709 : 88;
}

/**
 * `exp(min(x, c))` with `c` the largest finite exponent of the backend's precision: equal to
 * `exp(x)` wherever that is finite, and finite (with zero gradient) beyond, so a ratio that a
 * clip or a zero advantage discards never sends `0·∞ = NaN` into a gradient.
 */
export function boundedExp(ops: TensorOps, x: Tensor): Tensor {
  return ops.exp(ops.minimum(x, maxFiniteExponent(ops)));
}
