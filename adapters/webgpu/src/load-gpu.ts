import { PrefBackendError } from '@pref/core';

/** What to do when Dawn finds no adapter (a machine without a GPU or Vulkan driver). */
export const NO_ADAPTER_HINT =
  'no GPU adapter found: WebGPU needs a GPU driver; on Linux without a GPU install Mesa\'s software Vulkan driver ' +
  '(Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1; see scripts/install-vulkan-driver.sh), ' +
  'in browsers enable WebGPU (Chromium: --enable-unsafe-webgpu)';

interface NodeWebGpuModule {
  create(flags: string[]): GPU;
}

/**
 * The `GPU` entry point: `navigator.gpu` where there is one (browsers, Deno), else Dawn from the
 * optional peer `webgpu` in Node, loaded only now. Throws "install webgpu" when it is missing.
 */
export async function loadGpu(dawnFlags: readonly string[] = []): Promise<GPU> {
  const fromNavigator = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (fromNavigator) return fromNavigator;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (!isNode) throw new PrefBackendError('WebGPU is not available here: navigator.gpu is undefined (use a browser with WebGPU enabled)');
  let module: NodeWebGpuModule;
  try {
    const name = 'webgpu';
    module = (await import(/* @vite-ignore */ name)) as NodeWebGpuModule;
  } catch (error) {
    throw new PrefBackendError(
      `the webgpu backend needs the "webgpu" package in Node: install webgpu (npm i webgpu) — ${(error as Error).message}`,
    );
  }
  return module.create([...dawnFlags]);
}
