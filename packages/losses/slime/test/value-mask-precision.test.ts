import { describe, expect, it } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { referenceBackends } from '@pref/testing';
import { slime } from '../src';

// rejectedMaskFromValues drops rejected tokens whose log-prob is exactly 0; −1e−300 is not 0,
// and float32 (where it would round to 0) must count it as float64 does.
const batch = {
  chosenLogps: [
    [-0.5, -1.0],
    [-0.2, -0.4],
  ],
  chosenMask: [
    [1, 1],
    [1, 1],
  ],
  rejectedLogps: [
    [-1e-300, -2.0],
    [0, -1.5],
  ],
  rejectedMask: [
    [1, 1],
    [1, 1],
  ],
};

describe('slime rejectedMaskFromValues across precisions', () => {
  it('keeps a −1e−300 rejected log-prob in float32 as in float64 (and drops an exact 0 in both)', async () => {
    const results: Awaited<ReturnType<typeof valueAndGrad<typeof slime>>>[] = [];
    for (const backendUnderTest of referenceBackends) {
      const backend = await backendUnderTest.create();
      if ('unavailable' in backend) return expect.fail(backend.unavailable);
      results.push(await valueAndGrad(slime, batch, { rejectedMaskFromValues: true }, { backend }));
    }
    const [f64, , f32] = results;
    const grad = (r: (typeof results)[number]) => Array.from(r.grads.rejectedLogps.data);
    // Counting the −1e−300 token or not changes the stabilizer's token mean, so loss and gradient
    // differ between precisions unless float32 counts it too.
    grad(f32).forEach((g, i) => expect(g, `rejectedLogps gradient ${i}`).toBeCloseTo(grad(f64)[i], 5));
    expect(f32.loss).toBeCloseTo(f64.loss, 6);
  });
});
