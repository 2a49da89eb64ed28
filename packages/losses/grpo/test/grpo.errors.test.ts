import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { PrefInputError, PrefParamError, valueAndGrad, type Batch } from '@pref/core';
import { grpo, rloo } from '../src';

const reference = createReferenceBackend();
/** Tensors made on the backend: every input check must run on the host before any exists. */
let allocations = 0;
const backend = new Proxy(reference, {
  get(target, key, receiver) {
    const value = Reflect.get(target, key, receiver);
    if (typeof value !== 'function') return value;
    if (key === 'fromHost' || key === 'fromHostInt' || key === 'fill') {
      return (...args: unknown[]) => {
        allocations++;
        return value.apply(target, args);
      };
    }
    return value.bind(target);
  },
});
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
  allocations = 0;
  try {
    await valueAndGrad(objective, batch, params, { backend });
  } catch (error) {
    expect(allocations, `${(error as Error).message}: allocated before the check`).toBe(0);
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
    expect(withoutGroupSize).toBeInstanceOf(PrefParamError);
    expect((withoutGroupSize as PrefParamError).param).toBe('groupSize');
    expect(withoutGroupSize.message).toMatch(/^rewards cannot be used when groupSize is not set; .*set groupSize .*or pass advantages/);
    for (const objective of [grpo, rloo]) {
      const neither = await errorOf(objective, base, { groupSize: 2 });
      expect(neither).toBeInstanceOf(PrefInputError);
      expect((neither as PrefInputError).input).toBe('advantages');
      expect(neither.message).toMatch(/^missing input advantages \[N\] \(or rewards \[N\]\): .*rewards \[N\] with the groupSize parameter/);
    }
  });

  it('reject advantages and rewards together, naming both', async () => {
    const error = await errorOf(grpo, { ...base, rewards: [1, 0, 1, 0], advantages: [1, -1, 1, -1] }, { groupSize: 2 });
    expect(error).toBeInstanceOf(PrefInputError);
    expect((error as PrefInputError).input).toBe('rewards');
    expect(error.message).toBe('give either advantages [N] or rewards [N], not both');
  });

  it('name groupSize when the rows of precomputed advantages are not whole groups', async () => {
    const error = await errorOf(grpo, { ...base, advantages: [1, -1, 1, -1] }, { groupSize: 3 });
    expect((error as PrefParamError).param).toBe('groupSize');
    expect(error.message).toMatch(/^4 rows is not a multiple of groupSize 3 \(logps has 4 rows\); rows are grouped consecutively/);
  });

  it('name refLogps when beta > 0 and it is missing, with the value of beta', async () => {
    for (const objective of [grpo, rloo]) {
      const error = await errorOf(objective, { ...base, rewards: [1, 0, 1, 0] }, { groupSize: 2, beta: 0.04 });
      expect(error).toBeInstanceOf(PrefInputError);
      expect((error as PrefInputError).input).toBe('refLogps');
      expect(error.message).toMatch(/^missing input refLogps \[N, T\]: .*Needed when beta > 0 \(beta is 0.04\); .*set beta to 0/);
    }
  });

  it('rloo names beta when a KL penalty is asked for with precomputed advantages; grpo takes them', async () => {
    const refLogps = base.logps;
    const batch = { ...base, refLogps, advantages: [1, -1, 1, -1] };
    const error = await errorOf(rloo, batch, { beta: 0.05 });
    expect(error).toBeInstanceOf(PrefParamError);
    expect((error as PrefParamError).param).toBe('beta');
    expect(error.message).toMatch(/^advantages cannot be used when beta > 0 \(beta is 0.05\); .*pass rewards/);
    allocations = 0;
    expect(Number.isFinite((await valueAndGrad(grpo, batch, { beta: 0.05 }, { backend })).loss)).toBe(true);
    expect(allocations, 'the allocation count sees the backend').toBeGreaterThan(0);
  });

  it('grpo names entropies when topEntropyQuantile or entropyCoef needs them, and takes logits instead', async () => {
    const batch = { ...base, advantages: [1, -1, 1, -1] };
    for (const params of [{ topEntropyQuantile: 0.5 }, { entropyCoef: 0.01 }]) {
      const error = await errorOf(grpo, batch, params);
      expect(error).toBeInstanceOf(PrefInputError);
      expect((error as PrefInputError).input).toBe('entropies');
      expect(error.message).toMatch(
        /^missing input entropies \[N, T\] \(or logits \[N, T, V\] with labels or hidden \[N, T, H\] with labels and lmHead\): .*Needed when topEntropyQuantile < 1 or entropyCoef ≠ 0 \(topEntropyQuantile is/,
      );
    }
    const logits = base.mask.map((row) => row.map((_, t) => [0.1 * t, -0.2, 0.3]));
    const labels = base.mask.map((row) => row.map((m, t) => (m ? t % 3 : -100)));
    const fromLogits = await valueAndGrad(grpo, { logits, labels, advantages: batch.advantages }, { entropyCoef: 0.01 }, { backend });
    expect(Number.isFinite(fromLogits.loss)).toBe(true);
    expect(Number.isFinite(fromLogits.metrics['entropy'])).toBe(true);
  });

  it('grpo names vllmImportanceSamplingMode when vespo gets a sequence-level sampler correction', async () => {
    const batch = { ...base, advantages: [1, -1, 1, -1], samplerLogps: base.logps };
    const error = await errorOf(grpo, batch, { lossType: 'vespo' });
    expect(error).toBeInstanceOf(PrefParamError);
    expect((error as PrefParamError).param).toBe('vllmImportanceSamplingMode');
    expect(error.message).toMatch(
      /^samplerLogps cannot be used when .*vespo.*\(vllmImportanceSamplingMode is sequence_mask\); .*token_mask/,
    );
    const tokenLevel = { lossType: 'vespo', vllmImportanceSamplingMode: 'token_mask' } as const;
    expect(Number.isFinite((await valueAndGrad(grpo, batch, tokenLevel, { backend })).loss)).toBe(true);
    const withoutCorrection = { lossType: 'vespo', vllmImportanceSamplingCorrection: false } as const;
    expect(Number.isFinite((await valueAndGrad(grpo, batch, withoutCorrection, { backend })).loss)).toBe(true);
  });

  it('grpo names truncated when maskTruncatedCompletions needs it', async () => {
    const error = await errorOf(grpo, { ...base, advantages: [1, -1, 1, -1] }, { maskTruncatedCompletions: true });
    expect((error as PrefInputError).input).toBe('truncated');
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
