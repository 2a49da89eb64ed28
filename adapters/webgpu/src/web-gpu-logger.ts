/**
 * Where the WebGPU backend sends what it has to say: WGSL compilation messages of its kernels,
 * the adapter it picked, a device lost for a reason other than `destroy()`. The backend prints
 * nothing by itself; without a logger these messages are dropped.
 */
export interface WebGpuLogger {
  warn(message: string): void;
  info?(message: string): void;
}

/** True for an object with a `warn` method (what `createBackend({ logger })` must pass). */
export function isWebGpuLogger(value: unknown): value is WebGpuLogger {
  return typeof value === 'object' && value !== null && typeof (value as WebGpuLogger).warn === 'function';
}
