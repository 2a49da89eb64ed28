import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { finiteDifferenceGrad, pairBatchArbitrary, referenceSumsArbitrary, runDataParallel, worstMismatch } from '@pref/testing';
import { DPO_LOSS_TYPES, dpo, type DpoLossType } from '../src';
import { dpoByFormula } from './dpo-formulas';
import { referenceSums, tokenReferenceBatchArbitrary } from './dpo-arbitraries';

const backend = createReferenceBackend({ precision: 64 });
const PAIR_TYPES = DPO_LOSS_TYPES.filter((t) => t !== 'sft');
const SORTING = ['aot', 'aot_unpaired'];
const NON_SORTING = DPO_LOSS_TYPES.filter((t) => !SORTING.includes(t));
const GRAD_INPUTS = ['chosenLogps', 'rejectedLogps'] as const;

const batchArbitrary = (rows: number, minLogp = -8) =>
  fc.tuple(pairBatchArbitrary(rows, { minLogp }), referenceSumsArbitrary(rows)).map(([pairs, refs]) => ({ ...pairs, ...refs }));

const typeParams = fc.record({
  beta: fc.double({ min: 0.05, max: 1, noNaN: true }),
  labelSmoothing: fc.double({ min: 0.01, max: 0.4, noNaN: true }),
  discopopTau: fc.double({ min: 0.05, max: 1, noNaN: true }),
});

type Batch = Parameters<typeof dpoByFormula>[0];

/** Distance of the nearest non-differentiable point (hinge kink, ties in the aot sorts). */
function kinkDistance(batch: Batch, params: { beta: number; lossType: string }): number {
  const { chosen, rejected, refChosen, refRejected } = dpoByFormula(batch, { beta: params.beta }).sums;
  const rows = chosen.length;
  const gaps = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return Math.min(Infinity, ...sorted.slice(1).map((x, k) => x - sorted[k]));
  };
  const ratio = (b: number) => chosen[b] - refChosen[b] - (rejected[b] - refRejected[b]);
  switch (params.lossType) {
    case 'hinge':
      return Math.min(...Array.from({ length: rows }, (_, b) => Math.abs(1 - params.beta * ratio(b))));
    case 'aot':
      return Math.min(gaps(chosen.map((s, b) => s - rejected[b])), gaps(refChosen.map((r, b) => r - refRejected[b])));
    case 'aot_unpaired':
      return Math.min(gaps(chosen.map((s, b) => s - refChosen[b])), gaps(rejected.map((s, b) => s - refRejected[b])));
    default:
      return Infinity;
  }
}

async function expectGradMatchesFiniteDifferences(batch: Record<string, unknown>, params: Record<string, unknown>) {
  const result = await valueAndGrad(dpo, batch, params, { backend });
  for (const name of GRAD_INPUTS) {
    const numeric = await finiteDifferenceGrad(dpo, batch, params, name);
    expect(worstMismatch(result.grads[name].data, numeric, 1e-4, 1e-6), name).toBeLessThanOrEqual(1);
  }
}

