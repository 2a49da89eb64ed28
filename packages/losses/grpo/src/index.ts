import { grpo } from './grpo';
import { rloo } from './rloo';

export { grpo, type GrpoParams } from './grpo';
export { rloo, type RlooParams } from './rloo';
export { groupRelativeAdvantages, ADVANTAGE_STD_EPSILON, type ScaleRewards } from './group-relative-advantages';
export { leaveOneOutAdvantages } from './leave-one-out-advantages';
export { normalizeAdvantagesGlobally, type NormalizeAdvantages } from './normalize-advantages-globally';
export { batchMoments } from './batch-moments';
export { groupCount } from './group-count';
export { clippedSurrogate, type ClippedSurrogate } from './clipped-surrogate';
export { aggregateTokenLosses, type GrpoLossType } from './aggregate-token-losses';
export { GROUP_POLICY_INPUTS } from './group-policy-inputs';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [grpo, rloo] as const;
