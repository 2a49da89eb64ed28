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
import { cpo, type CpoParams } from '../src';

const backend = createReferenceBackend();

const paramsArbitrary = fc
  .record({
    beta: fc.double({ min: 0.05, max: 3, noNaN: true }),
    lossType: fc.constantFrom('sigmoid', 'hinge', 'ipo', 'simpo') as fc.Arbitrary<CpoParams['lossType']>,
    gamma: fc.double({ min: -1, max: 2, noNaN: true }),
    alpha: fc.oneof(fc.constant(0), fc.double({ min: -0.3, max: 0.3, noNaN: true })),
    labelSmoothing: fc.double({ min: 0, max: 0.4, noNaN: true }),
    cpoAlpha: fc.double({ min: 0, max: 2, noNaN: true }),
  })
  .map((params) => ({ ...params, labelSmoothing: ['sigmoid', 'simpo'].includes(params.lossType) ? params.labelSmoothing : 0 }));

type PairBatch = { chosenLogps: number[][]; chosenMask: number[][]; rejectedLogps: number[][]; rejectedMask: number[][] };

/** βΔ per pair, computed here on the host from the definition (to stay off the hinge's kink). */
function scaledMargins(batch: PairBatch, params: CpoParams): number[] {
  const averaged = params.lossType === 'ipo' || params.lossType === 'simpo';
  const logp = (row: number[], mask: number[]) => {
    const sum = row.reduce((s, l, t) => s + (mask[t] ? l : 0), 0);
    return averaged ? sum / mask.reduce((s, m) => s + m, 0) : sum;
  };
  const reward = (p: number) => (params.alpha === 0 ? p : (1 - Math.exp(-params.alpha * p)) / params.alpha);
  return batch.chosenLogps.map(
    (row, b) => params.beta * (reward(logp(row, batch.chosenMask[b])) - reward(logp(batch.rejectedLogps[b], batch.rejectedMask[b]))),
  );
}

describe('cpo properties', () => {
  it('gradients match central finite differences (every loss type, with and without AlphaPO)', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3, { minLogp: -3 }), paramsArbitrary, async (batch, params) => {
        if (params.lossType === 'hinge') fc.pre(scaledMargins(batch, params).every((z) => Math.abs(1 - z) > 1e-3));
        const result = await valueAndGrad(cpo, batch, params, { backend });
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          const numeric = await finiteDifferenceGrad(cpo, batch, params, name);
          expect(worstMismatch(result.grads[name].data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('values at masked positions change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3), paramsArbitrary, fc.double({ min: -50, max: 0, noNaN: true }), (batch, params, junk) =>
        expectMaskedValuesIgnored(cpo, batch, params, { backend, masked: PAIRWISE_MASKS, junk }),
      ),
      { numRuns: 25 },
    );
  });

  it('a batch split over 3 simulated workers gives the single-worker loss, gradients and metrics', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(5, { minLogp: -3 }), paramsArbitrary, (batch, params) =>
        expectDataParallelAgreement(cpo, batch, params, {
          backend,
          rows: 5,
          boundaries: [0, 1, 3, 5],
          digits: 10,
          gradRtol: 1e-10,
          gradAtol: 1e-14,
        }),
      ),
      { numRuns: 20 },
    );
  });

  it('the AlphaPO reward tends to the plain log-prob as α → 0', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(2, { minLogp: -3 }), async (batch) => {
        const plain = await valueAndGrad(cpo, batch, { lossType: 'simpo', alpha: 0 }, { backend });
        const shaped = await valueAndGrad(cpo, batch, { lossType: 'simpo', alpha: 1e-7 }, { backend });
        expect(shaped.loss).toBeCloseTo(plain.loss, 5);
        expect(shaped.loss).not.toBe(plain.loss);
      }),
      { numRuns: 10 },
    );
  });

  it('rejects label smoothing on hinge and ipo, naming the parameter', async () => {
    const batch = { chosenLogps: [[-1]], chosenMask: [[1]], rejectedLogps: [[-2]], rejectedMask: [[1]] };
    for (const lossType of ['hinge', 'ipo'] as const) {
      await expect(valueAndGrad(cpo, batch, { lossType, labelSmoothing: 0.1 }, { backend })).rejects.toThrow(/labelSmoothing/);
    }
    await expect(valueAndGrad(cpo, batch, { beta: 0 }, { backend })).rejects.toThrow(/beta/);
  });
});
