import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { runDataParallel, worstMismatch } from '@pref/testing';
import { DPO_LOSS_TYPES, dpo } from '../src';
import { dpoByFormula, type FormulaBatch, type FormulaParams } from './dpo-formulas';
import { logitsPairBatchArbitrary, tokenReferenceBatchArbitrary } from './dpo-arbitraries';

const backend = createReferenceBackend({ precision: 64 });
const PAIR_TYPES = DPO_LOSS_TYPES.filter((t) => t !== 'sft' && t !== 'aot' && t !== 'aot_unpaired');

const closeTo = (actual: number, expected: number, rtol = 1e-10) =>
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(1e-12 + rtol * Math.abs(expected));

async function expectMatchesFormula(batch: FormulaBatch, params: FormulaParams, options: { perExample?: boolean } = {}) {
  const result = await valueAndGrad(dpo, batch as Record<string, unknown>, params as Record<string, unknown>, { backend });
  const expected = dpoByFormula(batch, params);
  closeTo(result.loss, expected.loss);
  if (options.perExample ?? true) expected.perExample.forEach((v, b) => closeTo(result.perExample![b], v));
  for (const [name, value] of Object.entries(expected.metrics)) closeTo(result.metrics[name], value);
  return { result, expected };
}

describe('LD-DPO (ldAlpha)', () => {
  it('a hand-computed pair: prompt zeros in the mask, positions count from the completion start', async () => {
    // chosen: one prompt position then 3 completion tokens; rejected: 2 tokens then padding.
    // l_p = min(3, 2) = 2, so only the chosen 3rd completion token is down-weighted by α = 0.5.
    const batch = {
      chosenLogps: [[-9, -1, -2, -4]],
      chosenMask: [[0, 1, 1, 1]],
      rejectedLogps: [[-3, -5, -7, -7]],
      rejectedMask: [[1, 1, 0, 0]],
      refChosenTokenLogps: [[-9, -2, -2, -2]],
      refRejectedTokenLogps: [[-1, -1, -7, -7]],
    };
    const result = await valueAndGrad(dpo, batch, { ldAlpha: 0.5, beta: 0.1 }, { backend });
    const sW = -1 - 2 + 0.5 * -4; // −5
    const rW = -2 - 2 + 0.5 * -2; // −5
    const sL = -3 - 5; // −8
    const rL = -1 - 1; // −2
    const z = 0.1 * (sW - rW - (sL - rL)); // 0.6
    closeTo(result.loss, Math.log1p(Math.exp(-z)));
    closeTo(result.metrics['logps/chosen'], sW);
    closeTo(result.metrics['rewards/rejected'], 0.1 * (sL - rL));
    // d loss/d l: −σ(−z)·β·weight on counted chosen tokens, 0 on the prompt position.
    const g = -(1 / (1 + Math.exp(z))) * 0.1;
    const grad = Array.from(result.grads.chosenLogps.data);
    [0, g, g, 0.5 * g].forEach((v, t) => closeTo(grad[t], v));
  });

  it('matches the formulas for every pair loss type, α in [0, 1], general masks', async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenReferenceBatchArbitrary(3),
        fc.constantFrom(...DPO_LOSS_TYPES.filter((t) => t !== 'sft')),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        async (batch, lossType, ldAlpha, beta) => {
          const params = { lossType, ldAlpha, beta, labelSmoothing: 0.1 };
          await expectMatchesFormula(batch, params, { perExample: true });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('ldAlpha = 1 equals no LD weighting; token-level references equal their sums', async () => {
    await fc.assert(
      fc.asyncProperty(tokenReferenceBatchArbitrary(3), async (batch) => {
        const withAlpha = await valueAndGrad(dpo, batch, { ldAlpha: 1 }, { backend });
        const plain = await valueAndGrad(dpo, batch, {}, { backend });
        const summed = dpoByFormula(batch, {}).sums;
        const withSums = await valueAndGrad(
          dpo,
          {
            ...batch,
            refChosenTokenLogps: undefined,
            refRejectedTokenLogps: undefined,
            refChosenLogps: summed.refChosen,
            refRejectedLogps: summed.refRejected,
          },
          {},
          { backend },
        );
        closeTo(withAlpha.loss, plain.loss, 1e-12);
        closeTo(withSums.loss, plain.loss, 1e-12);
      }),
      { numRuns: 20 },
    );
  });

  it('needs token-level reference log-probs', async () => {
    const batch = {
      chosenLogps: [[-1, -2]],
      chosenMask: [[1, 1]],
      rejectedLogps: [[-3]],
      rejectedMask: [[1]],
      refChosenLogps: [-3],
      refRejectedLogps: [-3],
    };
    await expect(valueAndGrad(dpo, batch, { ldAlpha: 0.5 }, { backend })).rejects.toThrow(/ldAlpha.*refChosenTokenLogps/);
    await expect(valueAndGrad(dpo, { ...batch, refChosenTokenLogps: [[-1, -2]] }, {}, { backend })).rejects.toThrow(
      /either refChosenLogps .* or refChosenTokenLogps/,
    );
    await expect(valueAndGrad(dpo, batch, { ldAlpha: 1.5 }, { backend })).rejects.toThrow(/ldAlpha/);
    await expect(valueAndGrad(dpo, { ...batch, refChosenTokenLogps: [[-1]], refChosenLogps: undefined }, {}, { backend })).rejects.toThrow(
      /refChosenTokenLogps has shape \[1, 1\]/,
    );
    // referenceFree needs no reference at all.
    const free = await valueAndGrad(
      dpo,
      { ...batch, refChosenLogps: undefined, refRejectedLogps: undefined },
      { referenceFree: true, ldAlpha: 0.5 },
      { backend },
    );
    // l_p = min(2, 1) = 1: S_w = −1 + 0.5·(−2) = −2, S_l = −3, z = 0.1·(−2 + 3).
    closeTo(free.loss, Math.log1p(Math.exp(-0.1 * (-2 - -3))));
  });
});

describe('WPO (useWeighting)', () => {
  it('matches the formulas (weights from the logits) for every pair loss type and with sft', async () => {
    await fc.assert(
      fc.asyncProperty(
        logitsPairBatchArbitrary(3),
        fc.constantFrom<string | string[]>(...PAIR_TYPES, ['sigmoid', 'sft'], ['ipo', 'sft', 'bco_pair']),
        async (batch, lossType) => {
          const lossWeights = Array.isArray(lossType) ? lossType.map((_, k) => 0.5 + k) : null;
          const params = { lossType, lossWeights, useWeighting: true, beta: 0.5, labelSmoothing: 0.2 };
          const { expected } = await expectMatchesFormula(batch, params);
          expect(expected.wpoWeights!.every((w) => w > 0 && Number.isFinite(w))).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('the weights are detached: each pair’s gradient is w_b times its unweighted gradient', async () => {
    await fc.assert(
      fc.asyncProperty(logitsPairBatchArbitrary(3), fc.constantFrom(...PAIR_TYPES), async (batch, lossType) => {
        const params = { lossType, beta: 0.5, labelSmoothing: 0.2 };
        const weighted = await valueAndGrad(dpo, batch, { ...params, useWeighting: true }, { backend });
        const plain = await valueAndGrad(dpo, batch, params, { backend });
        const w = dpoByFormula(batch, { ...params, useWeighting: true }).wpoWeights!;
        for (const name of ['chosenLogits', 'rejectedLogits'] as const) {
          const { data, shape } = plain.grads[name];
          const rowSize = shape[1] * shape[2];
          const scaled = Array.from(data, (g, i) => g * w[Math.floor(i / rowSize)]);
          expect(worstMismatch(weighted.grads[name].data, scaled, 1e-10, 1e-14)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('3 simulated workers equal one worker (with sft)', async () => {
    await fc.assert(
      fc.asyncProperty(logitsPairBatchArbitrary(4), async (batch) => {
        const params = { lossType: ['sigmoid', 'sft'], lossWeights: [1, 0.3], useWeighting: true } as const;
        const single = await valueAndGrad(dpo, batch, params, { backend });
        const { workers, grads } = await runDataParallel(dpo, batch, params, { backend, rows: 4, boundaries: [0, 1, 3, 4] });
        for (const worker of workers) closeTo(worker.loss, single.loss, 1e-12);
        for (const name of ['chosenLogits', 'rejectedLogits'] as const) {
          expect(worstMismatch(grads[name], single.grads[name].data, 1e-11, 1e-15)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 10 },
    );
  });

  it('errors: log-prob path, and aot/aot_unpaired', async () => {
    const batch = {
      chosenLogps: [[-1, -2]],
      chosenMask: [[1, 1]],
      rejectedLogps: [[-3]],
      rejectedMask: [[1]],
      refChosenLogps: [-3],
      refRejectedLogps: [-3],
    };
    await expect(valueAndGrad(dpo, batch, { useWeighting: true }, { backend })).rejects.toThrow(/useWeighting.*chosenLogits/);
    for (const lossType of ['aot', ['sigmoid', 'aot_unpaired']] as const) {
      await expect(valueAndGrad(dpo, batch, { useWeighting: true, lossType }, { backend })).rejects.toThrow(/useWeighting/);
    }
  });
});

describe('f-divergence scores (fDivergence)', () => {
  it('match the formulas for every loss type and divergence', async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenReferenceBatchArbitrary(3, { minLogp: -3, maxSteps: 4 }),
        fc.constantFrom(...DPO_LOSS_TYPES.filter((t) => t !== 'sft')),
        fc.constantFrom('forward_kl', 'js_divergence', 'alpha_divergence'),
        fc.oneof(fc.double({ min: -2, max: 3, noNaN: true }), fc.constant(1)),
        async (batch, lossType, fDivergence, fAlphaCoef) => {
          await expectMatchesFormula(batch, { lossType, fDivergence, fAlphaCoef, labelSmoothing: 0.05 });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('alpha_divergence clamps the exponent at 80 (finite loss, zero gradient past the clamp)', async () => {
    // r_w = 0 − (−400) = 400, α = 0.5 → (α−1)·r_w = −200 (no clamp); r_l = −400 → exponent 200 → clamped.
    const batch = {
      chosenLogps: [[-1e-3]],
      chosenMask: [[1]],
      rejectedLogps: [[-100, -100, -100, -100]],
      rejectedMask: [[1, 1, 1, 1]],
      refChosenLogps: [-400],
      refRejectedLogps: [-1e-3],
    };
    const result = await valueAndGrad(dpo, batch, { fDivergence: 'alpha_divergence', lossType: 'sppo_hard' }, { backend });
    const sW = Math.exp(-0.5 * (400 - 1e-3)) / -0.5;
    const sL = Math.exp(80) / -0.5;
    closeTo(result.loss, (sW - 5) ** 2 + (sL + 5) ** 2);
    // Past the clamp the score is constant in the rejected log-probs; the chosen side still moves.
    expect(Array.from(result.grads.rejectedLogps.data).every((g) => g === 0)).toBe(true);
    closeTo(result.grads.chosenLogps.data[0], 2 * (sW - 5) * Math.exp(-0.5 * (400 - 1e-3)));
  });

  it('reverse KL and alpha → 1 give plain DPO', async () => {
    await fc.assert(
      fc.asyncProperty(tokenReferenceBatchArbitrary(2), async (batch) => {
        const plain = await valueAndGrad(dpo, batch, {}, { backend });
        const alphaOne = await valueAndGrad(dpo, batch, { fDivergence: 'alpha_divergence', fAlphaCoef: 1 }, { backend });
        expect(alphaOne.loss).toBe(plain.loss);
      }),
      { numRuns: 10 },
    );
  });
});

describe('parameter errors', () => {
  const batch = {
    chosenLogps: [[-1, -2]],
    chosenMask: [[1, 1]],
    rejectedLogps: [[-3]],
    rejectedMask: [[1]],
    refChosenLogps: [-3],
    refRejectedLogps: [-3],
  };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['lossWeights of the wrong length', { lossType: ['sigmoid', 'sft'], lossWeights: [1] }, /lossWeights.*expected 2.*got 1/],
    ['negative lossWeights', { lossType: ['sigmoid', 'sft'], lossWeights: [1, -1] }, /lossWeights\[1\]/],
    ['exo_pair without ε', { lossType: 'exo_pair' }, /labelSmoothing/],
    ['robust with ε = 0.5', { lossType: 'robust', labelSmoothing: 0.5 }, /labelSmoothing/],
    ['unknown lossType in a list', { lossType: ['sigmoid', 'nope'] }, /lossType/],
    ['unknown fDivergence', { fDivergence: 'kl' }, /fDivergence/],
    ['non-positive discopopTau', { lossType: 'discopop', discopopTau: 0 }, /discopopTau/],
  ];
  for (const [name, params, message] of cases) {
    it(name, async () => {
      await expect(valueAndGrad(dpo, batch, params, { backend })).rejects.toThrow(message);
    });
  }

  it('aot on several workers is refused, naming lossType', async () => {
    const two = {
      ...batch,
      chosenLogps: [
        [-1, -2],
        [-1, -1],
      ],
      chosenMask: [
        [1, 1],
        [1, 0],
      ],
      rejectedLogps: [[-3], [-2]],
      rejectedMask: [[1], [1]],
      refChosenLogps: [-3, -2],
      refRejectedLogps: [-3, -1],
    };
    for (const lossType of ['aot', 'aot_unpaired'] as const) {
      await expect(runDataParallel(dpo, two, { lossType }, { backend, rows: 2, boundaries: [0, 1, 2] })).rejects.toThrow(
        /lossType.*one worker/,
      );
    }
  });
});
