import type { ForwardContext, Tensor } from '@pref/core';
import { normalizeAdvantagesGlobally, type NormalizeAdvantages } from './normalize-advantages-globally';

/**
 * The advantages `[N]` a group objective trains on: the `advantages` input as given, or
 * `fromRewards(rewards, G)` from `rewards` and `groupSize`; then REINFORCE++ global
 * normalization when asked. Detached. Throws nothing: the input schema
 * (`GROUP_POLICY_INPUTS`) has already checked on the host that exactly one of the two is
 * given, that rewards come with `groupSize`, and that the rows hold whole groups.
 */
export function resolveAdvantages(
  ctx: ForwardContext,
  inputs: { readonly advantages?: Tensor; readonly rewards?: Tensor },
  options: { readonly groupSize: number | null; readonly normalizeAdvantages: NormalizeAdvantages },
  fromRewards: (rewards: Tensor, groupSize: number) => Tensor,
): Tensor {
  const base = inputs.advantages ? ctx.ops.stopGradient(inputs.advantages) : fromRewards(inputs.rewards!, options.groupSize!);
  return options.normalizeAdvantages === 'global' ? normalizeAdvantagesGlobally(ctx, base) : base;
}
