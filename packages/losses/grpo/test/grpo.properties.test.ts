import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { finiteDifferenceGrad, worstMismatch } from '@pref/testing';
import { grpo, rloo } from '../src';
import { awayFromClipBounds, groupBatchArbitrary, hostRatios, type GroupBatch } from './group-batch';

const backend = createReferenceBackend();
const GROUP_SIZE = 2;

const grpoParamsArbitrary = fc.record({
  epsilon: fc.double({ min: 0.05, max: 0.3, noNaN: true }),
  epsilonHigh: fc.option(fc.double({ min: 0.05, max: 0.4, noNaN: true }), { nil: null }),
  beta: fc.constantFrom(0, 0.04, 0.3),
  lossType: fc.constantFrom('grpo', 'bnpo', 'dr_grpo', 'dapo'),
  maxCompletionLength: fc.integer({ min: 5, max: 16 }),
  importanceSampling: fc.constantFrom('token', 'sequence'),
  scaleRewards: fc.constantFrom('group', 'batch', 'none'),
  normalizeAdvantages: fc.constantFrom('none', 'global'),
  groupSize: fc.constant(GROUP_SIZE),
});

const rlooParamsArbitrary = fc.record({
  epsilon: fc.double({ min: 0.05, max: 0.3, noNaN: true }),
  beta: fc.constantFrom(0, 0.05),
  normalizeAdvantages: fc.constantFrom('none', 'global'),
  groupSize: fc.constant(GROUP_SIZE),
});

type GrpoTestParams = { epsilon: number; epsilonHigh: number | null; importanceSampling: string };
const grpoAwayFromKinks = (batch: GroupBatch, params: GrpoTestParams) =>
  awayFromClipBounds(
    hostRatios(batch, params.importanceSampling === 'sequence' ? 'sequence' : 'token'),
    params.epsilon,
    params.epsilonHigh ?? params.epsilon,
  );

function scrambleMasked(batch: GroupBatch, junk: number): GroupBatch {
  const scramble = (values: number[][]) => values.map((row, i) => row.map((v, t) => (batch.mask[i][t] ? v : junk)));
  return { ...batch, logps: scramble(batch.logps), oldLogps: scramble(batch.oldLogps), refLogps: scramble(batch.refLogps) };
}

