import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { finiteDifferenceGrad, pairBatchArbitrary, runDataParallel, worstMismatch } from '@pref/testing';
import { slime } from '../src';

const backend = createReferenceBackend();
const paramsArbitrary = fc.record({
  lambdaW: fc.double({ min: 0, max: 1, noNaN: true }),
  lambdaL: fc.double({ min: 0, max: 0.5, noNaN: true }),
  lambdaD: fc.double({ min: 0, max: 2, noNaN: true }),
  delta: fc.double({ min: -1, max: 3, noNaN: true }),
  p: fc.double({ min: 1, max: 4, noNaN: true }),
  hardMargin: fc.double({ min: -1, max: 3, noNaN: true }),
  softMargin: fc.double({ min: -1, max: 2, noNaN: true }),
  kappa: fc.double({ min: 0, max: 5, noNaN: true }),
  tokenReduction: fc.constantFrom('batch', 'sequence'),
  useChosenTerm: fc.boolean(),
  useRejectedTerm: fc.boolean(),
  useSoftMargin: fc.boolean(),
  useHardMargin: fc.boolean(),
  rejectedMaskFromValues: fc.boolean(),
});

type PairBatch = { chosenLogps: number[][]; chosenMask: number[][]; rejectedLogps: number[][]; rejectedMask: number[][] };
const average = (logps: number[], mask: number[]) => logps.reduce((s, l, t) => s + (mask[t] ? l : 0), 0) / mask.reduce((s, m) => s + m, 0);
const gaps = (batch: PairBatch) =>
  batch.chosenLogps.map((row, b) => average(row, batch.chosenMask[b]) - average(batch.rejectedLogps[b], batch.rejectedMask[b]));
const countOf = (mask: readonly number[]) => mask.reduce((s, m) => s + m, 0);
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const permute = <T>(rows: T[], order: number[]) => order.map((i) => rows[i]);

