import { afterAll, describe, expect, it } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { installedObjectives } from '@pref/testing';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';
import { reference } from './compare-backends';

const started = await startWebGpu();
const unavailable = 'unavailable' in started ? started.unavailable : null;
const gpu = started as WebGpuBackend;
afterAll(() => (unavailable ? undefined : gpu.destroy()));
const { objectives } = await installedObjectives();
const STORAGE_COPY = 0x80 | 0x08 | 0x04;

/** Counts the device's `createBuffer` calls (pool, readback and the user's own) from now on. */
function countCreateBuffer(device: GPUDevice): { readonly count: number; restore(): void } {
  const original = device.createBuffer.bind(device);
  const counter = { count: 0, restore: () => void (device.createBuffer = original) };
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    counter.count++;
    return original(descriptor);
  };
  return counter;
}

function logitsBatch(seed: number) {
  const logits = (b: number) =>
    Array.from({ length: 2 }, (_, r) =>
      Array.from({ length: 3 }, (_, t) => Array.from({ length: 7 }, (_, v) => Math.sin(seed + b * 31 + r * 7 + t * 3 + v) * 2)),
    );
  return {
    chosenLogits: logits(0),
    chosenLabels: [
      [1, 3, 6],
      [0, 2, -100],
    ],
    rejectedLogits: logits(1),
    rejectedLabels: [
      [4, 0, 5],
      [2, 1, 3],
    ],
  };
}

const suite = unavailable ? describe.skip : describe;
suite(unavailable ? `steady state (skipped: ${unavailable})` : 'steady state', () => {
  it.skipIf(!objectives.simpo)('50 valueAndGrad calls with the same shapes create no GPU buffer after the first call', async () => {
    const batch = logitsBatch(1);
    await valueAndGrad(objectives.simpo, batch, {}, { backend: gpu });
    const counter = countCreateBuffer(gpu.device);
    try {
      for (let step = 0; step < 50; step++) await valueAndGrad(objectives.simpo, batch, {}, { backend: gpu });
    } finally {
      counter.restore();
    }
    // Tensors come from the pool, kernel parameters from one arena, readbacks from pooled staging buffers.
    expect(counter.count).toBe(0);
    expect(gpu.stats().inUse).toBe(0);
  });

  it.skipIf(!objectives.simpo)(
    'a caller who rewrites an adopted GPUBuffer in place between calls gets the new numbers, with no new buffers',
    async () => {
      const device = gpu.device;
      const shape = [2, 3, 7];
      const chosen = device.createBuffer({ size: 2 * 3 * 7 * 4, usage: STORAGE_COPY });
      const rejected = device.createBuffer({ size: 2 * 3 * 7 * 4, usage: STORAGE_COPY });
      const write = (seed: number) => {
        const batch = logitsBatch(seed);
        device.queue.writeBuffer(chosen, 0, Float32Array.from(batch.chosenLogits.flat(2)));
        device.queue.writeBuffer(rejected, 0, Float32Array.from(batch.rejectedLogits.flat(2)));
        return batch;
      };
      const labels = { chosenLabels: logitsBatch(0).chosenLabels, rejectedLabels: logitsBatch(0).rejectedLabels };
      const gpuBatch = { ...labels, chosenLogits: { buffer: chosen, shape }, rejectedLogits: { buffer: rejected, shape } };
      write(0);
      await valueAndGrad(objectives.simpo, gpuBatch, {}, { backend: gpu });
      const counter = countCreateBuffer(device);
      try {
        for (const seed of [2, 3, 4]) {
          const host = write(seed);
          const got = await valueAndGrad(objectives.simpo, gpuBatch, {}, { backend: gpu });
          const want = await valueAndGrad(objectives.simpo, host, {}, { backend: reference });
          expect(got.loss).toBeCloseTo(want.loss, 5);
        }
      } finally {
        counter.restore();
      }
      expect(counter.count).toBe(0);
      chosen.destroy();
      rejected.destroy();
    },
  );

  it.skipIf(!objectives.simpo)(
    'the hidden-state path: 20 calls with the same shapes create no GPU buffer after the first call',
    async () => {
      const wave = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed + i * 0.37));
      const nest = (flat: number[], rows: number, cols: number) =>
        Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
      const [T, H, V] = [3, 8, 150];
      const hidden = (seed: number) => Array.from({ length: 2 }, (_, b) => nest(wave(T * H, seed + b), T, H));
      const batch = {
        chosenHidden: hidden(1),
        rejectedHidden: hidden(5),
        chosenLabels: [
          [1, 30, 149],
          [0, 2, -100],
        ],
        rejectedLabels: [
          [4, 0, 77],
          [2, 1, 3],
        ],
        lmHead: { weight: nest(wave(V * H, 9), V, H), bias: wave(V, 11), softcap: 5 },
      };
      const options = { backend: gpu, lmHead: { chunkSize: 64 } };
      const first = await valueAndGrad(objectives.simpo, batch, {}, options);
      const counter = countCreateBuffer(gpu.device);
      let last = first;
      try {
        for (let step = 0; step < 20; step++) last = await valueAndGrad(objectives.simpo, batch, {}, options);
      } finally {
        counter.restore();
      }
      // Chunk partials, labelled logits and the [N, chunk] gradient scratch come from the pool too.
      expect(counter.count).toBe(0);
      expect(gpu.stats().inUse).toBe(0);
      expect(last.loss).toBe(first.loss);
    },
  );
});
