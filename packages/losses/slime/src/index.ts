import { slime } from './slime';

export { slime, type SlimeParams } from './slime';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [slime] as const;
