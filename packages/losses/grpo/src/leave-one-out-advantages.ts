import type { ForwardContext, Tensor } from '@pref/core';
import { groupCount } from './group-count';

/**
 * RLOO's leave-one-out advantages (Ahmadian et al., "Back to Basics: Revisiting REINFORCE Style
 * Optimization for Learning from Human Feedback in LLMs", ACL 2024, Eq. 5; Kool et al. 2019):
 * each completion's baseline is the mean reward of the other `G − 1` completions of its prompt,
 * `A_i = R_i − (Σ_{j∈g} R_j − R_i) / (G − 1)`.
 *
 * `rewards` `[N]`, rows grouped consecutively `G = groupSize` at a time (`G ≥ 2`, `N` a multiple
 * of `G`); returns detached advantages `[N]`. Purely per group: no reducer needed.
 */
export function leaveOneOutAdvantages(ctx: ForwardContext, rewards: Tensor, options: { readonly groupSize: number }): Tensor {
  const { ops } = ctx;
  const rows = rewards.shape[0];
  const groupSize = options.groupSize;
  const groups = groupCount('leaveOneOutAdvantages', rows, groupSize);
  const grouped = ops.reshape(ops.stopGradient(rewards), [groups, groupSize]);
  const others = ops.div(ops.sub(ops.sum(grouped, 1, true), grouped), groupSize - 1);
  return ops.reshape(ops.sub(grouped, others), [rows]);
}
