import { createWebGpuBackend, type CreateWebGpuBackendOptions, type WebGpuBackend } from '../src';

/** A backend for one test file, or the reason WebGPU cannot start here (tests then skip, saying why). */
export async function startWebGpu(options: CreateWebGpuBackendOptions = {}): Promise<WebGpuBackend | { unavailable: string }> {
  try {
    return await createWebGpuBackend(options);
  } catch (error) {
    return { unavailable: (error as Error).message };
  }
}
