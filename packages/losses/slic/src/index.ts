import { slic } from './slic';

export { slic, type SlicParams } from './slic';
/** Every objective this package defines (the CLI discovers objectives through this export). */
export const objectives = [slic] as const;
