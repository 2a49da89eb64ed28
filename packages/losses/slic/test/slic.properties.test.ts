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
import { slic } from '../src';

const backend = createReferenceBackend();
const paramsArbitrary = fc.record({
  delta: fc.double({ min: 0, max: 20, noNaN: true }),
  lambda: fc.double({ min: 0, max: 2, noNaN: true }),
});

type PairBatch = { chosenLogps: number[][]; chosenMask: number[][]; rejectedLogps: number[][]; rejectedMask: number[][] };
const summed = (row: number[], mask: number[]) => row.reduce((s, l, t) => s + (mask[t] ? l : 0), 0);
/** `δ − S_w + S_l` per pair, from the definition (the hinge's kink is at 0). */
function hingeArguments(batch: PairBatch, delta: number): number[] {
  return batch.chosenLogps.map(
    (row, b) => delta - summed(row, batch.chosenMask[b]) + summed(batch.rejectedLogps[b], batch.rejectedMask[b]),
  );
}

describe('slic properties', () => {
  it('gradients match central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3, { minLogp: -5 }), paramsArbitrary, async (batch, params) => {
        fc.pre(hingeArguments(batch, params.delta).every((x) => Math.abs(x) > 1e-3));
        const result = await valueAndGrad(slic, batch, params, { backend });
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          const numeric = await finiteDifferenceGrad(slic, batch, params, name);
          expect(worstMismatch(result.grads[name].data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('values at masked positions change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3), paramsArbitrary, fc.double({ min: -50, max: 0, noNaN: true }), (batch, params, junk) =>
        expectMaskedValuesIgnored(slic, batch, params, { backend, masked: PAIRWISE_MASKS, junk }),
      ),
      { numRuns: 25 },
    );
  });

  it('a batch split over 3 simulated workers gives the single-worker loss, gradients and metrics', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(5), paramsArbitrary, (batch, params) =>
        expectDataParallelAgreement(slic, batch, params, { backend, rows: 5, boundaries: [0, 1, 3, 5] }),
      ),
      { numRuns: 20 },
    );
  });
});
