import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import {
  expectDataParallelAgreement,
  expectMaskedValuesIgnored,
  finiteDifferenceGrad,
  pairBatchArbitrary,
  PAIRWISE_MASKS,
  worstMismatch,
} from '@pref/testing';
import { simpo } from '../src';

const backend = createReferenceBackend();
const paramsArbitrary = fc.record({
  beta: fc.double({ min: 0.1, max: 5, noNaN: true }),
  gamma: fc.double({ min: -1, max: 2, noNaN: true }),
  labelSmoothing: fc.double({ min: 0, max: 0.4, noNaN: true }),
  lossType: fc.constantFrom('sigmoid', 'hinge'),
  sftWeight: fc.double({ min: 0, max: 1, noNaN: true }),
});

type PairBatch = { chosenLogps: number[][]; chosenMask: number[][]; rejectedLogps: number[][]; rejectedMask: number[][] };
const average = (logps: number[], mask: number[]) => logps.reduce((s, l, t) => s + (mask[t] ? l : 0), 0) / mask.reduce((s, m) => s + m, 0);
function hingeMargins(batch: PairBatch, params: { beta: number; gamma: number }): number[] {
  return batch.chosenLogps.map(
    (row, b) => params.beta * (average(row, batch.chosenMask[b]) - average(batch.rejectedLogps[b], batch.rejectedMask[b])) - params.gamma,
  );
}

describe('simpo properties', () => {
  it('gradients match central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3, { minLogp: -8 }), paramsArbitrary, async (batch, params) => {
        // The hinge has a kink at z = 1, where finite differences are not the derivative.
        if (params.lossType === 'hinge') fc.pre(hingeMargins(batch, params).every((z) => Math.abs(1 - z) > 1e-3));
        const result = await valueAndGrad(simpo, batch, params, { backend });
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          const numeric = await finiteDifferenceGrad(simpo, batch, params, name);
          expect(worstMismatch(result.grads[name].data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('values at masked positions change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3), paramsArbitrary, fc.double({ min: -50, max: 0, noNaN: true }), (batch, params, junk) =>
        expectMaskedValuesIgnored(simpo, batch, params, { backend, masked: PAIRWISE_MASKS, junk }),
      ),
      { numRuns: 30 },
    );
  });

  it('a batch split over 3 simulated workers gives the single-worker loss, gradients and metrics', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(5), paramsArbitrary, (batch, params) =>
        expectDataParallelAgreement(simpo, batch, params, { backend, rows: 5, boundaries: [0, 1, 3, 5] }),
      ),
      { numRuns: 20 },
    );
  });
});
