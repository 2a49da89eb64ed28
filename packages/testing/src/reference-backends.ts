import { createReferenceBackend } from '@pref/adapter-reference';
import type { BackendUnderTest } from './describe-conformance';

/**
 * The reference backend as the conformance tests run it: the plain TypeScript float64 oracle
 * (1e-9 tolerance), float64 with the WebAssembly token kernel (1e-9), and float32 (1e-4).
 */
export const referenceBackends: readonly BackendUnderTest[] = [
  { name: 'reference float64 (js)', create: async () => createReferenceBackend({ precision: 64, kernels: 'js' }) },
  { name: 'reference float64 (wasm)', create: async () => createReferenceBackend({ precision: 64, kernels: 'wasm' }) },
  { name: 'reference float32', create: async () => createReferenceBackend({ precision: 32 }) },
];
