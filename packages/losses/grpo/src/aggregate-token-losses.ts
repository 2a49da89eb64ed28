import type { ForwardContext, Tensor } from '@pref/core';

/** TRL's GRPO `loss_type`: the per-token policy loss and how per-token losses become the batch loss. */
export type GrpoLossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo' | 'cispo' | 'sapo' | 'luspo' | 'vespo';

/**
 * Aggregates per-token losses `[N, T]` over the counted tokens (`mask`); every token count is
 * clamped at ≥ 1, as TRL does:
 * - `grpo`, `sapo`: mean over rows of each row's token mean (over every row of every worker);
 * - `bnpo`: `Σ m·ℓ / Σ m` over each worker's rows, averaged over workers (TRL normalizes by the
 *   local micro-batch's tokens and data parallelism averages the gradients); one worker: = `dapo`;
 * - `dr_grpo`: `Σ m·ℓ / (N · maxCompletionLength)`, `N` all rows of all workers;
 * - `dapo`, `cispo`, `vespo`: `Σ m·ℓ / Σ m` with both sums over every worker (the token total all-reduced);
 * - `luspo`: mean over rows of each row's token sum (the sequence loss scaled by its length).
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
  const atLeastOne = (count: Tensor) => ops.maximum(count, 1);
  switch (lossType) {
    case 'grpo':
    case 'sapo':
      return ctx.batchMean(ops.div(ops.sum(masked, 1), atLeastOne(ops.sum(mask, 1))));
    case 'bnpo': {
      const local = ops.div(ops.sum(masked), atLeastOne(ops.sum(mask)));
      return ctx.worldSize === 1 ? local : ops.div(ctx.allReduceSum(local), ctx.worldSize);
    }
    case 'dr_grpo':
      return ops.div(ctx.allReduceSum(ops.sum(masked)), ops.mul(ctx.globalRows(perToken.shape[0]), maxCompletionLength));
    case 'dapo':
    case 'cispo':
    case 'vespo':
      return ops.div(ctx.allReduceSum(ops.sum(masked)), atLeastOne(ctx.allReduceSum(ops.sum(mask))));
    case 'luspo':
      return ctx.batchMean(ops.sum(masked, 1));
  }
}
