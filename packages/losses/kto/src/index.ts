import { kto } from './kto';

export { kto, type KtoParams, type KtoLossType } from './kto';
export { KTO_INPUTS } from './kto-inputs';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [kto] as const;
