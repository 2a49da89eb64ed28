import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { sliceBatchRows, valueAndGrad, type Batch } from '@pref/core';
import { runDataParallel, worstMismatch } from '@pref/testing';
import { grpo, rloo } from '../src';
import { groupBatchArbitrary } from './group-batch';

const backend = createReferenceBackend();
const ROWS = 8;
/** Three workers holding 1, 2 and 1 groups of 2 (group-aligned, unequal token counts). */
const BOUNDARIES = [0, 2, 6, 8];

/**
 * The clip-ratio metrics count tokens by the sign of the advantage; when the rewards of a group
 * are (nearly) equal its advantages are 0 up to rounding, and the order of the all-reduced sums
 * decides the sign. Such batches say nothing about data parallelism: leave them out.
 */
function rewardsDifferWithinGroups(batch: Batch): boolean {
  const rewards = batch.rewards as number[];
  return rewards.every((r, i) => i % 2 === 1 || Math.abs(r - rewards[i + 1]) > 1e-6);
}

async function expectSameAsOneWorker(objective: typeof grpo | typeof rloo, batch: Batch, params: Record<string, unknown>) {
  fc.pre(rewardsDifferWithinGroups(batch));
  const single = await valueAndGrad(objective, batch, params, { backend });
  const { workers, grads } = await runDataParallel(objective, batch, params, { backend, rows: ROWS, boundaries: BOUNDARIES });
  for (const worker of workers) {
    expect(worker.loss).toBeCloseTo(single.loss, 12);
    for (const [name, value] of Object.entries(single.metrics)) expect(worker.metrics[name], name).toBeCloseTo(value, 12);
  }
  expect(worstMismatch(grads.logps, single.grads.logps.data, 1e-10, 1e-13)).toBeLessThanOrEqual(1);
}

describe('grpo and rloo over 3 simulated workers', () => {
  it("dapo's token total, batch std scaling and global normalization equal one worker", async () => {
    await fc.assert(
      fc.asyncProperty(
        groupBatchArbitrary(ROWS),
        fc.record({
          lossType: fc.constantFrom('dapo', 'grpo', 'dr_grpo'),
          scaleRewards: fc.constantFrom('group', 'batch', 'none'),
          normalizeAdvantages: fc.constantFrom('none', 'global'),
          importanceSampling: fc.constantFrom('token', 'sequence'),
          beta: fc.constantFrom(0, 0.04),
        }),
        async (batch, params) => expectSameAsOneWorker(grpo, batch, { ...params, groupSize: 2 }),
      ),
      { numRuns: 15 },
    );
  });

  it('the dapo default with batch scaling and global normalization, explicitly', async () => {
    await fc.assert(
      fc.asyncProperty(groupBatchArbitrary(ROWS), async (batch) =>
        expectSameAsOneWorker(grpo, batch, { groupSize: 2, scaleRewards: 'batch', normalizeAdvantages: 'global' }),
      ),
      { numRuns: 10 },
    );
  });

  it('rloo with global normalization equals one worker', async () => {
    await fc.assert(
      fc.asyncProperty(groupBatchArbitrary(ROWS), fc.constantFrom(0, 0.05), async (batch, beta) =>
        expectSameAsOneWorker(rloo, batch, { groupSize: 2, normalizeAdvantages: 'global', beta }),
      ),
      { numRuns: 10 },
    );
  });

  it('bnpo is the mean over workers of each worker’s own token mean (TRL’s local normalization)', async () => {
    await fc.assert(
      fc.asyncProperty(groupBatchArbitrary(ROWS), async (batch) => {
        const params = { groupSize: 2, lossType: 'bnpo' } as const;
        const { workers } = await runDataParallel(grpo, batch, params, { backend, rows: ROWS, boundaries: BOUNDARIES });
        const alone = await Promise.all(
          BOUNDARIES.slice(0, -1).map((begin, rank) =>
            valueAndGrad(grpo, sliceBatchRows(batch, ROWS, begin, BOUNDARIES[rank + 1]), params, { backend }),
          ),
        );
        const expected = alone.reduce((s, r) => s + r.loss, 0) / alone.length;
        for (const worker of workers) expect(worker.loss).toBeCloseTo(expected, 12);
        const single = await valueAndGrad(grpo, batch, params, { backend });
        const dapo = await valueAndGrad(grpo, batch, { ...params, lossType: 'dapo' }, { backend });
        expect(single.loss).toBeCloseTo(dapo.loss, 14);
      }),
      { numRuns: 10 },
    );
  });

  it('a worker holding part of a group is rejected, naming groupSize', async () => {
    const [batch] = fc.sample(groupBatchArbitrary(ROWS), { numRuns: 1, seed: 7 });
    await expect(runDataParallel(grpo, batch, { groupSize: 2 }, { backend, rows: ROWS, boundaries: [0, 3, 6, 8] })).rejects.toThrow(
      /3 rows is not a multiple of groupSize 2/,
    );
  });
});
