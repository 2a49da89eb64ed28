import { PrefBackendError, type BackendConfig } from '@pref/core';
import { createWebGpuBackend } from './create-web-gpu-backend';
import type { WebGpuBackend } from './web-gpu-backend';

/**
 * Factory `createBackend` calls with the config, e.g.
 * `{ "backend": "webgpu", "powerPreference": "high-performance" }`. Float32 only.
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
  return createWebGpuBackend({ powerPreference, subgroups });
}
