import type { ForwardContext, Tensor } from '@pref/core';

/** How per-token losses become the batch loss (TRL `loss_type`). */
export type GrpoLossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';

/**
 * Aggregates per-token losses `[N, T]` over the counted tokens (`mask`):
 * - `grpo`: mean over rows of each row's token mean (over every row of every worker);
 * - `bnpo`: `Σ m·ℓ / Σ m` over each worker's rows, averaged over workers (TRL normalizes by the
 *   local micro-batch's tokens and data parallelism averages the gradients); one worker: = `dapo`;
 * - `dr_grpo`: `Σ m·ℓ / (N · maxCompletionLength)`, `N` all rows of all workers;
 * - `dapo`: `Σ m·ℓ / Σ m` with both sums over every worker (the token total all-reduced).
 */
export function aggregateTokenLosses(
  ctx: ForwardContext,
  perToken: Tensor,
  mask: Tensor,
  lossType: GrpoLossType,
  maxCompletionLength: number,
): Tensor {
  const { ops } = ctx;
  const masked = ops.where(mask, perToken, 0);
  switch (lossType) {
    case 'grpo':
      return ctx.batchMean(ops.div(ops.sum(masked, 1), ops.sum(mask, 1)));
    case 'bnpo': {
      const local = ops.div(ops.sum(masked), ops.sum(mask));
      return ctx.worldSize === 1 ? local : ops.div(ctx.allReduceSum(local), ctx.worldSize);
    }
    case 'dr_grpo':
      return ops.div(ctx.allReduceSum(ops.sum(masked)), ops.mul(ctx.globalRows(perToken.shape[0]), maxCompletionLength));
    case 'dapo':
      return ctx.tokenMean(perToken, mask);
  }
}