describe('slime properties', () => {
  it('gradients match central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3, { minLogp: -6 }), paramsArbitrary, async (batch, params) => {
        // relu(m_h − Δ) has a kink at Δ = m_h, where finite differences are not the derivative.
        if (params.useHardMargin) fc.pre(gaps(batch).every((gap) => Math.abs(gap - params.hardMargin) > 1e-3));
        const result = await valueAndGrad(slime, batch, params, { backend });
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          const numeric = await finiteDifferenceGrad(slime, batch, params, name);
          expect(worstMismatch(result.grads[name].data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('values at masked positions change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairBatchArbitrary(3),
        paramsArbitrary,
        fc.double({ min: -50, max: 0, noNaN: true }),
        async (batch, params, junk) => {
          const base = await valueAndGrad(slime, batch, params, { backend });
          const scramble = (rows: number[][], mask: number[][]) => rows.map((row, b) => row.map((v, t) => (mask[b][t] ? v : junk)));
          const scrambled = {
            ...batch,
            chosenLogps: scramble(batch.chosenLogps, batch.chosenMask),
            rejectedLogps: scramble(batch.rejectedLogps, batch.rejectedMask),
          };
          const again = await valueAndGrad(slime, scrambled, params, { backend });
          expect(again.loss).toBe(base.loss);
          expect(again.metrics).toEqual(base.metrics);
          for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
            expect(Array.from(again.grads[name].data)).toEqual(Array.from(base.grads[name].data));
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('permuting pairs permutes per-example values and leaves the loss unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairBatchArbitrary(4),
        paramsArbitrary,
        fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
        async (batch, params, order) => {
          const base = await valueAndGrad(slime, batch, params, { backend });
          const shuffled = {
            chosenLogps: permute(batch.chosenLogps, order),
            chosenMask: permute(batch.chosenMask, order),
            rejectedLogps: permute(batch.rejectedLogps, order),
            rejectedMask: permute(batch.rejectedMask, order),
          };
          const again = await valueAndGrad(slime, shuffled, params, { backend });
          expect(worstMismatch([again.loss], [base.loss], 1e-12, 1e-15)).toBeLessThanOrEqual(1);
          const expected = permute(Array.from(base.perExample!), order);
          expect(worstMismatch(again.perExample!, expected, 1e-12, 1e-12)).toBeLessThanOrEqual(1);
          expect(
            worstMismatch([Array.from(base.perExample!).reduce((s, v) => s + v, 0) / 4], [base.loss], 1e-12, 1e-15),
          ).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('the loss, gradients and metrics are finite for all finite log-probs in [-100, 0]', async () => {
    // Every finite log-prob in [-100, 0], the ends included.
    const batchArbitrary = pairBatchArbitrary(3, { minLogp: -100, maxLogp: 0, maxSteps: 6, endpoints: true });
    await fc.assert(
      fc.asyncProperty(batchArbitrary, paramsArbitrary, async (batch, params) => {
        const result = await valueAndGrad(slime, batch, params, { backend });
        expect(Number.isFinite(result.loss)).toBe(true);
        for (const value of Object.values(result.metrics)) expect(Number.isFinite(value)).toBe(true);
        for (const grad of Object.values(result.grads)) expect(Array.from(grad.data).every(Number.isFinite)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('once Δ ≥ hardMargin the margin gradient is exactly zero while anchor and stabilizer gradients remain', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairBatchArbitrary(3, { minLogp: -6 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('batch', 'sequence'),
        async (batch, below, tokenReduction) => {
          const gap = gaps(batch);
          // m_h at or below every pair's Δ (equality included for the smallest one).
          const hardMargin = Math.min(...gap) - below;
          const params = { hardMargin, tokenReduction, lambdaW: 0.3, lambdaL: 0.2, delta: 0.5, p: 2.5 };
          const result = await valueAndGrad(slime, batch, params, { backend });
          const withoutMargin = await valueAndGrad(slime, batch, { ...params, lambdaD: 0 }, { backend });
          expect(result.metrics['loss/margin']).toBe(0);
          for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
            expect(Array.from(result.grads[name].data)).toEqual(Array.from(withoutMargin.grads[name].data));
          }
          // Anchor: ∂L/∂l_w[b,t] = −λw / (B·n_w[b]) on counted chosen tokens.
          batch.chosenMask.forEach((mask, b) => {
            const n = countOf(mask);
            mask.forEach((m, t) => {
              const grad = result.grads.chosenLogps.data[b * mask.length + t];
              if (m) expect(grad).toBeCloseTo(-0.3 / (3 * n), 14);
              else expect(grad).toBe(0);
            });
          });
          // Stabilizer: ∂L/∂l_l[b,t] = −λl·p·softplus(−l−δ)^(p−1)·σ(−l−δ) / count.
          const steps = batch.rejectedMask[0].length;
          batch.rejectedMask.forEach((mask, b) => {
            const count = tokenReduction === 'batch' ? countOf(batch.rejectedMask.flat()) : 3 * countOf(mask);
            mask.forEach((m, t) => {
              const l = batch.rejectedLogps[b][t];
              const expected = m ? (-0.2 * 2.5 * softplus(-l - 0.5) ** 1.5 * sigmoid(-l - 0.5)) / count : 0;
              const grad = result.grads.rejectedLogps.data[b * steps + t];
              expect(Math.abs(grad - expected)).toBeLessThanOrEqual(1e-12 * Math.abs(expected) + 1e-15);
              if (m) expect(grad).toBeLessThan(0);
            });
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('Δ exactly at hardMargin: no margin gradient; just below: the margin pulls', async () => {
    // A_w = −0.5, A_l = −2 (exact in binary), so Δ = 1.5 = m_h exactly.
    const batch = { chosenLogps: [[-0.25, -0.75]], chosenMask: [[1, 1]], rejectedLogps: [[-2, -2]], rejectedMask: [[1, 1]] };
    const at = await valueAndGrad(slime, batch, { hardMargin: 1.5 }, { backend });
    const anchorOnly = await valueAndGrad(slime, batch, { hardMargin: 1.5, lambdaD: 0 }, { backend });
    expect(Array.from(at.grads.chosenLogps.data)).toEqual([-0.05, -0.05]);
    expect(Array.from(at.grads.chosenLogps.data)).toEqual(Array.from(anchorOnly.grads.chosenLogps.data));
    const below = await valueAndGrad(slime, batch, { hardMargin: 1.5 + 1e-3 }, { backend });
    expect(below.grads.chosenLogps.data[0]).toBeLessThan(-0.05 - 1e-4);
  });

  it('rejectedMaskFromValues drops rejected tokens whose log-prob is exactly 0, like masking them out', async () => {
    const base = {
      chosenLogps: [
        [-1, -0.5],
        [-0.2, -3],
      ],
      chosenMask: [
        [1, 1],
        [1, 0],
      ],
    };
    const withZero = {
      ...base,
      rejectedLogps: [
        [-2, 0, -1],
        [0, -0.5, -4],
      ],
      rejectedMask: [
        [1, 1, 1],
        [1, 1, 0],
      ],
    };
    const maskedOut = {
      ...base,
      rejectedLogps: withZero.rejectedLogps,
      rejectedMask: [
        [1, 0, 1],
        [0, 1, 0],
      ],
    };
    for (const tokenReduction of ['batch', 'sequence'] as const) {
      const stabilizerOnly = { tokenReduction, useChosenTerm: false, lambdaD: 0 };
      const fromValues = await valueAndGrad(slime, withZero, { ...stabilizerOnly, rejectedMaskFromValues: true }, { backend });
      const explicit = await valueAndGrad(slime, maskedOut, stabilizerOnly, { backend });
      const counted = await valueAndGrad(slime, withZero, stabilizerOnly, { backend });
      expect(fromValues.loss).toBeCloseTo(explicit.loss, 14);
      expect(Array.from(fromValues.grads.rejectedLogps.data)).toEqual(Array.from(explicit.grads.rejectedLogps.data));
      expect(fromValues.grads.rejectedLogps.data[1]).toBe(0);
      // Without the switch the zero tokens count, with penalty softplus(−δ)^p.
      expect(Math.abs(counted.loss - fromValues.loss)).toBeGreaterThan(1e-4);
    }
    // Every rejected token exactly 0: no counted token, the stabilizer is 0 (not NaN).
    const allZero = {
      ...base,
      rejectedLogps: [
        [0, 0],
        [0, 0],
      ],
      rejectedMask: [
        [1, 1],
        [1, 0],
      ],
    };
    const result = await valueAndGrad(slime, allZero, { preset: 'trl-slime-script' }, { backend });
    expect(result.metrics['loss/stabilizer']).toBe(0);
    expect(Number.isFinite(result.loss)).toBe(true);
  });

  it('presets resolve to the spec values', async () => {
    const batch = { chosenLogps: [[-1]], chosenMask: [[1]], rejectedLogps: [[-2]], rejectedMask: [[1]] };
    const paper = await valueAndGrad(slime, batch, { preset: 'paper' }, { backend });
    const defaults = await valueAndGrad(slime, batch, {}, { backend });
    expect(paper.loss).toBe(defaults.loss);
    expect(slime.presets['trl-slime-config'].values).toEqual({ lambdaW: 0.8, lambdaL: 0.0005, delta: 0.5, rejectedMaskFromValues: true });
    expect(slime.presets['trl-slime-script'].values).toEqual({
      lambdaW: 0.1,
      lambdaL: 0.0005,
      delta: 1.25,
      rejectedMaskFromValues: true,
      tokenReduction: 'sequence',
    });
    await expect(valueAndGrad(slime, batch, { p: 0 }, { backend })).rejects.toThrow(/\bp\b.*\(0, ∞\)/);
    // @ts-expect-error an unknown value is a compile error; untyped callers (the CLI, JSON) get the run-time check
    await expect(valueAndGrad(slime, batch, { tokenReduction: 'token' }, { backend })).rejects.toThrow(/tokenReduction/);
  });

  it('trl-slime-script averages the stabilizer per sequence (one sequence per device in the script)', async () => {
    // Rows with 1 and 3 counted rejected tokens: the per-sequence mean weighs the rows equally.
    const batch = {
      chosenLogps: [[-1], [-1]],
      chosenMask: [[1], [1]],
      rejectedLogps: [
        [-6, -0.5, -0.5],
        [-2, -3, -4],
      ],
      rejectedMask: [
        [1, 0, 0],
        [1, 1, 1],
      ],
    };
    const script = await valueAndGrad(slime, batch, { preset: 'trl-slime-script' }, { backend });
    const explicit = await valueAndGrad(
      slime,
      batch,
      { preset: 'trl-slime-config', lambdaW: 0.1, delta: 1.25, tokenReduction: 'sequence' },
      { backend },
    );
    const perBatch = await valueAndGrad(slime, batch, { preset: 'trl-slime-script', tokenReduction: 'batch' }, { backend });
    expect(script.loss).toBe(explicit.loss);
    expect(Math.abs(script.metrics['loss/stabilizer'] - perBatch.metrics['loss/stabilizer'])).toBeGreaterThan(1e-6);
  });

  it('the Table 4 ablation presets drop exactly their term', async () => {
    // Δ = 0.8: the hinge (0.7) and the gate both differ from 1.
    const batch = { chosenLogps: [[-1, -1.4]], chosenMask: [[1, 1]], rejectedLogps: [[-3, -1]], rejectedMask: [[1, 1]] };
    const full = await valueAndGrad(slime, batch, { preset: 'paper' }, { backend });
    const cases = [
      ['ablation-no-anchor', { useChosenTerm: false }],
      ['ablation-no-stabilizer', { useRejectedTerm: false }],
      ['ablation-no-hard-margin', { useHardMargin: false }],
      ['ablation-no-soft-margin', { useSoftMargin: false }],
    ] as const;
    for (const [preset, values] of cases) {
      expect(slime.presets[preset].values, preset).toEqual(values);
      const ablated = await valueAndGrad(slime, batch, { preset }, { backend });
      const byHand = await valueAndGrad(slime, batch, values, { backend });
      expect(ablated.loss, preset).toBe(byHand.loss);
      expect(ablated.loss, preset).not.toBe(full.loss);
    }
    expect((await valueAndGrad(slime, batch, { preset: 'ablation-no-anchor' }, { backend })).metrics['loss/anchor']).toBe(0);
    expect((await valueAndGrad(slime, batch, { preset: 'ablation-no-stabilizer' }, { backend })).metrics['loss/stabilizer']).toBe(0);
  });

  it('a batch split over 3 simulated workers gives the single-worker loss, gradients and metrics', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(5), paramsArbitrary, async (batch, params) => {
        const single = await valueAndGrad(slime, batch, params, { backend });
        const { workers, grads } = await runDataParallel(slime, batch, params, { backend, rows: 5, boundaries: [0, 1, 3, 5] });
        for (const worker of workers) {
          expect(worstMismatch([worker.loss], [single.loss], 1e-12, 1e-15)).toBeLessThanOrEqual(1);
          const names = Object.keys(single.metrics);
          const mismatch = worstMismatch(
            names.map((name) => worker.metrics[name]),
            names.map((name) => single.metrics[name]),
            1e-12,
            1e-15,
          );
          expect(mismatch).toBeLessThanOrEqual(1);
        }
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          expect(worstMismatch(grads[name], single.grads[name].data, 1e-12, 1e-15)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('the batch token mean weighs tokens, not sequences, across workers', async () => {
    // Rejected lengths 1, 4 and 2: the batch token mean differs from the mean of sequence means.
    const batch = {
      chosenLogps: [[-1], [-2], [-0.5]],
      chosenMask: [[1], [1], [1]],
      rejectedLogps: [
        [-3, 0, 0, 0],
        [-0.1, -0.4, -2.5, -7],
        [-1.5, -0.02, 0, 0],
      ],
      rejectedMask: [
        [1, 0, 0, 0],
        [1, 1, 1, 1],
        [1, 1, 0, 0],
      ],
    };
    const params = { useChosenTerm: false, lambdaD: 0, lambdaL: 1 };
    const single = await valueAndGrad(slime, batch, params, { backend });
    const { workers } = await runDataParallel(slime, batch, params, { backend, rows: 3, boundaries: [0, 1, 2, 3] });
    let total = 0;
    let count = 0;
    batch.rejectedLogps.forEach((row, b) =>
      row.forEach((l, t) => {
        if (batch.rejectedMask[b][t]) {
          total += softplus(-l - 1.25) ** 2.5;
          count++;
        }
      }),
    );
    expect(single.loss).toBeCloseTo(total / count, 12);
    for (const worker of workers) expect(worker.loss).toBeCloseTo(total / count, 12);
    const perSequence = await valueAndGrad(slime, batch, { ...params, tokenReduction: 'sequence' }, { backend });
    expect(Math.abs(perSequence.loss - single.loss)).toBeGreaterThan(1e-3);
  });
});
