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
import { orpo } from '../src';

const backend = createReferenceBackend();
const paramsArbitrary = fc.record({ beta: fc.double({ min: 0, max: 3, noNaN: true }) });

describe('orpo properties', () => {
  it('gradients match central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3, { minLogp: -8 }), paramsArbitrary, async (batch, params) => {
        const result = await valueAndGrad(orpo, batch, params, { backend });
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          const numeric = await finiteDifferenceGrad(orpo, batch, params, name);
          expect(worstMismatch(result.grads[name].data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('values at masked positions change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3), paramsArbitrary, fc.double({ min: -50, max: 0, noNaN: true }), (batch, params, junk) =>
        expectMaskedValuesIgnored(orpo, batch, params, { backend, masked: PAIRWISE_MASKS, junk }),
      ),
      { numRuns: 25 },
    );
  });

  it('a batch split over 3 simulated workers gives the single-worker loss, gradients and metrics', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(5), paramsArbitrary, (batch, params) =>
        expectDataParallelAgreement(orpo, batch, params, { backend, rows: 5, boundaries: [0, 1, 3, 5] }),
      ),
      { numRuns: 20 },
    );
  });

  it('loss and gradients stay finite when an average log-prob is 0, tiny, or just above 0 (both precisions)', async () => {
    for (const precision of [64, 32] as const) {
      const backendAt = createReferenceBackend({ precision });
      for (const near of [0, 1e-7, -1e-7, -1e-20, -Math.LN2, -1e-3]) {
        const batch = {
          chosenLogps: [
            [near, near],
            [-0.2, -40],
          ],
          chosenMask: [
            [1, 1],
            [1, 1],
          ],
          rejectedLogps: [
            [-0.7, -300],
            [near, 0],
          ],
          rejectedMask: [
            [1, 1],
            [1, 0],
          ],
        };
        const result = await valueAndGrad(orpo, batch, { beta: 0.5 }, { backend: backendAt });
        expect(Number.isFinite(result.loss), `loss at ${near} (float${precision})`).toBe(true);
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          for (const g of result.grads[name].data) expect(Number.isFinite(g), `${name} at ${near} (float${precision})`).toBe(true);
        }
        for (const value of Object.values(result.metrics)) expect(Number.isFinite(value)).toBe(true);
      }
    }
  });
});
