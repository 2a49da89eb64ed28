import { describe, expect, it } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { referenceBackends } from '@pref/testing';
import { lmpo } from '../src';

// Identical pairs (p_w = p_l, so x = 0) with a non-integer margin exponent: the derivative of
// |x|^k is unbounded at 0 for k < 1; the loss and gradients must stay finite on every precision.
const identical = {
  chosenLogps: [
    [-0.7, -1.2],
    [-0.3, -2.0],
    [-1e-300, -4.0],
  ],
  chosenMask: [
    [1, 1],
    [1, 0],
    [1, 1],
  ],
  rejectedLogps: [
    [-0.7, -1.2],
    [-0.3, -2.0],
    [-1e-300, -4.0],
  ],
  rejectedMask: [
    [1, 1],
    [1, 0],
    [1, 1],
  ],
};

describe('lmpo margin numerics', () => {
  for (const backendUnderTest of referenceBackends) {
    it(`marginExponent < 1 (and non-integer > 1) with p_w = p_l gives finite gradients on ${backendUnderTest.name}`, async () => {
      const backend = await backendUnderTest.create();
      if ('unavailable' in backend) return expect.fail(backend.unavailable);
      for (const marginExponent of [0.05, 0.5, 0.999, 1.5]) {
        const result = await valueAndGrad(lmpo, identical, { marginExponent } as never, { backend });
        expect(Number.isFinite(result.loss), `k = ${marginExponent}: loss ${result.loss}`).toBe(true);
        for (const [name, grad] of Object.entries(result.grads)) {
          expect(Array.from(grad.data).every(Number.isFinite), `k = ${marginExponent}: ${name}`).toBe(true);
        }
      }
    });
  }

  it('away from x = 0 the loss stays continuous in k (the gradient floor leaves values alone)', async () => {
    const backend = await referenceBackends[0].create();
    if ('unavailable' in backend) return expect.fail(backend.unavailable);
    const apart = {
      ...identical,
      rejectedLogps: [
        [-1.7, -1.2],
        [-2.3, -2.0],
        [-3, -4.0],
      ],
    };
    const a = await valueAndGrad(lmpo, apart, { marginExponent: 0.5 } as never, { backend });
    const b = await valueAndGrad(lmpo, apart, { marginExponent: 0.5 + 1e-9 } as never, { backend });
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6);
    expect(Number.isFinite(a.loss)).toBe(true);
  });
});