describe('grpo properties', () => {
  it('gradients match central finite differences (away from the clip bounds)', async () => {
    await fc.assert(
      fc.asyncProperty(groupBatchArbitrary(4), grpoParamsArbitrary, async (batch, params) => {
        fc.pre(grpoAwayFromKinks(batch, params));
        const result = await valueAndGrad(grpo, batch, params, { backend });
        const numeric = await finiteDifferenceGrad(grpo, batch, params, 'logps');
        expect(worstMismatch(result.grads.logps.data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 25 },
    );
  });

  it('values at masked positions (of logps, oldLogps and refLogps) change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        groupBatchArbitrary(4),
        grpoParamsArbitrary,
        fc.double({ min: -50, max: 0, noNaN: true }),
        async (batch, params, junk) => {
          const base = await valueAndGrad(grpo, batch, params, { backend });
          const again = await valueAndGrad(grpo, scrambleMasked(batch, junk), params, { backend });
          expect(again.loss).toBe(base.loss);
          expect(again.metrics).toEqual(base.metrics);
          expect(Array.from(again.grads.logps.data)).toEqual(Array.from(base.grads.logps.data));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('without oldLogps equals oldLogps = the current log-probs (values and gradients)', async () => {
    await fc.assert(
      fc.asyncProperty(groupBatchArbitrary(4), grpoParamsArbitrary, async (batch, params) => {
        const { oldLogps: _unused, ...onPolicy } = batch;
        const absent = await valueAndGrad(grpo, onPolicy, params, { backend });
        const copied = await valueAndGrad(grpo, { ...onPolicy, oldLogps: batch.logps }, params, { backend });
        expect(absent.loss).toBeCloseTo(copied.loss, 14);
        expect(absent.metrics).toEqual(copied.metrics);
        expect(worstMismatch(absent.grads.logps.data, copied.grads.logps.data, 1e-13, 1e-15)).toBeLessThanOrEqual(1);
        // On-policy the ratio is exactly 1: nothing is clipped.
        expect(absent.metrics['clip_ratio/region_mean']).toBe(0);
      }),
      { numRuns: 25 },
    );
  });

  it('clip-ratio metrics are the token fractions TRL logs', async () => {
    await fc.assert(
      fc.asyncProperty(groupBatchArbitrary(4, { maxShift: 0.6 }), fc.constantFrom(0.1, 0.2), async (batch, epsilon) => {
        const params = { groupSize: GROUP_SIZE, epsilon, epsilonHigh: 0.28, scaleRewards: 'none' } as const;
        const result = await valueAndGrad(grpo, batch, params, { backend });
        const advantages = batch.rewards.map((r, i) => r - (batch.rewards[i - (i % 2)] + batch.rewards[i - (i % 2) + 1]) / 2);
        let low = 0;
        let high = 0;
        let tokens = 0;
        batch.logps.forEach((row, i) =>
          row.forEach((l, t) => {
            if (!batch.mask[i][t]) return;
            const ratio = Math.exp(l - batch.oldLogps[i][t]);
            tokens++;
            if (ratio < 1 - epsilon && advantages[i] < 0) low++;
            if (ratio > 1.28 && advantages[i] > 0) high++;
          }),
        );
        expect(result.metrics['clip_ratio/low_mean']).toBeCloseTo(low / tokens, 12);
        expect(result.metrics['clip_ratio/high_mean']).toBeCloseTo(high / tokens, 12);
        expect(result.metrics['clip_ratio/region_mean']).toBeCloseTo((low + high) / tokens, 12);
      }),
      { numRuns: 25 },
    );
  });

  it('the logits path gives the loss of the log-prob path', async () => {
    const logits = [
      [
        [0.3, -1.2, 2.0],
        [1.5, 0.1, -0.4],
      ],
      [
        [-0.7, 0.9, 0.2],
        [0.0, 0.0, 1.0],
      ],
    ];
    const labels = [
      [2, 0],
      [1, -100],
    ];
    const logSoftmax = (row: number[], k: number) => row[k] - Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
    const logps = logits.map((seq, i) => seq.map((row, t) => (labels[i][t] === -100 ? 0 : logSoftmax(row, labels[i][t]))));
    const mask = labels.map((row) => row.map((k) => (k === -100 ? 0 : 1)));
    const rest = {
      rewards: [1, 0],
      oldLogps: [
        [-0.2, -0.5],
        [-0.4, -0.1],
      ],
    };
    const params = { groupSize: 2, lossType: 'dapo' } as const;
    const fromLogits = await valueAndGrad(grpo, { logits, labels, ...rest }, params, { backend });
    const fromLogps = await valueAndGrad(grpo, { logps, mask, ...rest }, params, { backend });
    expect(fromLogits.loss).toBeCloseTo(fromLogps.loss, 12);
    expect(fromLogits.grads.logits.shape).toEqual([2, 2, 3]);
  });
});

describe('rloo properties', () => {
  it('gradients match central finite differences (away from the clip bounds)', async () => {
    await fc.assert(
      fc.asyncProperty(groupBatchArbitrary(4), rlooParamsArbitrary, async (batch, params) => {
        fc.pre(awayFromClipBounds(hostRatios(batch, 'summed'), params.epsilon, params.epsilon));
        const result = await valueAndGrad(rloo, batch, params, { backend });
        const numeric = await finiteDifferenceGrad(rloo, batch, params, 'logps');
        expect(worstMismatch(result.grads.logps.data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 20 },
    );
  });

  it('values at masked positions change nothing, and no oldLogps equals oldLogps = logps', async () => {
    await fc.assert(
      fc.asyncProperty(
        groupBatchArbitrary(4),
        rlooParamsArbitrary,
        fc.double({ min: -50, max: 0, noNaN: true }),
        async (batch, params, junk) => {
          const base = await valueAndGrad(rloo, batch, params, { backend });
          const again = await valueAndGrad(rloo, scrambleMasked(batch, junk), params, { backend });
          expect(again.loss).toBe(base.loss);
          expect(Array.from(again.grads.logps.data)).toEqual(Array.from(base.grads.logps.data));
          const { oldLogps: _unused, ...onPolicy } = batch;
          const absent = await valueAndGrad(rloo, onPolicy, params, { backend });
          const copied = await valueAndGrad(rloo, { ...onPolicy, oldLogps: batch.logps }, params, { backend });
          expect(absent.loss).toBeCloseTo(copied.loss, 14);
          expect(worstMismatch(absent.grads.logps.data, copied.grads.logps.data, 1e-13, 1e-15)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 20 },
    );
  });
});
