import { afterAll } from 'vitest';
import { describeHiddenStateBattery, installedObjectives } from '@pref/testing';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';

const { objectives } = await installedObjectives();
let started: WebGpuBackend | undefined;

// Every objective's hidden-state inputs on WebGPU, within the derived float32 bound of the float64 hidden path.
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
  tolerance: 'float32',
  casesPerObjective: 1,
});

afterAll(() => started?.destroy());
