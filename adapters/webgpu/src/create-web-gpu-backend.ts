import { PrefBackendError } from '@pref/core';
import { loadGpu, NO_ADAPTER_HINT } from './load-gpu';
import { WebGpuBackend, type WebGpuBackendOptions } from './web-gpu-backend';

export interface CreateWebGpuBackendOptions extends Omit<WebGpuBackendOptions, 'ownsDevice' | 'gpu'> {
  /** The user's device (e.g. the one a model runtime computes logits on); never destroyed here. */
  readonly device?: GPUDevice;
  /** Adapter preference when the backend requests its own device. */
  readonly powerPreference?: GPUPowerPreference;
  /** A `GPU` to request the adapter from (default `navigator.gpu`, or Dawn in Node). */
  readonly gpu?: GPU;
  /** Dawn toggles in Node, e.g. `['backend=vulkan']` (ignored in browsers). */
  readonly dawnFlags?: readonly string[];
}

/**
 * The WebGPU backend, on the given `device` or on one it requests (with the adapter's largest
 * buffer limits and the `subgroups` feature when offered). Throws a `PrefBackendError` that
 * says what to install when WebGPU or an adapter is missing.
 */
export async function createWebGpuBackend(options: CreateWebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const { device, powerPreference, gpu: givenGpu, dawnFlags, ...backendOptions } = options;
  if (device) return new WebGpuBackend(device, { ...backendOptions, ownsDevice: false });
  if (powerPreference !== undefined && powerPreference !== 'low-power' && powerPreference !== 'high-performance') {
    throw new PrefBackendError(`powerPreference must be "low-power" or "high-performance", got ${JSON.stringify(powerPreference)}`);
  }
  const gpu = givenGpu ?? (await loadGpu(dawnFlags));
  const adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : {});
  if (!adapter) throw new PrefBackendError(NO_ADAPTER_HINT);
  const info = adapter.info;
  backendOptions.logger?.info?.(
    `webgpu: adapter ${[info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unnamed'}${info?.isFallbackAdapter ? ' (fallback adapter)' : ''}`,
  );
  const wantSubgroups = (options.subgroups ?? true) && adapter.features.has('subgroups');
  const limits = adapter.limits;
  let created: GPUDevice;
  try {
    created = await adapter.requestDevice({
      label: 'pref',
      requiredFeatures: wantSubgroups ? ['subgroups' as GPUFeatureName] : [],
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
      },
    });
  } catch (error) {
    throw new PrefBackendError(`the GPU adapter refused a device: ${(error as Error).message}`);
  }
  return new WebGpuBackend(created, { ...backendOptions, ownsDevice: true, gpu });
}
