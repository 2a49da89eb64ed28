import { afterAll, describe, expect, it, vi } from 'vitest';
import { createBackend, valueAndGrad } from '@pref/core';
import { installedObjectives } from '@pref/testing';
import { createPrefBackend, createWebGpuBackend, loadGpu, WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';
import { reference } from './compare-backends';

const started = await startWebGpu();
const unavailable = 'unavailable' in started ? started.unavailable : null;
const gpu = started as WebGpuBackend;
afterAll(() => (unavailable ? undefined : gpu.destroy()));
const { objectives } = await installedObjectives();
const STORAGE_COPY = 0x80 | 0x08 | 0x04;

const batch = {
  chosenLogits: [
    [
      [1, 2, 0.5, -1],
      [0.2, 0.1, 0, 4],
    ],
    [
      [2, 1, 0, 0],
      [1, 1, 1, 1],
    ],
  ],
  chosenLabels: [
    [1, 3],
    [0, -100],
  ],
  rejectedLogits: [
    [
      [0, 0, 1, 2],
      [3, 2, 1, 0],
    ],
    [
      [1, 0, 1, 0],
      [2, 2, 2, 0],
    ],
  ],
  rejectedLabels: [
    [3, 0],
    [2, 1],
  ],
};

function userBuffer(device: GPUDevice, values: number[][][]): GPUBuffer {
  const data = Float32Array.from(values.flat(2));
  const buffer = device.createBuffer({ size: data.byteLength, usage: STORAGE_COPY });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

describe('starting the backend', () => {
  it('says "no GPU adapter found" with the Mesa hint when the GPU offers no adapter', async () => {
    const gpuWithoutAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createWebGpuBackend({ gpu: gpuWithoutAdapter })).rejects.toThrow(/no GPU adapter found.*mesa-vulkan-drivers/s);
  });

  it('says "install webgpu" when the package is missing in Node', async () => {
    vi.doMock('webgpu', () => {
      throw new Error("Cannot find package 'webgpu'");
    });
    // Its own flags: the shared Dawn instance of the other tests is not reused.
    await expect(loadGpu(['mocked-missing-package'])).rejects.toThrow(/install webgpu \(npm i webgpu\)/);
    vi.doUnmock('webgpu');
  });

  it('rejects bad config values, naming them', async () => {
    await expect(createPrefBackend({ backend: 'webgpu', precision: 64 })).rejects.toThrow(/precision must be 32, got 64/);
    await expect(createPrefBackend({ backend: 'webgpu', powerPreference: 'fast' })).rejects.toThrow(
      /powerPreference must be "low-power" or "high-performance", got "fast"/,
    );
  });
});

const suite = unavailable ? describe.skip : describe;
suite(unavailable ? `device, zero-copy and errors (skipped: ${unavailable})` : 'device, zero-copy and errors', () => {
  it.skipIf(!objectives.simpo)('createBackend with { backend: "webgpu", powerPreference } computes SimPO like the reference', async () => {
    const backend = await createBackend({ backend: 'webgpu', powerPreference: 'high-performance' });
    expect(backend.name).toBe('webgpu');
    expect(backend.capabilities).toMatchObject({ precision: 32, float64: false, execution: 'eager' });
    const got = await valueAndGrad(objectives.simpo, batch, {}, { backend });
    const want = await valueAndGrad(objectives.simpo, batch, {}, { backend: reference });
    expect(got.loss).toBeCloseTo(want.loss, 5);
    (backend as WebGpuBackend).destroy();
  });

  it.skipIf(!objectives.simpo)("reads logits from the user's GPUBuffers on the user's device, and leaves both alive", async () => {
    const backend = await createWebGpuBackend({ device: gpu.device });
    const chosen = userBuffer(gpu.device, batch.chosenLogits);
    const rejected = userBuffer(gpu.device, batch.rejectedLogits);
    const shape = [2, 2, 4];
    const zeroCopy = { ...batch, chosenLogits: { buffer: chosen, shape }, rejectedLogits: { buffer: rejected, shape } };
    const got = await valueAndGrad(objectives.simpo, zeroCopy, {}, { backend });
    const want = await valueAndGrad(objectives.simpo, batch, {}, { backend: reference });
    expect(got.loss).toBeCloseTo(want.loss, 5);
    got.grads.chosenLogits.data.forEach((g, i) => expect(g).toBeCloseTo(want.grads.chosenLogits.data[i], 5));
    expect(backend.stats().inUse).toBe(0);
    backend.destroy();
    // Neither the device nor the buffers were destroyed: they still compute.
    const again = await valueAndGrad(objectives.simpo, zeroCopy, {}, { backend: gpu });
    expect(again.loss).toBeCloseTo(want.loss, 5);
    chosen.destroy();
    rejected.destroy();
  });

  it('rejects GPUBuffers that cannot hold the shape or are not storage buffers', () => {
    const small = gpu.device.createBuffer({ size: 16, usage: STORAGE_COPY });
    expect(() => gpu.adopt({ buffer: small, shape: [2, 3] })).toThrow(/16 bytes is too small for shape \[2, 3\]/);
    const uniform = gpu.device.createBuffer({ size: 64, usage: 0x40 | 0x08 });
    expect(() => gpu.adopt({ buffer: uniform, shape: [4] })).toThrow(/GPUBufferUsage.STORAGE/);
    expect(gpu.adopt({ data: [1], shape: [1] })).toBeUndefined();
    small.destroy();
    uniform.destroy();
  });

  it('surfaces a validation error (a destroyed input buffer) as an error, not numbers', async () => {
    const buffer = gpu.device.createBuffer({ size: 64, usage: STORAGE_COPY });
    const x = gpu.adopt({ buffer, shape: [16] })!;
    buffer.destroy();
    const y = gpu.unary('exp', x);
    await expect(gpu.read([y])).rejects.toThrow(/webgpu: .*destroyed/i);
    // The backend keeps working afterwards.
    const [ok] = await gpu.read([gpu.fill([2], 3)]);
    expect(Array.from(ok)).toEqual([3, 3]);
  });

  it('reports gather and scatterAdd indices outside the axis as errors', async () => {
    const x = gpu.fromHost([1, 2, 3], [3]);
    await expect(gpu.read([gpu.gather(x, gpu.fromHostInt(Int32Array.from([0, 5]), [2]), 0)])).rejects.toThrow(
      /gather: an index is outside/,
    );
    await expect(gpu.read([gpu.scatterAdd([3], gpu.fromHostInt(Int32Array.from([-1]), [1]), gpu.fromHost([1], [1]), 0)])).rejects.toThrow(
      /scatterAdd: an index is outside/,
    );
  });

  it('turns a lost device into errors from every later call and from pending reads', async () => {
    const doomed = await createWebGpuBackend();
    const x = doomed.fromHost([1, 2, 3], [3]);
    const pending = doomed.read([doomed.unary('exp', x)]).then(
      (values) => ({ values }),
      (error: Error) => ({ error: error.message }),
    );
    doomed.device.destroy();
    await doomed.device.lost;
    const outcome = await pending;
    // A read already submitted may finish before the loss; if it does, its numbers are right.
    if ('values' in outcome) expect(outcome.values[0][1]).toBeCloseTo(Math.exp(2), 4);
    else expect(outcome.error).toMatch(/device was lost|destroyed/i);
    expect(() => doomed.unary('exp', x)).toThrow(/device was lost/);
    await expect(doomed.read([x])).rejects.toThrow(/device was lost/);
    doomed.destroy();
  });
});
