import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { slic } from '../src';
import { TOY_PAIR_BATCH } from '@pref/testing';

/** The toy batch of docs/objectives/slic.md (reference-notes §12). */
const toyBatch = TOY_PAIR_BATCH;

describe('slic worked example (docs/objectives/slic.md)', () => {
  const backend = createReferenceBackend({ precision: 64 });

  it('defaults: both pairs clear the margin, only the NLL term remains', async () => {
    const result = await valueAndGrad(slic, toyBatch, {}, { backend });
    expect(Array.from(result.perExample!)).toEqual([0, 0]);
    expect(result.loss).toBeCloseTo(0.042, 12);
  });

  it('δ 5: both hinges are active', async () => {
    const result = await valueAndGrad(slic, toyBatch, { delta: 5 }, { backend });
    expect(Array.from(result.perExample!)).toEqual([expect.closeTo(0.95, 12), expect.closeTo(0.45, 12)]);
    expect(result.loss).toBeCloseTo(0.742, 12);
    // d loss / d chosen token: −1/B from the hinge, −λ/5 from the NLL (5 chosen tokens).
    expect(result.grads.chosenLogps.data[0]).toBeCloseTo(-0.5 - 0.1 / 5, 12);
  });
});
