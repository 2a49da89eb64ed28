import { PrefBackendError, PrefConfigError, type BackendConfig } from '@pref/core';
import type { Tfjs } from './tfjs-types';
import { TfjsBackend, type TfjsBackendOptions } from './tfjs-backend';

/** tfjs backends selectable by config, and the packages each needs (the first that loads wins). */
export const TFJS_BACKEND_PACKAGES = {
  cpu: ['@tensorflow/tfjs-backend-cpu'],
  wasm: ['@tensorflow/tfjs-backend-wasm'],
  webgpu: ['@tensorflow/tfjs-backend-webgpu'],
  tensorflow: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
} as const;

export type TfjsBackendName = keyof typeof TFJS_BACKEND_PACKAGES;

function isMissingModule(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === 'ERR_MODULE_NOT_FOUND' ||
    e?.code === 'MODULE_NOT_FOUND' ||
    (typeof e?.message === 'string' &&
      e.message.includes(packageName) &&
      /cannot find|could not resolve|failed to (resolve|load)|not found/i.test(e.message))
  );
}

/** Imports the first of `packageNames` that is installed; a missing one gives an "install X" error. */
async function importFirst(packageNames: readonly string[], purpose: string): Promise<Record<string, unknown>> {
  for (const name of packageNames) {
    try {
      return (await import(/* @vite-ignore */ name)) as Record<string, unknown>;
    } catch (error) {
      if (!isMissingModule(error, name)) throw new PrefBackendError(`${purpose}: could not load ${name}: ${(error as Error).message}`);
    }
  }
  throw new PrefBackendError(`${purpose} needs ${packageNames.join(' or ')}: npm i ${packageNames[0]}`);
}

/** The tfjs API of a module namespace (ESM, or CommonJS behind `default`). */
function tfjsApi(module: Record<string, unknown>): Tfjs {
  const api = typeof module.customGrad === 'function' ? module : (module.default as Record<string, unknown> | undefined);
  if (!api || typeof api.customGrad !== 'function') throw new PrefBackendError('the loaded module is not the tfjs API');
  return api as unknown as Tfjs;
}

/** In Node, WebGPU comes from the `webgpu` package (Dawn), installed as `navigator.gpu`. */
async function ensureNavigatorGpu(): Promise<void> {
  const scope = globalThis as { navigator?: { gpu?: unknown }; process?: { versions?: { node?: string } } };
  if (scope.navigator?.gpu || !scope.process?.versions?.node) return;
  const webgpu = await importFirst(['webgpu'], 'tfjs backend "webgpu" in Node');
  const { create, globals } = (typeof webgpu.create === 'function' ? webgpu : webgpu.default) as {
    create: (options: string[]) => unknown;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  if (scope.navigator) Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

/**
 * tfjs's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js..." on its
 * first tensor; the library prints nothing, so the backend it starts is marked as used.
 */
function silenceNodeBanner(tf: Tfjs): void {
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (backend.firstUse === true) backend.firstUse = false;
}

function tfjsBackendName(config: BackendConfig): TfjsBackendName {
  const [, suffix] = (typeof config.backend === 'string' ? config.backend : '').split(':');
  const name = config.tfjsBackend ?? suffix ?? 'cpu';
  if (typeof name !== 'string' || !(name in TFJS_BACKEND_PACKAGES)) {
    throw new PrefConfigError(
      'tfjsBackend',
      `tfjsBackend must be one of ${Object.keys(TFJS_BACKEND_PACKAGES).join(', ')}; got ${JSON.stringify(name)}`,
    );
  }
  return name as TfjsBackendName;
}

/**
 * The factory core's `createBackend` calls for `{ "backend": "tfjs", "tfjsBackend": "cpu" | "wasm" |
 * "webgpu" | "tensorflow", "tokenKernel"?: "auto" | "wasm" | "tfjs" }` (or `"backend": "tfjs:wasm"`; default `cpu`). Loads
 * `@tensorflow/tfjs-core` and the backend package lazily (for `tensorflow`,
 * `@tensorflow/tfjs-node` or `-node-gpu`, whose tfjs instance is then used), sets the tfjs
 * backend and waits for it. A missing package fails with the `npm i` line that fixes it.
 */
export async function createPrefBackend(config: BackendConfig): Promise<TfjsBackend> {
  const name = tfjsBackendName(config);
  if (config.precision !== undefined && config.precision !== 32) {
    throw new PrefConfigError(
      'precision',
      `precision must be 32 for the tfjs backend (tfjs computes in float32), got ${String(config.precision)}`,
    );
  }
  const purpose = `tfjs backend "${name}"`;
  let tf: Tfjs;
  if (name === 'tensorflow') {
    tf = tfjsApi(await importFirst(TFJS_BACKEND_PACKAGES.tensorflow, purpose));
  } else {
    tf = tfjsApi(await importFirst(['@tensorflow/tfjs-core'], purpose));
    if (name === 'webgpu') await ensureNavigatorGpu();
    await importFirst(TFJS_BACKEND_PACKAGES[name], purpose);
  }
  let started: boolean;
  try {
    started = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    throw new PrefBackendError(`${purpose} did not start: ${(error as Error).message}`);
  }
  if (!started || tf.getBackend() !== name) {
    throw new PrefBackendError(`${purpose} did not start${name === 'webgpu' ? ' (no WebGPU adapter found?)' : ''}`);
  }
  if (name === 'cpu') silenceNodeBanner(tf);
  return new TfjsBackend({ tf, tokenKernel: config.tokenKernel as TfjsBackendOptions['tokenKernel'], tfjsBackend: name });
}
