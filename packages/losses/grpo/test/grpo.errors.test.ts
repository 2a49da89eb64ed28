import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { PrefInputError, PrefParamError, valueAndGrad, type Batch } from '@pref/core';
import { grpo, rloo } from '../src';

const backend = createReferenceBackend();
const base = {
  logps: [
    [-0.5, -1.0],
    [-0.3, -0.2],
    [-1.1, -0.4],
    [-0.9, -2.0],
  ],
  mask: [
    [1, 1],
    [1, 0],
    [1, 1],
    [1, 1],
  ],
};

async function errorOf(objective: typeof grpo | typeof rloo, batch: Batch, params: Record<string, unknown>): Promise<Error> {
  try {
    await valueAndGrad(objective, batch, params, { backend });
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('grpo and rloo input and parameter errors', () => {
  it('name groupSize when the rows are not a multiple of it', async () => {
    const error = await errorOf(grpo, { ...base, rewards: [1, 0, 1, 0] }, { groupSize: 3 });
    expect(error).toBeInstanceOf(PrefParamError);
    expect((error as PrefParamError).param).toBe('groupSize');
    expect(error.message).toMatch(/4 rows is not a multiple of groupSize 3/);
  });

  it('name groupSize when rewards come without it, and advantages when neither is given', async () => {
    const withoutGroupSize = await errorOf(rloo, { ...base, rewards: [1, 0, 1, 0] }, {});
    expect((withoutGroupSize as PrefParamError).param).toBe('groupSize');
    expect(withoutGroupSize.message).toMatch(/rewards need groupSize/);
    const neither = await errorOf(grpo, base, { groupSize: 2 });
    expect(neither).toBeInstanceOf(PrefInputError);
    expect(neither.message).toMatch(/missing input advantages \[N\], or rewards \[N\] with the groupSize parameter/);
  });

  it('reject advantages and rewards together', async () => {
    const error = await errorOf(grpo, { ...base, rewards: [1, 0, 1, 0], advantages: [1, -1, 1, -1] }, { groupSize: 2 });
    expect((error as PrefInputError).input).toBe('advantages');
  });

  it('name refLogps when beta > 0 and it is missing', async () => {
    for (const objective of [grpo, rloo]) {
      const error = await errorOf(objective, { ...base, rewards: [1, 0, 1, 0] }, { groupSize: 2, beta: 0.04 });
      expect((error as PrefInputError).input).toBe('refLogps');
    }
  });

  it('rloo names beta when a KL penalty is asked for with precomputed advantages', async () => {
    const refLogps = base.logps;
    const error = await errorOf(rloo, { ...base, refLogps, advantages: [1, -1, 1, -1] }, { beta: 0.05 });
    expect((error as PrefParamError).param).toBe('beta');
  });

  it('reject out-of-range parameters naming them', async () => {
    const batch = { ...base, advantages: [1, -1, 1, -1] };
    expect(((await errorOf(grpo, batch, { epsilon: 1 })) as PrefParamError).param).toBe('epsilon');
    expect(((await errorOf(grpo, batch, { epsilonHigh: 0 })) as PrefParamError).param).toBe('epsilonHigh');
    expect(((await errorOf(grpo, batch, { groupSize: 1 })) as PrefParamError).param).toBe('groupSize');
    expect(((await errorOf(grpo, batch, { lossType: 'sum' })) as PrefParamError).param).toBe('lossType');
    expect(((await errorOf(rloo, batch, { beta: -1 })) as PrefParamError).param).toBe('beta');
  });
});
