import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type ObjectiveState } from '@pref/core';
import { finiteDifferenceGrad, pairBatchArbitrary, runDataParallel, worstMismatch } from '@pref/testing';
import { lmpo } from '../src';

const backend = createReferenceBackend();
type PairBatch = { chosenLogps: number[][]; chosenMask: number[][]; rejectedLogps: number[][]; rejectedMask: number[][] };

const marginArbitrary = fc.oneof(
  fc.record({ marginFunction: fc.constant('power'), marginExponent: fc.constantFrom(5, 3, 2, 1, 2.5, 7.3) }),
  fc.record({ marginFunction: fc.constant('log'), marginAlpha: fc.double({ min: 0.2, max: 3, noNaN: true }) }),
  fc.record({ marginFunction: fc.constant('sigmoid'), marginTemperature: fc.double({ min: 0.2, max: 3, noNaN: true }) }),
);
const paramsArbitrary = fc
  .tuple(
    fc.record({
      beta: fc.double({ min: 0.1, max: 4, noNaN: true }),
      gamma: fc.double({ min: -1, max: 2, noNaN: true }),
      lambda: fc.double({ min: 0, max: 1.5, noNaN: true }),
      marginScale: fc.double({ min: 0.25, max: 2, noNaN: true }),
      lengthNormalization: fc.boolean(),
      zscore: fc.constantFrom('ema', 'none'),
      emaDecay: fc.double({ min: 0, max: 1, noNaN: true }),
      emaInit: fc.constantFrom('first-batch', 'zero'),
      marginGradient: fc.boolean(),
    }),
    marginArbitrary,
  )
  .map(([base, margin]) => ({ ...base, ...margin }));
const stateArbitrary = fc.option(
  fc.record({ mean: fc.double({ min: -1, max: 1, noNaN: true }), std: fc.double({ min: 0.05, max: 1, noNaN: true }), steps: fc.nat(100) }),
);

const average = (logps: number[], mask: number[]) => logps.reduce((s, l, t) => s + (mask[t] ? l : 0), 0) / mask.reduce((s, m) => s + m, 0);
const lengthOf = (mask: number[]) => mask.reduce((s, m) => s + m, 0);
const permute = <T>(rows: T[], order: number[]) => order.map((i) => rows[i]);

/** The spec's m = s·(1 − p_w)·(1 − (p_w − p_l)^k) per pair, in plain JS. */
function powerMargins(batch: PairBatch, k: number, scale: number): number[] {
  return batch.chosenLogps.map((row, b) => {
    const nw = lengthOf(batch.chosenMask[b]);
    const nl = lengthOf(batch.rejectedMask[b]);
    const pw = Math.exp((average(row, batch.chosenMask[b]) * (nw + nl)) / (2 * nw));
    const pl = Math.exp((average(batch.rejectedLogps[b], batch.rejectedMask[b]) * (nw + nl)) / (2 * nl));
    return scale * (1 - pw) * (1 - (pw - pl) ** k);
  });
}

/** The spec's running-moment recurrence, step by step. */
function recurrence(batches: number[][], rho: number, init: 'first-batch' | 'zero'): { mean: number; std: number; steps: number } {
  let a: number | null = null;
  let b: number | null = null;
  let steps = 0;
  for (const margins of batches) {
    const n = margins.length;
    const mu = margins.reduce((s, v) => s + v, 0) / n;
    const sd = n > 1 ? Math.sqrt(margins.reduce((s, v) => s + (v - mu) ** 2, 0) / (n - 1)) : null;
    if (a === null) {
      a = init === 'first-batch' ? mu : (1 - rho) * mu;
      b = sd === null ? 1 : init === 'first-batch' ? sd : (1 - rho) * sd;
    } else {
      a = rho * a + (1 - rho) * mu;
      if (sd !== null) b = rho * b! + (1 - rho) * sd;
    }
    steps++;
  }
  return { mean: a!, std: b!, steps };
}

