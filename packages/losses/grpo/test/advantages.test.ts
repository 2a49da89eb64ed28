import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { createForwardContext, PrefParamError, TensorOps, type ForwardContext, type PrefBackend, type Tensor } from '@pref/core';
import { worstMismatch } from '@pref/testing';
import { groupRelativeAdvantages, leaveOneOutAdvantages, normalizeAdvantagesGlobally } from '../src';
import { hostGlobalNormalize, hostGroupAdvantages, hostLeaveOneOut } from './host-advantages';

const backend: PrefBackend = createReferenceBackend();

/** Runs an estimator on one worker and reads the result back. */
async function evaluate(rewards: readonly number[], estimator: (ctx: ForwardContext, rewards: Tensor) => Tensor): Promise<number[]> {
  const ops = new TensorOps(backend);
  try {
    const ctx = createForwardContext(ops, 1, (x) => x);
    const out = estimator(ctx, ops.constant(rewards, [rewards.length]));
    const [values] = await backend.read([out.value]);
    return Array.from(values);
  } finally {
    ops.disposeAll();
  }
}

const groupedRewards = fc
  .record({ groups: fc.integer({ min: 1, max: 4 }), groupSize: fc.integer({ min: 2, max: 5 }) })
  .chain(({ groups, groupSize }) =>
    fc.record({
      groupSize: fc.constant(groupSize),
      rewards: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: groups * groupSize, maxLength: groups * groupSize }),
    }),
  );

describe('advantage estimators', () => {
  it('give the worked values of reference-notes §12 for group rewards [1, 0, 0, 1]', async () => {
    const grpoAdvantages = await evaluate([1, 0, 0, 1], (ctx, r) => groupRelativeAdvantages(ctx, r, { groupSize: 4 }));
    expect(grpoAdvantages.map((a) => Number(a.toFixed(10)))).toEqual([0.8658754298, -0.8658754298, -0.8658754298, 0.8658754298]);
    const rlooAdvantages = await evaluate([1, 0, 0, 1], (ctx, r) => leaveOneOutAdvantages(ctx, r, { groupSize: 4 }));
    expect(rlooAdvantages.map((a) => Number(a.toFixed(10)))).toEqual([0.6666666667, -0.6666666667, -0.6666666667, 0.6666666667]);
  });

  it('group mean/std in every scaleRewards mode equals a plain float64 computation', async () => {
    await fc.assert(
      fc.asyncProperty(
        groupedRewards,
        fc.constantFrom('group', 'batch', 'none') as fc.Arbitrary<'group' | 'batch' | 'none'>,
        async ({ rewards, groupSize }, scaleRewards) => {
          fc.pre(scaleRewards !== 'batch' || rewards.length >= 2);
          const computed = await evaluate(rewards, (ctx, r) => groupRelativeAdvantages(ctx, r, { groupSize, scaleRewards }));
          expect(worstMismatch(computed, hostGroupAdvantages(rewards, groupSize, scaleRewards), 1e-10, 1e-10)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('leave-one-out and global normalization equal a plain float64 computation', async () => {
    await fc.assert(
      fc.asyncProperty(groupedRewards, async ({ rewards, groupSize }) => {
        const loo = await evaluate(rewards, (ctx, r) => leaveOneOutAdvantages(ctx, r, { groupSize }));
        expect(worstMismatch(loo, hostLeaveOneOut(rewards, groupSize), 1e-12, 1e-12)).toBeLessThanOrEqual(1);
        const normalized = await evaluate(rewards, (ctx, r) =>
          normalizeAdvantagesGlobally(ctx, leaveOneOutAdvantages(ctx, r, { groupSize })),
        );
        expect(worstMismatch(normalized, hostGlobalNormalize(hostLeaveOneOut(rewards, groupSize)), 1e-9, 1e-9)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 40 },
    );
  });

  it('reject a row count that is not a multiple of groupSize, naming groupSize', async () => {
    const attempt = evaluate([1, 2, 3], (ctx, r) => groupRelativeAdvantages(ctx, r, { groupSize: 2 }));
    await expect(attempt).rejects.toThrow(PrefParamError);
    await expect(attempt).rejects.toThrow(/3 rows is not a multiple of groupSize 2/);
    await expect(evaluate([1, 2], (ctx, r) => leaveOneOutAdvantages(ctx, r, { groupSize: 1 }))).rejects.toThrow(
      /groupSize must be an integer ≥ 2/,
    );
  });
});
