import type { Tensor } from './tensor';
import type { TensorOps } from './tensor-ops';

/**
 * What `forward` works with: the differentiable ops, and the reducer hook for batch-global
 * statistics. On one worker `allReduceSum` is the identity; with a collective it adds the
 * other workers' values as constants, so every worker sees the global statistic and the
 * gradient with respect to its own rows equals the single-worker gradient.
 */
export interface ForwardContext {
  readonly ops: TensorOps;
  /** Number of data-parallel workers the batch is split over. */
  readonly worldSize: number;
  /**
   * Sum of `x` over all workers. Rules, so that every worker's gradient is exact:
   * - `x` is computed from this worker's data and earlier all-reduced values (several workers
   *   resolve dependent reductions by repeated passes);
   * - the loss depends on the reduced value either linearly (a sum over rows divided by a
   *   constant count, as `batchMean` and `tokenMean` do) or through a detached value
   *   (`ops.stopGradient(x)`, as z-score moments, KTO's z0 or advantages are): the other
   *   workers' terms are constants here, so a gradient through a nonlinear function of a
   *   differentiable reduced value would miss their part.
   */
  allReduceSum(x: Tensor): Tensor;
  /** Mean over every row of every worker of a per-row tensor `[N]`. */
  batchMean(perRow: Tensor): Tensor;
  /** `Σ mask·values / Σ mask` over every worker (a token mean over the whole batch). */
  tokenMean(values: Tensor, mask: Tensor): Tensor;
  /** Number of rows over every worker, as a scalar tensor. */
  globalRows(rows: number): Tensor;
}

export function createForwardContext(ops: TensorOps, worldSize: number, allReduceSum: (x: Tensor) => Tensor): ForwardContext {
  const context: ForwardContext = {
    ops,
    worldSize,
    allReduceSum,
    globalRows: (rows) => (worldSize === 1 ? ops.scalar(rows) : allReduceSum(ops.fill([], rows))),
    batchMean: (perRow) => {
      if (worldSize === 1) return ops.mean(perRow);
      return ops.div(allReduceSum(ops.sum(perRow)), context.globalRows(perRow.shape[0]));
    },
    tokenMean: (values, mask) => {
      const masked = ops.where(mask, values, 0);
      return ops.div(allReduceSum(ops.sum(masked)), allReduceSum(ops.sum(mask)));
    },
  };
  return context;
}
