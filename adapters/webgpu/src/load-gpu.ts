import { PrefBackendError } from '@pref/core';

/** What to do when Dawn finds no adapter (a machine without a GPU or Vulkan driver). */
export const NO_ADAPTER_HINT =
  "no GPU adapter found: WebGPU needs a GPU driver; on Linux without a GPU install Mesa's software Vulkan driver " +
  '(Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1; see scripts/install-vulkan-driver.sh), ' +
  'in browsers enable WebGPU (Chromium: --enable-unsafe-webgpu)';

interface NodeWebGpuModule {
  create(flags: string[]): GPU;
}

/** Dawn instances of this process by their flags, created on first use (never at import). */
const dawnInstances = new Map<string, Promise<GPU>>();

/**
 * The `GPU` entry point: `navigator.gpu` where there is one (browsers, Deno), else Dawn from the
 * optional peer `webgpu` in Node, loaded only now. Throws "install webgpu" when it is missing.
 *
 * In Node one Dawn instance per set of flags is shared by every backend of the process: Dawn
 * enumerates adapters once per instance, and on drivers that report more dynamic buffers than
 * it supports (Mesa's lavapipe reports 1,000,000) that enumeration writes two
 * "artificially reduced" warnings with `fprintf` to file descriptor 2, which no JavaScript code
 * can capture. Sharing the instance prints them at most once per process instead of at every
 * `createBackend`.
 */
export async function loadGpu(dawnFlags: readonly string[] = []): Promise<GPU> {
  const fromNavigator = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (fromNavigator) return fromNavigator;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (!isNode) throw new PrefBackendError('WebGPU is not available here: navigator.gpu is undefined (use a browser with WebGPU enabled)');
  const key = JSON.stringify(dawnFlags);
  let instance = dawnInstances.get(key);
  if (!instance) {
    instance = createDawn(dawnFlags);
    dawnInstances.set(key, instance);
    instance.catch(() => dawnInstances.delete(key));
  }
  return instance;
}

async function createDawn(dawnFlags: readonly string[]): Promise<GPU> {
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
