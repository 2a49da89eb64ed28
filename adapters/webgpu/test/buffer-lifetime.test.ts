import { afterAll, describe, expect, it } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { installedObjectives } from '@pref/testing';
import { startWebGpu } from './web-gpu-under-test';
import { reference } from './compare-backends';

const started = await startWebGpu();
const unavailable = 'unavailable' in started ? started.unavailable : null;
const gpu = started as Exclude<typeof started, { unavailable: string }>;
afterAll(() => (unavailable ? undefined : gpu.destroy()));
const { objectives } = await installedObjectives();

const batch = {
  chosenLogits: [
    [
      [1, 2, 0.5, -1, 3],
      [0.2, 0.1, 0, 4, 1],
    ],
    [
      [2, 1, 0, 0, 1],
      [1, 1, 1, 1, 1],
    ],
  ],
  chosenLabels: [
    [1, 3],
    [0, -100],
  ],
  rejectedLogits: [
    [
      [0, 0, 1, 2, 3],
      [3, 2, 1, 0, -1],
    ],
    [
      [1, 0, 1, 0, 1],
      [2, 2, 2, 0, 0],
    ],
  ],
  rejectedLabels: [
    [4, 0],
    [2, 1],
  ],
};

const suite = unavailable ? describe.skip : describe;
suite(unavailable ? `buffer lifetime (skipped: ${unavailable})` : 'buffer lifetime', () => {
  it.skipIf(!objectives.simpo)(
    '1,000 valueAndGrad steps release or pool every buffer they allocate',
    async () => {
      const simpo = objectives.simpo;
      const expected = await valueAndGrad(simpo, batch, {}, { backend: reference });
      await valueAndGrad(simpo, batch, {}, { backend: gpu });
      const warm = gpu.stats();
      expect(warm.inUse).toBe(0);
      let loss = 0;
      for (let step = 0; step < 1000; step++) loss = (await valueAndGrad(simpo, batch, {}, { backend: gpu })).loss;
      const after = gpu.stats();
      // Every buffer a step takes is back in the pool when the step returns, and later steps reuse them.
      expect(after.inUse).toBe(0);
      expect(after.created).toBe(warm.created);
      expect(after.pooled).toBe(warm.pooled);
      expect(after.stagingPooled).toBe(warm.stagingPooled);
      expect(after.reused - warm.reused).toBeGreaterThan(1000 * 20);
      expect(Math.abs(loss - expected.loss)).toBeLessThan(1e-5);
    },
    180_000,
  );

  it('reshaped views share storage, which returns to the pool when the last view is disposed', async () => {
    const before = gpu.stats();
    const x = gpu.fromHost([1, 2, 3, 4, 5, 6], [2, 3]);
    const view = gpu.reshape(x, [3, 2]);
    gpu.dispose(x);
    expect(gpu.stats().inUse).toBe(before.inUse + 1);
    const [values] = await gpu.read([view]);
    expect(Array.from(values)).toEqual([1, 2, 3, 4, 5, 6]);
    gpu.dispose(view);
    gpu.dispose(view);
    expect(gpu.stats().inUse).toBe(before.inUse);
    expect(() => gpu.unary('exp', view)).toThrow(/disposed/);
  });

  it('a forward without its gradient keeps nothing: its log-sum-exp is a tensor the caller owns', async () => {
    const before = gpu.stats();
    const logits = gpu.fromHost([1, 2, 3, 4], [2, 2]);
    const labels = gpu.fromHostInt(Int32Array.from([0, 1]), [2]);
    for (let i = 0; i < 20; i++) {
      const { logps, logSumExp } = gpu.tokenLogProbs(logits, labels, -100);
      gpu.dispose(logps);
      gpu.dispose(logSumExp);
    }
    gpu.dispose(logits);
    gpu.dispose(labels);
    expect(gpu.stats().inUse).toBe(before.inUse);
  });
});