describe('dpo properties', () => {
  describe('gradients match central finite differences', () => {
    for (const lossType of DPO_LOSS_TYPES) {
      it(lossType, async () => {
        await fc.assert(
          fc.asyncProperty(batchArbitrary(3), typeParams, async (batch, params) => {
            fc.pre(kinkDistance(batch, { beta: params.beta, lossType }) > 1e-3);
            await expectGradMatchesFiniteDifferences(batch, { ...params, lossType });
          }),
          { numRuns: 8 },
        );
      });
    }

    it('with modifiers: LD-DPO, f-divergences, referenceFree, weighted lists with sft', async () => {
      await fc.assert(
        fc.asyncProperty(
          tokenReferenceBatchArbitrary(3, { minLogp: -3, maxSteps: 4 }),
          fc.record({
            lossType: fc.constantFrom<string | string[]>(
              'sigmoid',
              'ipo',
              'nca_pair',
              ['sigmoid', 'sft'],
              ['bco_pair', 'sppo_hard', 'sft'],
            ),
            ldAlpha: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
            fDivergence: fc.constantFrom('reverse_kl', 'forward_kl', 'js_divergence', 'alpha_divergence'),
            fAlphaCoef: fc.double({ min: -1, max: 2, noNaN: true }),
            referenceFree: fc.boolean(),
          }),
          async (batch, params) => {
            const lossWeights = Array.isArray(params.lossType) ? params.lossType.map((_, k) => 0.25 + k) : null;
            await expectGradMatchesFiniteDifferences(batch, { ...params, lossWeights });
          },
        ),
        { numRuns: 15 },
      );
    });
  });

  it('values at masked positions change nothing (also reference tokens under LD-DPO)', async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenReferenceBatchArbitrary(3),
        fc.double({ min: -50, max: 0, noNaN: true }),
        fc.constantFrom(...PAIR_TYPES),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        async (batch, junk, lossType, ldAlpha) => {
          const params = { lossType, ldAlpha, labelSmoothing: 0.1 };
          const base = await valueAndGrad(dpo, batch, params, { backend });
          const scramble = (values: number[][], mask: number[][]) => values.map((row, b) => row.map((v, t) => (mask[b][t] ? v : junk)));
          const scrambled = {
            chosenLogps: scramble(batch.chosenLogps, batch.chosenMask),
            chosenMask: batch.chosenMask,
            rejectedLogps: scramble(batch.rejectedLogps, batch.rejectedMask),
            rejectedMask: batch.rejectedMask,
            refChosenTokenLogps: scramble(batch.refChosenTokenLogps, batch.chosenMask),
            refRejectedTokenLogps: scramble(batch.refRejectedTokenLogps, batch.rejectedMask),
          };
          const again = await valueAndGrad(dpo, scrambled, params, { backend });
          expect(again.loss).toBe(base.loss);
          for (const name of GRAD_INPUTS) expect(Array.from(again.grads[name].data)).toEqual(Array.from(base.grads[name].data));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('permuting pairs permutes per-example values and gradients and keeps the loss (aot*: nothing moves)', async () => {
    const rows = 4;
    await fc.assert(
      fc.asyncProperty(
        batchArbitrary(rows),
        fc.shuffledSubarray([0, 1, 2, 3], { minLength: rows, maxLength: rows }),
        fc.constantFrom<DpoLossType | DpoLossType[]>(...PAIR_TYPES, ['sigmoid', 'sft']),
        async (batch, order, lossType) => {
          const params = { lossType, labelSmoothing: 0.1, lossWeights: Array.isArray(lossType) ? [1, 0.5] : null };
          const permuted = Object.fromEntries(Object.entries(batch).map(([k, v]) => [k, order.map((i) => (v as unknown[])[i])]));
          const base = await valueAndGrad(dpo, batch, params, { backend });
          const moved = await valueAndGrad(dpo, permuted, params, { backend });
          expect(Math.abs(moved.loss - base.loss)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(base.loss)));
          const sorting = typeof lossType === 'string' && SORTING.includes(lossType);
          const expectedPerExample = sorting ? Array.from(base.perExample!) : order.map((i) => base.perExample![i]);
          expect(worstMismatch(moved.perExample!, expectedPerExample, 1e-12, 1e-15)).toBeLessThanOrEqual(1);
          for (const name of GRAD_INPUTS) {
            const { data, shape } = base.grads[name];
            const expected = order.flatMap((i) => Array.from(data.slice(i * shape[1], (i + 1) * shape[1])));
            expect(worstMismatch(moved.grads[name].data, expected, 1e-12, 1e-15)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  for (const precision of [64, 32] as const) {
    it(`the loss and gradients are finite for every finite log-prob in [-100, 0] (float${precision})`, async () => {
      const precisionBackend = createReferenceBackend({ precision });
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(pairBatchArbitrary(3, { minLogp: -100, maxLogp: 0 }), referenceSums(3, -600, 0)).map(([p, r]) => ({ ...p, ...r })),
          fc.constantFrom(...DPO_LOSS_TYPES),
          fc.double({ min: 0.01, max: 10, noNaN: true }),
          fc.double({ min: 1e-3, max: 0.49, noNaN: true }),
          async (batch, lossType, beta, labelSmoothing) => {
            const result = await valueAndGrad(dpo, batch, { lossType, beta, labelSmoothing }, { backend: precisionBackend });
            expect(Number.isFinite(result.loss)).toBe(true);
            for (const name of GRAD_INPUTS) expect(Array.from(result.grads[name].data).every(Number.isFinite)).toBe(true);
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('sigmoid with every f-divergence is finite for log-probs in [-100, 0] (float64)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(pairBatchArbitrary(3, { minLogp: -100, maxLogp: 0 }), referenceSums(3, -600, 0)).map(([p, r]) => ({ ...p, ...r })),
        fc.constantFrom('forward_kl', 'js_divergence', 'alpha_divergence'),
        fc.double({ min: -3, max: 3, noNaN: true }),
        async (batch, fDivergence, fAlphaCoef) => {
          const result = await valueAndGrad(dpo, batch, { fDivergence, fAlphaCoef }, { backend });
          expect(Number.isFinite(result.loss)).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('DPO sigmoid with policy = reference gives log 2 per pair', async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenReferenceBatchArbitrary(4),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        async (batch, beta, ldAlpha) => {
          // Token-level reference equal to the policy tokens (exact), with or without LD-DPO.
          const same = { ...batch, refChosenTokenLogps: batch.chosenLogps, refRejectedTokenLogps: batch.rejectedLogps };
          const tokens = await valueAndGrad(dpo, same, { beta, ldAlpha }, { backend });
          expect(Array.from(tokens.perExample!)).toEqual([Math.LN2, Math.LN2, Math.LN2, Math.LN2]);
          expect(tokens.loss).toBeCloseTo(Math.LN2, 15);
          // Summed reference equal to the policy sums.
          const { chosen, rejected } = dpoByFormula(batch, {}).sums;
          const { refChosenTokenLogps: _c, refRejectedTokenLogps: _r, ...pairs } = batch;
          const sums = await valueAndGrad(dpo, { ...pairs, refChosenLogps: chosen, refRejectedLogps: rejected }, { beta }, { backend });
          for (const v of sums.perExample!) expect(v).toBeCloseTo(Math.LN2, 12);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('a batch split over 3 simulated workers gives the single-worker loss and gradients (every non-aot type, lists with sft)', async () => {
    await fc.assert(
      fc.asyncProperty(
        batchArbitrary(5),
        typeParams,
        fc.oneof(fc.constantFrom(...NON_SORTING), fc.subarray([...NON_SORTING], { minLength: 2, maxLength: 4 })),
        async (batch, params, lossType) => {
          const lossWeights = Array.isArray(lossType) ? lossType.map((_, k) => 0.5 + 0.25 * k) : null;
          const all = { ...params, lossType, lossWeights };
          const single = await valueAndGrad(dpo, batch, all, { backend });
          const { workers, grads } = await runDataParallel(dpo, batch, all, { backend, rows: 5, boundaries: [0, 1, 3, 5] });
          for (const worker of workers) {
            expect(Math.abs(worker.loss - single.loss)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(single.loss)));
            for (const [name, value] of Object.entries(single.metrics)) expect(worker.metrics[name]).toBeCloseTo(value, 10);
          }
          for (const name of GRAD_INPUTS) {
            expect(worstMismatch(grads[name], single.grads[name].data, 1e-11, 1e-15)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('3 simulated workers with LD-DPO token references and an f-divergence equal one worker', async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenReferenceBatchArbitrary(5, { minLogp: -4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (batch, ldAlpha) => {
          const params = { lossType: ['sigmoid', 'sft'], ldAlpha, fDivergence: 'js_divergence' } as const;
          const single = await valueAndGrad(dpo, batch, params, { backend });
          const { workers, grads } = await runDataParallel(dpo, batch, params, { backend, rows: 5, boundaries: [0, 2, 3, 5] });
          for (const worker of workers) expect(Math.abs(worker.loss - single.loss)).toBeLessThanOrEqual(1e-12);
          for (const name of GRAD_INPUTS) expect(worstMismatch(grads[name], single.grads[name].data, 1e-11, 1e-15)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('referenceFree treats the reference sums as 0 in the loss and in the rewards (conformance dpo/1/040)', async () => {
    await fc.assert(
      fc.asyncProperty(batchArbitrary(3), fc.constantFrom(...NON_SORTING), async (batch, lossType) => {
        const params = { referenceFree: true, lossType, labelSmoothing: 0.1 };
        const result = await valueAndGrad(dpo, batch, params, { backend });
        const zeroRefs = await valueAndGrad(
          dpo,
          { ...batch, refChosenLogps: [0, 0, 0], refRejectedLogps: [0, 0, 0] },
          { ...params, referenceFree: false },
          { backend },
        );
        expect(result.loss).toBe(zeroRefs.loss);
        expect(result.metrics).toEqual(zeroRefs.metrics);
        expect(result.metrics['rewards/chosen']).toBeCloseTo(0.1 * result.metrics['logps/chosen'], 12);
      }),
      { numRuns: 15 },
    );
  });
});
