import type { ForwardContext, Tensor } from '@pref/core';
import { batchMoments } from './batch-moments';
import { groupCount } from './group-count';

/** Added to every advantage standard deviation before dividing (TRL's 1e-4). */
export const ADVANTAGE_STD_EPSILON = 1e-4;

/** How GRPO scales the group-centred rewards: by the group's std, the whole batch's std, or not at all. */
export type ScaleRewards = 'group' | 'batch' | 'none';

/**
 * GRPO's group-relative advantages (Shao et al., DeepSeekMath, 2024, §4.1.2; TRL `scale_rewards`).
 * Rows are grouped consecutively, `G = groupSize` completions per prompt; with `μ_g` the mean of
 * the group of row `i`:
 * - `group` (default): `A_i = (R_i − μ_g) / (σ_g + 1e-4)`, `σ_g` the unbiased std of the group;
 * - `batch`: `A_i = (R_i − μ_g) / (σ + 1e-4)`, `σ` the unbiased std over every row of every
 *   worker (through the reducer);
 * - `none`: `A_i = R_i − μ_g` (Dr.GRPO, Liu et al. 2025).
 *
 * `rewards` `[N]` with `N` a multiple of `G` (`G ≥ 2`); returns detached advantages `[N]`.
 * Runs on any backend through `ctx.ops`.
 */
export function groupRelativeAdvantages(
  ctx: ForwardContext,
  rewards: Tensor,
  options: { readonly groupSize: number; readonly scaleRewards?: ScaleRewards },
): Tensor {
  const { ops } = ctx;
  const rows = rewards.shape[0];
  const groupSize = options.groupSize;
  const groups = groupCount('groupRelativeAdvantages', rows, groupSize);
  const detached = ops.stopGradient(rewards);
  const grouped = ops.reshape(detached, [groups, groupSize]);
  const centred = ops.sub(grouped, ops.mean(grouped, 1, true));
  const scale = options.scaleRewards ?? 'group';
  let advantages = centred;
  if (scale === 'group') {
    const std = ops.sqrt(ops.div(ops.sum(ops.square(centred), 1, true), groupSize - 1));
    advantages = ops.div(centred, ops.add(std, ADVANTAGE_STD_EPSILON));
  } else if (scale === 'batch') {
    const { std } = batchMoments(ctx, detached);
    advantages = ops.div(centred, ops.add(std, ADVANTAGE_STD_EPSILON));
  }
  return ops.reshape(advantages, [rows]);
}
