import { createReferenceBackend } from '@pref/adapter-reference';
import { describeHiddenStateBattery, installedObjectives } from '@pref/testing';

const { objectives } = await installedObjectives();

describeHiddenStateBattery({
  backend: { name: 'reference float64 (js)', create: async () => createReferenceBackend({ precision: 64, kernels: 'js' }) },
  objectives,
  tolerance: { rtol: 1e-9, atol: 1e-11 },
});
describeHiddenStateBattery({
  backend: { name: 'reference float64 (wasm)', create: async () => createReferenceBackend({ precision: 64, kernels: 'wasm' }) },
  objectives,
  tolerance: { rtol: 1e-9, atol: 1e-11 },
});
describeHiddenStateBattery({
  backend: { name: 'reference float32', create: async () => createReferenceBackend({ precision: 32 }) },
  objectives,
  tolerance: 'float32',
  casesPerObjective: 1,
});
