// Type-only consumer of the WebGPU adapter with `types: []`: its declarations bring @webgpu/types.
import type { createWebGpuBackend } from '@pref/adapter-webgpu';

export type WebGpuFactory = typeof createWebGpuBackend;
