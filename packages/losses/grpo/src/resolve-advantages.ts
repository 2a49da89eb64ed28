import { PrefInputError, PrefParamError, type ForwardContext, type Tensor } from '@pref/core';
import { groupCount } from './group-count';
import { normalizeAdvantagesGlobally, type NormalizeAdvantages } from './normalize-advantages-globally';

/**
 * The advantages `[N]` a group objective trains on: the `advantages` input as given, or
 * `fromRewards(rewards, G)` when `rewards` and `groupSize` are given; then REINFORCE++ global
 * normalization when asked. Detached. Errors name the input or `groupSize`.
 */
export function resolveAdvantages(
  ctx: ForwardContext,
  objectiveId: string,
  inputs: { readonly advantages?: Tensor; readonly rewards?: Tensor },
  options: { readonly groupSize: number | null; readonly normalizeAdvantages: NormalizeAdvantages },
  fromRewards: (rewards: Tensor, groupSize: number) => Tensor,
): Tensor {
  const { advantages, rewards } = inputs;
  if (advantages && rewards) {
    throw new PrefInputError('advantages', `${objectiveId}: give either advantages [N] or rewards [N] with groupSize, not both`);
  }
  let base: Tensor;
  if (advantages) {
    if (options.groupSize !== null) groupCount(objectiveId, advantages.shape[0], options.groupSize);
    base = ctx.ops.stopGradient(advantages);
  } else if (rewards) {
    if (options.groupSize === null) {
      throw new PrefParamError(
        'groupSize',
        `${objectiveId}: rewards need groupSize (completions per prompt, consecutive rows); set groupSize or pass advantages instead`,
      );
    }
    groupCount(objectiveId, rewards.shape[0], options.groupSize);
    base = fromRewards(rewards, options.groupSize);
  } else {
    throw new PrefInputError('advantages', `${objectiveId}: missing input advantages [N], or rewards [N] with the groupSize parameter`);
  }
  return options.normalizeAdvantages === 'global' ? normalizeAdvantagesGlobally(ctx, base) : base;
}
