import { PrefBackendError, type BackendConfig } from '@pref/core';
import { createWebGpuBackend } from './create-web-gpu-backend';
import type { WebGpuBackend } from './web-gpu-backend';
import { isWebGpuLogger } from './web-gpu-logger';

/**
 * Factory `createBackend` calls with the config, e.g.
 * `{ "backend": "webgpu", "powerPreference": "high-performance", logger: console }`. Float32 only.
 * `logger` receives what the backend has to say (see `WebGpuLogger`); it prints nothing itself.
 */
export async function createPrefBackend(config: BackendConfig): Promise<WebGpuBackend> {
  if (config.precision !== undefined && config.precision !== 32) {
    throw new PrefBackendError(`webgpu computes in float32: precision must be 32, got ${String(config.precision)}`);
  }
  const powerPreference = config.powerPreference as GPUPowerPreference | undefined;
  const subgroups = config.subgroups as boolean | undefined;
  if (subgroups !== undefined && typeof subgroups !== 'boolean') {
    throw new PrefBackendError(`subgroups must be true or false, got ${JSON.stringify(subgroups)}`);
  }
  const logger = config.logger;
  if (logger !== undefined && !isWebGpuLogger(logger)) {
    throw new PrefBackendError('logger must be an object with a warn(message) method (and optionally info(message)), e.g. console');
  }
  return createWebGpuBackend({ powerPreference, subgroups, logger });
}
