// The golden TRL 1.13 cases of conformance/trl/ (computed by TRL's own loss code) on WebGPU.
import { afterAll } from 'vitest';
import { describeTrlParity, installedObjectives } from '@pref/testing';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';

const { objectives } = await installedObjectives();
const started: WebGpuBackend[] = [];
const webgpu = {
  name: 'webgpu',
  create: async () => {
    const backend = await startWebGpu();
    if (!('unavailable' in backend)) started.push(backend);
    return backend;
  },
};
for (const file of ['grpo.json', 'rloo.json', 'dpo.json', 'dpo-float32.json', 'cpo.json', 'orpo.json', 'kto.json']) {
  describeTrlParity({ file, objectives, backends: [webgpu] });
}

afterAll(() => started.forEach((backend) => backend.destroy()));
