import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  defineObjective,
  PAIRWISE_INPUTS,
  PrefError,
  Tensor,
  TensorOps,
  valueAndGrad,
  type ForwardContext,
  type ObjectiveInputs,
} from '@pref/core';
import { pairBatchArbitrary } from '@pref/testing';
import { backend } from './grad-check';

type PairInputs = ObjectiveInputs<typeof PAIRWISE_INPUTS>;

/** One loss written twice: with chained methods and with nested `ops` calls. */
function marginObjective(id: string, loss: (ctx: ForwardContext, inputs: PairInputs) => Tensor) {
  return defineObjective({
    id,
    title: id,
    summary: 'Chained and nested forms of one loss.',
    reference: 'none',
    inputs: PAIRWISE_INPUTS,
    params: {},
    presets: {},
    metrics: [],
    stateful: false,
    forward: (ctx, inputs) => ({ loss: loss(ctx, inputs), metrics: {} }),
  });
}

const chained = marginObjective('chained', (_ctx, { chosen, rejected }) => {
  const a = chosen.logps.mul(chosen.mask).sum(1).div(chosen.mask.sum(1));
  const b = rejected.logps.mul(rejected.mask).sum(1).div(rejected.mask.sum(1));
  return a.sub(b).neg().sub(0.5).softplus().pow(1.5).add(a.exp().maximum(b.stopGradient()).mean()).mean();
});
const nested = marginObjective('nested', ({ ops }, { chosen, rejected }) => {
  const a = ops.div(ops.sum(ops.mul(chosen.logps, chosen.mask), 1), ops.sum(chosen.mask, 1));
  const b = ops.div(ops.sum(ops.mul(rejected.logps, rejected.mask), 1), ops.sum(rejected.mask, 1));
  return ops.mean(
    ops.add(ops.pow(ops.softplus(ops.sub(ops.neg(ops.sub(a, b)), 0.5)), 1.5), ops.mean(ops.maximum(ops.exp(a), ops.stopGradient(b)))),
  );
});

describe('chainable Tensor methods', () => {
  it('record on the same tape as the ops they stand for (same loss and gradients)', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3), async (batch) => {
        const left = await valueAndGrad(chained, batch, {}, { backend });
        const right = await valueAndGrad(nested, batch, {}, { backend });
        expect(left.loss).toBe(right.loss);
        expect(Array.from(left.grads.chosenLogps.data)).toEqual(Array.from(right.grads.chosenLogps.data));
        expect(Array.from(left.grads.rejectedLogps.data)).toEqual(Array.from(right.grads.rejectedLogps.data));
        expect(left.grads.chosenLogps.data.some((g) => g !== 0)).toBe(true);
      }),
      { seed: 20261203, numRuns: 30 },
    );
  });

  it('a tensor not made by TensorOps says how to compute with it', () => {
    const ops = new TensorOps(backend);
    const bare = new Tensor(backend.fill([2], 1));
    expect(() => bare.neg()).toThrow(PrefError);
    expect(() => bare.neg()).toThrow(/ctx\.ops/);
    const made = ops.fill([2], 1);
    expect(made.neg().shape).toEqual([2]);
    backend.dispose(bare.value);
    ops.disposeAll();
  });
});
