import { readdirSync } from 'node:fs';
import { afterAll, describe, it } from 'vitest';
import { conformanceCaseDir, describeConformance, installedObjectives } from '@pref/testing';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';

// Every case file (logits-path and error cases included) for every objective package present.
const { objectives, missing } = await installedObjectives();
const files = readdirSync(conformanceCaseDir().dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
let started: WebGpuBackend | undefined;

if (missing.length > 0) {
  describe('objective packages', () => {
    for (const name of missing) it.skip(`skipped: ${name} is not in this checkout`, () => {});
  });
}

describeConformance({
  files,
  objectives,
  backends: [
    {
      name: 'webgpu',
      create: async () => {
        const backend = await startWebGpu();
        if (!('unavailable' in backend)) started = backend;
        return backend;
      },
    },
  ],
});

afterAll(() => started?.destroy());
