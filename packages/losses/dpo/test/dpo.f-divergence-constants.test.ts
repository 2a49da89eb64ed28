import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { dpo } from '../src';
import { dpoByFormula, type FormulaBatch, type FormulaParams } from './dpo-formulas';
import { tokenReferenceBatchArbitrary } from './dpo-arbitraries';

const backend = createReferenceBackend();
const closeTo = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-10 + 1e-10 * Math.abs(expected));
const run = (batch: FormulaBatch, params: FormulaParams) =>
  valueAndGrad(dpo, batch as Record<string, unknown>, params as Record<string, unknown>, { backend });
const DIVERGENCES = ['forward_kl', 'js_divergence', 'alpha_divergence'] as const;

describe('f-divergence constants (fDivergenceConstants)', () => {
  it('default true (TRL 1.13) and false (earlier TRL) both match their formulas for ipo and sigmoid_norm', async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenReferenceBatchArbitrary(3, { minLogp: -3, maxSteps: 4 }),
        fc.constantFrom('ipo', 'sigmoid_norm'),
        fc.constantFrom(...DIVERGENCES),
        fc.boolean(),
        async (batch, lossType, fDivergence, fDivergenceConstants) => {
          const params = { lossType, fDivergence, fAlphaCoef: 0.5, fDivergenceConstants };
          const result = await run(batch, params);
          closeTo(result.loss, dpoByFormula(batch, params).loss);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('change ipo and sigmoid_norm with unequal lengths, and cancel in every unnormalized Δ (sigmoid, hinge)', async () => {
    const batch = {
      chosenLogps: [[-0.4, -0.9, -0.2]],
      chosenMask: [[1, 1, 1]],
      rejectedLogps: [[-1.5, -0.7]],
      rejectedMask: [[1, 0]],
      refChosenLogps: [-1.0],
      refRejectedLogps: [-2.2],
    };
    for (const fDivergence of DIVERGENCES) {
      for (const lossType of ['ipo', 'sigmoid_norm']) {
        const kept = await run(batch, { lossType, fDivergence });
        const dropped = await run(batch, { lossType, fDivergence, fDivergenceConstants: false });
        expect(Math.abs(kept.loss - dropped.loss), `${fDivergence} ${lossType}`).toBeGreaterThan(1e-4);
      }
      for (const lossType of ['sigmoid', 'hinge']) {
        const kept = await run(batch, { lossType, fDivergence });
        const dropped = await run(batch, { lossType, fDivergence, fDivergenceConstants: false });
        closeTo(kept.loss, dropped.loss);
      }
    }
  });

  it('forward_kl with constants: s = 1 − e^{−r}, by hand', async () => {
    // r_w = −1 − (−1.5) = 0.5, r_l = −2 − (−1) = −1; lengths 1 and 2; β = 0.1.
    const batch = {
      chosenLogps: [[-1]],
      chosenMask: [[1]],
      rejectedLogps: [[-1.5, -0.5]],
      rejectedMask: [[1, 1]],
      refChosenLogps: [-1.5],
      refRejectedLogps: [-1],
    };
    const result = await run(batch, { lossType: 'sigmoid_norm', fDivergence: 'forward_kl' });
    const delta = (1 - Math.exp(-0.5)) / 1 - (1 - Math.exp(1)) / 2;
    closeTo(result.loss, Math.log1p(Math.exp(-0.1 * delta)));
  });
});
