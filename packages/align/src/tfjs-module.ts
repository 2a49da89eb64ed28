import type * as TfCore from '@tensorflow/tfjs-core';
import { PrefBackendError, PrefParamError } from '@pref/core';

/** The `@tensorflow/tfjs-core` module (the caller's instance). */
export type Tfjs = typeof TfCore;
export type TfTensor = TfCore.Tensor;
export type TfVariable = TfCore.Variable;

const BACKEND_PACKAGES: Readonly<Record<string, string>> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/**
 * Loads tfjs-core and the named tfjs backend (`cpu`, `wasm`, `webgpu`, `tensorflow`) and makes
 * it the active one. Fails with an "install X" message when the backend's package is missing.
 */
export async function loadTfjs(backendName: string): Promise<Tfjs> {
  const packageName = BACKEND_PACKAGES[backendName];
  if (!packageName) {
    throw new PrefParamError(
      'backend',
      `--backend must be one of ${Object.keys(BACKEND_PACKAGES).join(', ')} (a tfjs backend), got ${JSON.stringify(backendName)}`,
    );
  }
  let tf: Tfjs;
  try {
    tf = (await import('@tensorflow/tfjs-core')) as Tfjs;
    // tfjs-core alone registers no gradients; the model trains through tf's own autodiff.
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  } catch (error) {
    throw new PrefBackendError(`pref align needs @tensorflow/tfjs-core: npm i @tensorflow/tfjs-core (${(error as Error).message})`);
  }
  try {
    await import(/* @vite-ignore */ packageName);
  } catch (error) {
    throw new PrefBackendError(`the tfjs ${backendName} backend needs ${packageName}: npm i ${packageName} (${(error as Error).message})`);
  }
  // Silences tfjs' "install tfjs-node" banner (a CLI prints its own report).
  tf.env().set('PROD', true);
  const ready = await tf.setBackend(backendName);
  if (!ready) throw new PrefBackendError(`the tfjs ${backendName} backend is installed but did not start on this machine`);
  await tf.ready();
  return tf;
}
