import { createReferenceBackend } from '@pref/adapter-reference';
import { describeTokenEntropyBattery } from '@pref/testing';

describeTokenEntropyBattery({
  backend: { name: 'reference float64 (js)', create: async () => createReferenceBackend({ precision: 64, kernels: 'js' }) },
  tolerance: { rtol: 1e-9, atol: 1e-11 },
});
describeTokenEntropyBattery({
  backend: { name: 'reference float64 (wasm)', create: async () => createReferenceBackend({ precision: 64, kernels: 'wasm' }) },
  tolerance: { rtol: 1e-9, atol: 1e-11 },
});
describeTokenEntropyBattery({
  backend: { name: 'reference float32', create: async () => createReferenceBackend({ precision: 32 }) },
  tolerance: { rtol: 2e-4, atol: 2e-5 },
});
