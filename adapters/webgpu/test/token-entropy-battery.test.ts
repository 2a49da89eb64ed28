import { afterAll } from 'vitest';
import { describeTokenEntropyBattery } from '@pref/testing';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';

let started: WebGpuBackend | undefined;

describeTokenEntropyBattery({
  backend: {
    name: 'webgpu',
    create: async () => {
      const backend = await startWebGpu();
      if ('unavailable' in backend) throw new Error(backend.unavailable);
      started = backend;
      return backend;
    },
  },
  tolerance: { rtol: 2e-4, atol: 2e-5 },
});

afterAll(() => started?.destroy());
