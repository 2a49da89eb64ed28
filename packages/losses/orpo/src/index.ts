import { orpo } from './orpo';

export { orpo, ORPO_INPUTS, ORPO_PARAMS, type OrpoParams } from './orpo';
export { log1mexp, LOG1MEXP_MAX_INPUT } from './log1mexp';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [orpo] as const;
