import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { cpo } from '../src';
import { TOY_PAIR_BATCH } from '@pref/testing';

/** The toy batch of docs/objectives/cpo.md (reference-notes §12). */
const toyBatch = TOY_PAIR_BATCH;

describe('cpo worked example (docs/objectives/cpo.md)', () => {
  const backend = createReferenceBackend({ precision: 64 });

  it('defaults: sigmoid, β 0.1, cpoAlpha 1', async () => {
    const result = await valueAndGrad(cpo, toyBatch, {}, { backend });
    expect(result.metrics['nll_loss']).toBeCloseTo(0.42, 12);
    expect(Array.from(result.perExample!)).toEqual([expect.closeTo(0.511011693, 9), expect.closeTo(0.4913051131, 9)]);
    expect(result.loss).toBeCloseTo(0.921158403, 9);
  });

  it('simpo, β 2, γ 1, cpoAlpha 0 equals SimPO with γ/β 0.5', async () => {
    const result = await valueAndGrad(cpo, toyBatch, { lossType: 'simpo', beta: 2, gamma: 1, cpoAlpha: 0 }, { backend });
    expect(result.loss).toBeCloseTo(0.2647411449, 9);
  });

  it('alphapo preset', async () => {
    const result = await valueAndGrad(cpo, toyBatch, { preset: 'alphapo' }, { backend });
    expect(result.loss).toBeCloseTo(0.0380954936, 9);
  });
});
