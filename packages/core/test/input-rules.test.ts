import { describe, expect, it } from 'vitest';
import { PrefInputError, PrefParamError, prepareBatch, type InputSchema } from '../src';

/** The error a call throws (fails the test when it throws nothing). */
function errorOf(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('input rules: requireOneOf, fromLogits, actual, rowsMultipleOf', () => {
  const schema: InputSchema = {
    policy: {
      kind: 'sequence',
      prefix: '',
      description: 'Completions.',
      rowsMultipleOf: { param: 'groupSize', hint: 'groups are consecutive rows' },
    },
    entropies: {
      kind: 'tokens',
      name: 'entropies',
      sequence: 'policy',
      optional: true,
      fromLogits: true,
      requiredWhen: {
        when: 'entropyCoef ≠ 0',
        holds: (p) => p.entropyCoef !== 0,
        actual: (p) => `entropyCoef is ${String(p.entropyCoef)}`,
        hint: 'or set entropyCoef to 0',
      },
      description: 'Entropies.',
    },
    advantages: {
      kind: 'rows',
      name: 'advantages',
      optional: true,
      oneOf: 'adv',
      requireOneOf: true,
      forbiddenWhen: { when: 'beta > 0', holds: (p) => (p.beta as number) > 0, actual: (p) => `beta is ${String(p.beta)}`, param: 'beta' },
      description: 'Advantages.',
    },
    rewards: { kind: 'rows', name: 'rewards', optional: true, oneOf: 'adv', description: 'Rewards.' },
  };
  const logps = { logps: [[-1], [-2], [-3], [-4]], mask: [[1], [1], [1], [1]] };
  const params = { entropyCoef: 0, beta: 0, groupSize: null };

  it('requireOneOf: one of the group is needed whatever the parameters; either satisfies it', () => {
    const e = errorOf(() => prepareBatch(schema, logps, undefined, params));
    expect(e).toBeInstanceOf(PrefInputError);
    expect((e as PrefInputError).input).toBe('advantages');
    expect(e.message).toBe('missing input advantages [N] (or rewards [N]): Advantages.');
    expect(() => prepareBatch(schema, { ...logps, advantages: [1, 2, 3, 4] }, undefined, params)).not.toThrow();
    expect(() => prepareBatch(schema, { ...logps, rewards: [1, 2, 3, 4] }, undefined, params)).not.toThrow();
    expect(
      errorOf(() => prepareBatch(schema, { ...logps, rewards: [1, 2, 3, 4], advantages: [1, 2, 3, 4] }, undefined, params)).message,
    ).toBe('give either advantages [N] or rewards [N], not both');
  });

  it('actual: the values that made the rule hold are in the error', () => {
    const e = errorOf(() => prepareBatch(schema, { ...logps, advantages: [1, 2, 3, 4] }, undefined, { ...params, beta: 0.5 }));
    expect(e).toBeInstanceOf(PrefParamError);
    expect((e as PrefParamError).param).toBe('beta');
    expect(e.message).toBe('advantages cannot be used when beta > 0 (beta is 0.5)');
  });

  it('fromLogits: requiredWhen is met by the sequence given as logits or hidden states, not by log-probs', () => {
    const withCoef = { ...params, entropyCoef: 0.1 };
    const e = errorOf(() => prepareBatch(schema, { ...logps, rewards: [1, 2, 3, 4] }, undefined, withCoef));
    expect((e as PrefInputError).input).toBe('entropies');
    expect(e.message).toBe(
      'missing input entropies [N, T] (or logits [N, T, V] with labels or hidden [N, T, H] with labels and lmHead): Entropies. Needed when entropyCoef ≠ 0 (entropyCoef is 0.1); or set entropyCoef to 0',
    );
    const logits = { logits: [[[0, 1]], [[0, 1]], [[0, 1]], [[0, 1]]], labels: [[0], [1], [0], [1]], rewards: [1, 2, 3, 4] };
    expect(() => prepareBatch(schema, logits, undefined, withCoef)).not.toThrow();
    const hidden = {
      hidden: [[[0, 1]], [[0, 1]], [[0, 1]], [[0, 1]]],
      labels: [[0], [1], [0], [1]],
      lmHead: {
        weight: [
          [1, 0],
          [0, 1],
        ],
      },
      rewards: [1, 2, 3, 4],
    };
    expect(() => prepareBatch(schema, hidden, undefined, withCoef)).not.toThrow();
    expect(() =>
      prepareBatch(schema, { ...logps, rewards: [1, 2, 3, 4], entropies: [[1], [1], [1], [1]] }, undefined, withCoef),
    ).not.toThrow();
  });

  it('rowsMultipleOf: a PrefParamError naming the parameter, the rows and the input; unchecked when the parameter is null', () => {
    const batch = { ...logps, rewards: [1, 2, 3, 4] };
    expect(() => prepareBatch(schema, batch, undefined, { ...params, groupSize: 2 })).not.toThrow();
    expect(() => prepareBatch(schema, batch, undefined, params)).not.toThrow();
    const e = errorOf(() => prepareBatch(schema, batch, undefined, { ...params, groupSize: 3 }));
    expect(e).toBeInstanceOf(PrefParamError);
    expect((e as PrefParamError).param).toBe('groupSize');
    expect(e.message).toBe('4 rows is not a multiple of groupSize 3 (logps has 4 rows); groups are consecutive rows');
  });
});
