export { TfjsBackend, createTfjsBackend, type TfjsBackendOptions } from './tfjs-backend';
export { TfjsTensor } from './tfjs-tensor';
export { tfjsLoss, type TfjsLossOptions, type TfjsLossResult } from './tfjs-loss';
export { createPrefBackend, TFJS_BACKEND_PACKAGES, type TfjsBackendName } from './create-pref-backend';
export type { Tfjs } from './tfjs-types';
