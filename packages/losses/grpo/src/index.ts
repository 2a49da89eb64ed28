import { grpo } from './grpo';
import { rloo } from './rloo';

export { grpo, GRPO_PARAMS, type GrpoParams } from './grpo';
export { rloo, type RlooParams } from './rloo';
export { groupRelativeAdvantages, ADVANTAGE_STD_EPSILON, type ScaleRewards } from './group-relative-advantages';
export { leaveOneOutAdvantages } from './leave-one-out-advantages';
export { normalizeAdvantagesGlobally, type NormalizeAdvantages } from './normalize-advantages-globally';
export { batchMoments } from './batch-moments';
export { groupCount } from './group-count';
export { clippedSurrogate, type ClippedSurrogate } from './clipped-surrogate';
export { aggregateTokenLosses, type GrpoLossType } from './aggregate-token-losses';
export { GROUP_POLICY_INPUTS } from './group-policy-inputs';
export { GRPO_INPUTS } from './grpo-inputs';
export { policyTokenLoss, type PolicyTokenLoss, type PolicyTokenLossInputs, type PolicyTokenLossOptions } from './policy-token-loss';
export { gammaWeights, type GammaWeightShape } from './gamma-weights';
export { samplerImportanceWeights, type SamplerImportanceSamplingMode, type SamplerImportanceWeights } from './sampler-importance-weights';
export { highEntropyMask } from './high-entropy-mask';
export { offPolicyMask } from './off-policy-mask';
export { tokenEntropies } from './token-entropies';
export { boundedExp, maxFiniteExponent } from './bounded-exp';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [grpo, rloo] as const;
export { nextAdaptiveEntropy, appliedEntropyCoef, type AdaptiveEntropyState, type AdaptiveEntropyOptions } from './adaptive-entropy';
