import type { ForwardContext, Tensor } from '@pref/core';

/**
 * Mean and unbiased (Bessel-corrected) standard deviation of a per-row tensor `[N]` over every
 * row of every data-parallel worker, through the reducer. Both are detached: they are
 * normalizers, and a gradient through a nonlinear function of a reduced value would miss the
 * other workers' terms. Needs at least two rows in the whole batch.
 */
export function batchMoments(ctx: ForwardContext, values: Tensor): { mean: Tensor; std: Tensor } {
  const { ops } = ctx;
  const detached = ops.stopGradient(values);
  const rows = ctx.globalRows(detached.shape[0]);
  const mean = ops.div(ctx.allReduceSum(ops.sum(detached)), rows);
  const squares = ctx.allReduceSum(ops.sum(ops.square(ops.sub(detached, mean))));
  const std = ops.sqrt(ops.div(squares, ops.sub(rows, 1)));
  return { mean, std };
}
