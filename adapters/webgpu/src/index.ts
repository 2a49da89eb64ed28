export { WebGpuBackend, type WebGpuBackendOptions, type AdoptedBuffer, type WebGpuBackendStats } from './web-gpu-backend';
export { WebGpuTensor } from './web-gpu-tensor';
export { WebGpuError } from './web-gpu-error';
export { createWebGpuBackend, type CreateWebGpuBackendOptions } from './create-web-gpu-backend';
export { createPrefBackend } from './create-pref-backend';
export { loadGpu, NO_ADAPTER_HINT } from './load-gpu';
export type { BufferPoolStats } from './buffer-pool';
export type { WebGpuLogger } from './web-gpu-logger';
