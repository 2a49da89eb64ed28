import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { finiteDifferenceGrad, runDataParallel, worstMismatch } from '@pref/testing';
import { kto } from '../src';
import { ktoBatchArbitrary, type KtoBatch } from './kto-batch-arbitrary';

const backend = createReferenceBackend();
const paramsArbitrary = fc.record({
  beta: fc.double({ min: 0.05, max: 2, noNaN: true }),
  desirableWeight: fc.double({ min: 0, max: 2, noNaN: true }),
  undesirableWeight: fc.double({ min: 0, max: 2, noNaN: true }),
  lossType: fc.constantFrom('kto', 'apo_zero_unpaired'),
});

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** z0 of a batch from the definition: max(0, mean(klLogps − klRefLogps)). */
const referencePoint = (batch: Pick<KtoBatch, 'klLogps' | 'klRefLogps'>) =>
  Math.max(0, mean(batch.klLogps.map((v, i) => v - batch.klRefLogps[i])));

describe('kto properties', () => {
  it('gradients match central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(ktoBatchArbitrary(4), paramsArbitrary, async (batch, params) => {
        const result = await valueAndGrad(kto, batch, params, { backend });
        expect(Object.keys(result.grads)).toEqual(['logps']);
        const numeric = await finiteDifferenceGrad(kto, batch, params, 'logps');
        expect(worstMismatch(result.grads.logps.data, numeric, 1e-4, 1e-7)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 30 },
    );
  });

  it('values at masked positions change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(ktoBatchArbitrary(4), paramsArbitrary, fc.double({ min: -50, max: 0, noNaN: true }), async (batch, params, junk) => {
        const base = await valueAndGrad(kto, batch, params, { backend });
        const scrambled = { ...batch, logps: batch.logps.map((row, n) => row.map((v, t) => (batch.mask[n][t] ? v : junk))) };
        const again = await valueAndGrad(kto, scrambled, params, { backend });
        expect(again.loss).toBe(base.loss);
        expect(again.metrics).toEqual(base.metrics);
        expect(Array.from(again.grads.logps.data)).toEqual(Array.from(base.grads.logps.data));
      }),
      { numRuns: 25 },
    );
  });

  it('z0 is max(0, mean(klLogps − klRefLogps)) and moves the loss but carries no gradient of its own', async () => {
    await fc.assert(
      fc.asyncProperty(ktoBatchArbitrary(4), async (batch) => {
        const result = await valueAndGrad(kto, batch, {}, { backend });
        expect(result.metrics.kl).toBeCloseTo(referencePoint(batch), 12);
        // Log-probs stay ≤ 0: the mismatched pairs' reference log-probs move down instead.
        const shifted = { ...batch, klRefLogps: batch.klRefLogps.map((v) => v - 40) };
        const moved = await valueAndGrad(kto, shifted, {}, { backend });
        expect(moved.metrics.kl).toBeCloseTo(referencePoint(shifted), 12);
        expect(moved.metrics.kl).toBeGreaterThan(0);
        expect(moved.loss).not.toBeCloseTo(result.loss, 12);
      }),
      { numRuns: 15 },
    );
  });

  it('a batch split over 3 simulated workers gives the single-worker loss, gradients, z0 and metrics', async () => {
    await fc.assert(
      fc.asyncProperty(
        ktoBatchArbitrary(6),
        paramsArbitrary,
        fc.constantFrom([0, 1, 3, 6], [0, 2, 4, 6], [0, 4, 5, 6]),
        async (batch, params, boundaries) => {
          const single = await valueAndGrad(kto, batch, params, { backend });
          const { workers, grads } = await runDataParallel(kto, batch, params, { backend, rows: 6, boundaries });
          for (const worker of workers) {
            expect(worker.loss).toBeCloseTo(single.loss, 12);
            for (const [name, value] of Object.entries(single.metrics)) expect(worker.metrics[name], name).toBeCloseTo(value, 12);
          }
          expect(worstMismatch(grads.logps, single.grads.logps.data, 1e-12, 1e-16)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('workers whose local z0 and local desirable rows differ still agree on the global ones', async () => {
    // Worker 0 alone would see z0 = 5 and only desirable rows; worker 2 alone z0 = 0 and only undesirable rows.
    const batch: KtoBatch = {
      logps: [
        [-1, -2],
        [-0.5, 0],
        [-3, -1],
        [-2, -2],
        [-0.1, -0.4],
        [-4, 0],
      ],
      mask: [
        [1, 1],
        [1, 0],
        [1, 1],
        [1, 1],
        [1, 1],
        [1, 0],
      ],
      refLogps: [-2.5, -1, -4.5, -3, -1, -2],
      desirable: [1, 1, 0, 1, 0, 0],
      klLogps: [-1, -2, -8, -8, -9, -9],
      klRefLogps: [-6, -7, -8, -7, -7, -8],
    };
    const params = { beta: 0.5 };
    const single = await valueAndGrad(kto, batch, params, { backend });
    expect(single.metrics.kl).toBeCloseTo(referencePoint(batch), 12);
    expect(single.metrics.kl).toBeCloseTo(1, 12);
    const { workers, grads } = await runDataParallel(kto, batch, params, { backend, rows: 6, boundaries: [0, 2, 4, 6] });
    for (const worker of workers) {
      expect(worker.metrics.kl).toBeCloseTo(1, 12);
      expect(worker.loss).toBeCloseTo(single.loss, 12);
      expect(worker.metrics['rewards/chosen']).toBeCloseTo(single.metrics['rewards/chosen'], 12);
      expect(worker.metrics['rewards/rejected']).toBeCloseTo(single.metrics['rewards/rejected'], 12);
    }
    expect(worstMismatch(grads.logps, single.grads.logps.data, 1e-12, 1e-16)).toBeLessThanOrEqual(1);
    // Each worker computing z0 from its own rows would give different gradients: the test can fail.
    const local = await valueAndGrad(
      kto,
      {
        ...batch,
        logps: batch.logps.slice(0, 2),
        mask: batch.mask.slice(0, 2),
        refLogps: batch.refLogps.slice(0, 2),
        desirable: [1, 1],
        klLogps: [-1, -2],
        klRefLogps: [-6, -7],
      },
      params,
      { backend },
    );
    expect(local.metrics.kl).toBeCloseTo(5, 12);
    expect(Math.abs((local.grads.logps.data[0] * 2) / 6 - grads.logps[0])).toBeGreaterThan(1e-6);
  });

  it('rewards/chosen and rewards/rejected are means of β·r over each kind of row; 0 when there is none', async () => {
    const batch = {
      logps: [
        [-1, -2],
        [-3, 0],
      ],
      mask: [
        [1, 1],
        [1, 0],
      ],
      refLogps: [-2.5, -4],
      desirable: [1, 1],
      klLogps: [-1, -1],
      klRefLogps: [-1, -1],
    };
    const result = await valueAndGrad(kto, batch, { beta: 0.2 }, { backend });
    expect(result.metrics['rewards/chosen']).toBeCloseTo((0.2 * (-0.5 + 1)) / 2, 12);
    expect(result.metrics['rewards/rejected']).toBe(0);
    expect(result.metrics['logps/chosen']).toBeCloseTo(-3, 12);
    expect(result.metrics['rewards/margins']).toBeCloseTo(0.05, 12);
  });

  it('lossType kto needs klLogps and klRefLogps; apo_zero_unpaired does not', async () => {
    const batch = { logps: [[-1]], mask: [[1]], refLogps: [-2], desirable: [1] };
    await expect(valueAndGrad(kto, batch, {}, { backend })).rejects.toThrow(/klLogps/);
    await expect(valueAndGrad(kto, { ...batch, klLogps: [-1] }, {}, { backend })).rejects.toThrow(/klRefLogps/);
    const apo = await valueAndGrad(kto, batch, { lossType: 'apo_zero_unpaired' }, { backend });
    expect(apo.loss).toBeCloseTo(1 - 1 / (1 + Math.exp(-0.1)), 12);
    expect(apo.metrics.kl).toBe(0);
    await expect(valueAndGrad(kto, { ...batch, desirable: [0.5] }, { lossType: 'apo_zero_unpaired' }, { backend })).rejects.toThrow(
      /desirable/,
    );
  });

  it('logits with labels give the loss of the matching log-probs, and gradients for the logits', async () => {
    const logits = [
      [
        [0.5, -1, 2],
        [1, 1, 0],
      ],
      [
        [-2, 0.3, 0.1],
        [0, 4, -1],
      ],
      [
        [1.5, 0, 0],
        [0.2, -0.2, 3],
      ],
    ];
    const labels = [
      [2, 0],
      [1, -100],
      [0, 2],
    ];
    const logSoftmax = (row: number[], label: number) => row[label] - Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const logps = logits.map((seq, n) => seq.map((row, t) => (labels[n][t] === -100 ? 0 : logSoftmax(row, labels[n][t]))));
    const mask = labels.map((row) => row.map((l) => (l === -100 ? 0 : 1)));
    const rest = { refLogps: [-2, -1, -3], desirable: [1, 0, 1], klLogps: [-1, -2, -3], klRefLogps: [-2, -2, -2.5] };
    const params = { beta: 0.7 };
    const viaLogps = await valueAndGrad(kto, { logps, mask, ...rest }, params, { backend });
    const viaLogits = await valueAndGrad(kto, { logits, labels, ...rest }, params, { backend });
    expect(viaLogits.loss).toBeCloseTo(viaLogps.loss, 12);
    const numeric = await finiteDifferenceGrad(kto, { logits, labels, ...rest }, params, 'logits');
    expect(worstMismatch(viaLogits.grads.logits.data, numeric, 1e-5, 1e-8)).toBeLessThanOrEqual(1);
  });
});
