import type { ForwardContext, Tensor } from '@pref/core';
import { batchMoments } from './batch-moments';
import { ADVANTAGE_STD_EPSILON } from './group-relative-advantages';

/** `none` keeps advantages as they are; `global` is REINFORCE++'s batch normalization. */
export type NormalizeAdvantages = 'none' | 'global';

/**
 * REINFORCE++ global advantage normalization (Hu, "REINFORCE++: A Simple and Efficient Approach
 * for Aligning Large Language Models", 2025; TRL `normalize_advantages=True`):
 * `Â_i = (A_i − mean(A)) / (std(A) + 1e-4)`, mean and unbiased std over every row of every
 * data-parallel worker (through the reducer, so workers agree). `advantages` `[N]`; returns
 * detached `[N]`. The whole batch needs at least two rows.
 */
export function normalizeAdvantagesGlobally(ctx: ForwardContext, advantages: Tensor): Tensor {
  const { ops } = ctx;
  const { mean, std } = batchMoments(ctx, advantages);
  return ops.div(ops.sub(ops.stopGradient(advantages), mean), ops.add(std, ADVANTAGE_STD_EPSILON));
}
