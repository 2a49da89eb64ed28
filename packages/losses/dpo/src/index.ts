import { dpo } from './dpo';

export { dpo } from './dpo';
export { DPO_LOSS_TYPES, F_DIVERGENCES, type DpoParams, type DpoLossType, type FDivergence } from './dpo-params';
export { DPO_INPUTS } from './dpo-inputs';
export { fDivergenceScore, ALPHA_DIVERGENCE_EXPONENT_CAP } from './f-divergence-score';
export { completionPositions, lengthDesensitizedWeights } from './length-desensitized-weights';
export { wpoSequenceWeights } from './wpo-weights';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [dpo] as const;
