// Checks the worked examples of docs/objectives/grpo.md and docs/objectives/rloo.md.
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { grpo, rloo } from '../src';

const backend = createReferenceBackend();
const round = (x: number) => Number(x.toFixed(10));

describe('docs worked examples', () => {
  // Two completions of lengths 2 and 4, on-policy, A = [0.8, −0.2] (reference-notes §12).
  const aggregationBatch = {
    logps: [
      [-0.5, -1.0, 0, 0],
      [-0.2, -0.7, -1.3, -0.4],
    ],
    mask: [
      [1, 1, 0, 0],
      [1, 1, 1, 1],
    ],
    advantages: [0.8, -0.2],
  };

  it('grpo aggregation table', async () => {
    const loss = async (params: Record<string, unknown>) => round((await valueAndGrad(grpo, aggregationBatch, params, { backend })).loss);
    expect(await loss({ lossType: 'grpo' })).toBe(-0.3);
    expect(await loss({ lossType: 'bnpo' })).toBe(-0.1333333333);
    expect(await loss({ lossType: 'dapo' })).toBe(-0.1333333333);
    expect(await loss({ lossType: 'dr_grpo', maxCompletionLength: 8 })).toBe(-0.05);
    const grads = (await valueAndGrad(grpo, aggregationBatch, { lossType: 'dapo' }, { backend })).grads.logps.data;
    expect(Array.from(grads, round)).toEqual([-0.1333333333, -0.1333333333, 0, 0, 0.0333333333, 0.0333333333, 0.0333333333, 0.0333333333]);
  });

  it('grpo and rloo from rewards [1, 0, 0, 1] in one group of 4', async () => {
    const batch = {
      logps: [[-0.5], [-0.5], [-0.5], [-0.5]],
      mask: [[1], [1], [1], [1]],
      rewards: [1, 0, 0, 1],
    };
    const grpoResult = await valueAndGrad(grpo, batch, { groupSize: 4 }, { backend });
    expect(grpoResult.loss).toBeCloseTo(0, 12);
    expect(Array.from(grpoResult.grads.logps.data, round)).toEqual([-0.2164688574, 0.2164688574, 0.2164688574, -0.2164688574]);
    const rlooResult = await valueAndGrad(rloo, batch, { groupSize: 4 }, { backend });
    expect(rlooResult.loss).toBeCloseTo(0, 12);
    expect(Array.from(rlooResult.grads.logps.data, round)).toEqual([-0.1666666667, 0.1666666667, 0.1666666667, -0.1666666667]);
  });
});
