import { afterAll } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { describeHiddenStateBattery, installedObjectives } from '@pref/testing';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';

const { objectives } = await installedObjectives();
let started: WebGpuBackend | undefined;

// Every objective's hidden-state inputs on WebGPU against its logits path on the float64 oracle.
describeHiddenStateBattery({
  backend: {
    name: 'webgpu',
    create: async () => {
      const backend = await startWebGpu();
      if ('unavailable' in backend) throw new Error(backend.unavailable);
      started = backend;
      return backend;
    },
  },
  objectives,
  tolerance: { rtol: 2e-4, atol: 2e-5 },
  oracle: () => createReferenceBackend({ precision: 64, kernels: 'js' }),
  casesPerObjective: 1,
});

afterAll(() => started?.destroy());
