import { lmpo } from './lmpo';

export { lmpo, type LmpoParams } from './lmpo';
export type { LmpoState } from './running-moments';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [lmpo] as const;
