import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { kto } from '../src';

/** The example of docs/objectives/kto.md (reference-notes §12): r = [0.15, −0.7], z0 = 0.05. */
const exampleBatch = {
  logps: [
    [-1.0, -0.75, 0, 0],
    [-2.0, -0.1, -3.0, -0.7],
  ],
  mask: [
    [1, 1, 0, 0],
    [1, 1, 1, 1],
  ],
  refLogps: [-1.9, -5.1],
  desirable: [1, 0],
  klLogps: [-4.0, -3.0],
  klRefLogps: [-4.3, -2.8],
};

describe('kto worked example (docs/objectives/kto.md)', () => {
  it('β 0.1, unit weights', async () => {
    const result = await valueAndGrad(kto, exampleBatch, {}, { backend: createReferenceBackend({ precision: 64 }) });
    expect(result.metrics.kl).toBeCloseTo(0.05, 12);
    expect(Array.from(result.perExample!)).toEqual([expect.closeTo(0.4975000208, 9), expect.closeTo(0.4812587841, 9)]);
    expect(result.loss).toBeCloseTo(0.4893794025, 9);
    expect(result.metrics['rewards/chosen']).toBeCloseTo(0.015, 12);
    expect(result.metrics['rewards/rejected']).toBeCloseTo(-0.07, 12);
    expect(result.metrics['rewards/margins']).toBeCloseTo(0.085, 12);
  });
});
