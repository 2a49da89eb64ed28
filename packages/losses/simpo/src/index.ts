import { simpo } from './simpo';

export { simpo, type SimpoParams } from './simpo';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [simpo] as const;