describe('lmpo properties', () => {
  it('gradients match central finite differences (a, b held constant: emaDecay 1 with a given state, or no z-score)', async () => {
    // With marginGradient the gradient flows through m̄ = (m − a)/b with a and b constant (the
    // paper's analysis); a, b are constants of the input exactly when emaDecay = 1 and a state is given.
    await fc.assert(
      fc.asyncProperty(
        pairBatchArbitrary(3, { minLogp: -4 }),
        paramsArbitrary,
        fc.record({
          mean: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
          std: fc.double({ min: 0.1, max: 1, noNaN: true }),
          steps: fc.nat(50),
        }),
        async (batch, drawn, state) => {
          const params = { ...drawn, marginGradient: true, emaDecay: 1 };
          const result = await valueAndGrad(lmpo, batch, params, { backend, state });
          for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
            const numeric = await finiteDifferenceGrad(lmpo, batch, params, name, { state });
            expect(worstMismatch(result.grads[name].data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('with marginGradient false the gradient is SimPO-like: ±β·σ(γ − d)/(B·n) on every counted token', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3), paramsArbitrary, stateArbitrary, async (batch, drawn, state) => {
        const params = { ...drawn, marginGradient: false };
        const result = await valueAndGrad(lmpo, batch, params, { backend, state });
        // perExample = softplus(γ − d), so σ(γ − d) = 1 − exp(−perExample).
        const weights = Array.from(result.perExample!, (loss) => -Math.expm1(-loss));
        for (const [name, sign] of [
          ['chosenLogps', -1],
          ['rejectedLogps', 1],
        ] as const) {
          const mask = name === 'chosenLogps' ? batch.chosenMask : batch.rejectedMask;
          const expected = mask.flatMap((row, b) => row.map((m) => (m ? (sign * params.beta * weights[b]) / (3 * lengthOf(row)) : 0)));
          expect(worstMismatch(result.grads[name].data, expected, 1e-9, 1e-15)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('values at masked positions change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairBatchArbitrary(3),
        paramsArbitrary,
        stateArbitrary,
        fc.double({ min: -50, max: 0, noNaN: true }),
        async (batch, params, state, junk) => {
          const base = await valueAndGrad(lmpo, batch, params, { backend, state });
          const scramble = (rows: number[][], mask: number[][]) => rows.map((row, b) => row.map((v, t) => (mask[b][t] ? v : junk)));
          const scrambled = {
            ...batch,
            chosenLogps: scramble(batch.chosenLogps, batch.chosenMask),
            rejectedLogps: scramble(batch.rejectedLogps, batch.rejectedMask),
          };
          const again = await valueAndGrad(lmpo, scrambled, params, { backend, state });
          expect(again.loss).toBe(base.loss);
          expect(again.metrics).toEqual(base.metrics);
          expect(again.state).toEqual(base.state);
          for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
            expect(Array.from(again.grads[name].data)).toEqual(Array.from(base.grads[name].data));
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('permuting pairs permutes per-example values and leaves the loss and batch moments unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairBatchArbitrary(4),
        paramsArbitrary,
        stateArbitrary,
        fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
        async (batch, params, state, order) => {
          const base = await valueAndGrad(lmpo, batch, params, { backend, state });
          const shuffled = {
            chosenLogps: permute(batch.chosenLogps, order),
            chosenMask: permute(batch.chosenMask, order),
            rejectedLogps: permute(batch.rejectedLogps, order),
            rejectedMask: permute(batch.rejectedMask, order),
          };
          const again = await valueAndGrad(lmpo, shuffled, params, { backend, state });
          expect(worstMismatch([again.loss], [base.loss], 1e-10, 1e-14)).toBeLessThanOrEqual(1);
          expect(worstMismatch(again.perExample!, permute(Array.from(base.perExample!), order), 1e-10, 1e-14)).toBeLessThanOrEqual(1);
          if (params.zscore === 'ema') {
            expect(
              worstMismatch([again.state!.mean, again.state!.std], [base.state!.mean, base.state!.std], 1e-10, 1e-14),
            ).toBeLessThanOrEqual(1);
            expect(again.state!.steps).toBe(base.state!.steps);
          }
          expect(worstMismatch([again.metrics['margin/mean']], [base.metrics['margin/mean']], 1e-10, 1e-14)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('the loss, gradients, metrics and state are finite for all finite log-probs in [-100, 0]', async () => {
    // Every finite log-prob in [-100, 0], the ends included.
    const batchArbitrary = pairBatchArbitrary(3, { minLogp: -100, maxLogp: 0, maxSteps: 8, endpoints: true });
    await fc.assert(
      fc.asyncProperty(batchArbitrary, paramsArbitrary, stateArbitrary, async (batch, params, state) => {
        const result = await valueAndGrad(lmpo, batch, params, { backend, state });
        expect(Number.isFinite(result.loss)).toBe(true);
        for (const value of Object.values(result.metrics)) expect(Number.isFinite(value)).toBe(true);
        for (const value of Object.values(result.state ?? {})) expect(Number.isFinite(value)).toBe(true);
        for (const grad of Object.values(result.grads)) expect(Array.from(grad.data).every(Number.isFinite)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('stays finite when p_w − p_l reaches ±1 after underflow (log margin)', async () => {
    // p_w = exp(−100·15.5) underflows to 0 and p_l = 1: x = −1, log((1−x)/(1+x)) would be +∞.
    const batch = {
      chosenLogps: [[-100], [-0.5]],
      chosenMask: [[1], [1]],
      rejectedLogps: [Array(30).fill(0), Array(30).fill(-1)],
      rejectedMask: [Array(30).fill(1), Array(30).fill(1)],
    };
    for (const marginFunction of ['log', 'power', 'sigmoid'] as const) {
      const result = await valueAndGrad(lmpo, batch, { marginFunction }, { backend });
      expect(Number.isFinite(result.loss)).toBe(true);
      for (const grad of Object.values(result.grads)) expect(Array.from(grad.data).every(Number.isFinite)).toBe(true);
    }
  });

  it('running moments after k calls with the state passed back follow the spec recurrence', async () => {
    const sizes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((rowCounts) => fc.tuple(...rowCounts.map((rows) => pairBatchArbitrary(rows, { minLogp: -3 })))),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('first-batch' as const, 'zero' as const),
        fc.constantFrom(5, 3),
        fc.constantFrom(1, 0.5),
        async (batches, emaDecay, emaInit, marginExponent, marginScale) => {
          const params = { emaDecay, emaInit, marginExponent, marginScale };
          let state: ObjectiveState | null = null;
          for (const batch of batches) state = (await valueAndGrad(lmpo, batch, params, { backend, state })).state;
          const expected = recurrence(
            batches.map((batch) => powerMargins(batch, marginExponent, marginScale)),
            emaDecay,
            emaInit,
          );
          expect(state!.steps).toBe(batches.length);
          expect(worstMismatch([state!.mean, state!.std], [expected.mean, expected.std], 1e-10, 1e-14)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('one pair: the std is not used (b keeps its value, or is 1 with no state yet)', async () => {
    const pair = { chosenLogps: [[-0.5, -1]], chosenMask: [[1, 1]], rejectedLogps: [[-2]], rejectedMask: [[1]] };
    const first = await valueAndGrad(lmpo, pair, {}, { backend });
    expect(first.state).toMatchObject({ std: 1, steps: 1 });
    expect(first.metrics['margin/zscore-mean']).toBe(0);
    const next = await valueAndGrad(lmpo, pair, {}, { backend, state: { mean: 0.2, std: 0.3, steps: 7 } });
    expect(next.state!.std).toBe(0.3);
    expect(next.state!.steps).toBe(8);
    expect(next.state!.mean).toBeCloseTo(0.9 * 0.2 + 0.1 * first.metrics['margin/mean'], 14);
  });

  it('the state is plain JSON: a checkpoint round trip continues the same moments', async () => {
    const batches = await fc.sample(pairBatchArbitrary(3), { numRuns: 3, seed: 42 });
    let live: ObjectiveState | null = null;
    let restored: ObjectiveState | null = null;
    for (const batch of batches) {
      live = (await valueAndGrad(lmpo, batch, {}, { backend, state: live })).state;
      restored = (await valueAndGrad(lmpo, batch, {}, { backend, state: restored && JSON.parse(JSON.stringify(restored)) })).state;
    }
    expect(restored).toEqual(live);
    await expect(valueAndGrad(lmpo, batches[0], {}, { backend, state: { mean: 0, std: Number.NaN, steps: 1 } })).rejects.toThrow(
      /state\.std/,
    );
    await expect(valueAndGrad(lmpo, batches[0], {}, { backend, state: { mean: 0, std: 1 } })).rejects.toThrow(/state\.steps/);
  });

  it('zscore "none" returns no state and uses m itself', async () => {
    const batch = { chosenLogps: [[-0.5], [-1]], chosenMask: [[1], [1]], rejectedLogps: [[-2], [-0.2]], rejectedMask: [[1], [1]] };
    const result = await valueAndGrad(lmpo, batch, { zscore: 'none' }, { backend });
    expect(result.state).toBeNull();
    expect(result.metrics['margin/zscore-mean']).toBe(result.metrics['margin/mean']);
  });

  it('presets resolve to the paper settings and the reference code', () => {
    expect(lmpo.presets['mistral-base'].values).toMatchObject({ beta: 2.0, gamma: 1.6, lambda: 1.0 });
    expect(lmpo.presets['mistral-instruct'].values).toMatchObject({ beta: 2.5, gamma: 0.25, lambda: 0.2 });
    expect(lmpo.presets['llama3-base'].values).toMatchObject({ beta: 2.0, gamma: 1.0, lambda: 0.2 });
    expect(lmpo.presets['llama3-instruct'].values).toMatchObject({ beta: 2.5, gamma: 1.4, lambda: 0.2 });
    expect(lmpo.presets['reference-code'].values).toMatchObject({
      marginGradient: false,
      emaInit: 'zero',
      marginScale: 0.5,
      beta: 2.0,
      gamma: 1.0,
    });
  });

  it('the Table 2 ablation presets change only what their row removes or replaces', async () => {
    expect(lmpo.presets['ablation-no-zscore'].values).toEqual({ zscore: 'none' });
    expect(lmpo.presets['ablation-no-length-normalization'].values).toEqual({ lengthNormalization: false });
    expect(lmpo.presets['ablation-log'].values).toEqual({ marginFunction: 'log' });
    expect(lmpo.presets['ablation-cube'].values).toEqual({ marginFunction: 'power', marginExponent: 3 });
    expect(lmpo.presets['ablation-sigmoid'].values).toEqual({ marginFunction: 'sigmoid' });
    // Three pairs with a state from elsewhere, so the margin shape shows in the loss.
    const batch = {
      chosenLogps: [
        [-0.5, -1.0, -0.25],
        [-0.05, -0.3, 0],
        [-0.9, -0.2, -0.4],
      ],
      chosenMask: [
        [1, 1, 1],
        [1, 1, 0],
        [1, 1, 1],
      ],
      rejectedLogps: [
        [-2.0, -0.1, -3.0],
        [-1.5, -2.5, -0.9],
        [-0.3, -0.6, 0],
      ],
      rejectedMask: [
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 0],
      ],
    };
    const state = { mean: 0.3, std: 0.1, steps: 4 };
    const full = await valueAndGrad(lmpo, batch, {}, { backend, state });
    for (const preset of [
      'ablation-no-zscore',
      'ablation-no-length-normalization',
      'ablation-log',
      'ablation-cube',
      'ablation-sigmoid',
    ] as const) {
      const ablated = await valueAndGrad(lmpo, batch, { preset }, { backend, state });
      const byHand = await valueAndGrad(lmpo, batch, lmpo.presets[preset].values, { backend, state });
      expect(ablated.loss, preset).toBe(byHand.loss);
      expect(Math.abs(ablated.loss - full.loss), preset).toBeGreaterThan(1e-9);
    }
  });

  it('marginScale cancels in the z-score with zero-initialized moments', async () => {
    const batch = {
      chosenLogps: [[-0.5], [-1], [-0.1]],
      chosenMask: [[1], [1], [1]],
      rejectedLogps: [[-2], [-0.2], [-0.4]],
      rejectedMask: [[1], [1], [1]],
    };
    const halved = await valueAndGrad(lmpo, batch, { preset: 'reference-code' }, { backend });
    const whole = await valueAndGrad(lmpo, batch, { preset: 'reference-code', marginScale: 1 }, { backend });
    expect(halved.loss).toBeCloseTo(whole.loss, 12);
    expect(halved.metrics['margin/mean']).toBeCloseTo(whole.metrics['margin/mean'] / 2, 14);
  });

  it('a batch split over 3 simulated workers gives the single-worker loss, gradients, metrics and moments', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(5), paramsArbitrary, stateArbitrary, async (batch, params, state) => {
        const single = await valueAndGrad(lmpo, batch, params, { backend, state });
        const { workers, grads } = await runDataParallel(lmpo, batch, params, { backend, rows: 5, boundaries: [0, 1, 3, 5], state });
        const names = Object.keys(single.metrics);
        for (const worker of workers) {
          expect(worstMismatch([worker.loss], [single.loss], 1e-10, 1e-13)).toBeLessThanOrEqual(1);
          expect(
            worstMismatch(
              names.map((n) => worker.metrics[n]),
              names.map((n) => single.metrics[n]),
              1e-10,
              1e-13,
            ),
          ).toBeLessThanOrEqual(1);
          if (single.state) {
            expect(
              worstMismatch([worker.state!.mean, worker.state!.std], [single.state.mean, single.state.std], 1e-10, 1e-13),
            ).toBeLessThanOrEqual(1);
            expect(worker.state!.steps).toBe(single.state.steps);
          }
        }
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          expect(worstMismatch(grads[name], single.grads[name].data, 1e-10, 1e-13)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('the one-pair rule uses the global row count: one pair per worker is not one pair', async () => {
    const batch = {
      chosenLogps: [[-0.5], [-1], [-0.1]],
      chosenMask: [[1], [1], [1]],
      rejectedLogps: [[-2], [-0.2], [-0.4]],
      rejectedMask: [[1], [1], [1]],
    };
    const single = await valueAndGrad(lmpo, batch, {}, { backend });
    const { workers } = await runDataParallel(lmpo, batch, {}, { backend, rows: 3, boundaries: [0, 1, 2, 3] });
    expect(single.state!.std).not.toBe(1);
    for (const worker of workers) expect(worker.state!.std).toBeCloseTo(single.state!.std, 14);
  });
});
