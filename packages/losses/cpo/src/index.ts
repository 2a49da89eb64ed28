import { cpo } from './cpo';

export { cpo, type CpoParams, type CpoLossType } from './cpo';
export { alphaReward, ALPHA_REWARD_MIN_ALPHA } from './alpha-reward';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [cpo] as const;
