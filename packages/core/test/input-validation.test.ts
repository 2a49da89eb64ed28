import { describe, expect, it } from 'vitest';
import {
  PAIRWISE_INPUTS,
  PrefBackendError,
  PrefInputError,
  PrefParamError,
  prepareBatch,
  REFERENCE_INPUTS,
  resolveParams,
  toHostTensor,
  valueAndGrad,
  type InputSchema,
  type ParamRule,
  type PrefBackend,
} from '../src';
import { checkObjectiveState } from '../src/objective-state';

const schema: InputSchema = { ...PAIRWISE_INPUTS, ...REFERENCE_INPUTS };
const good = () => ({
  chosenLogps: [
    [-0.5, -1.0],
    [-0.2, -0.3],
  ],
  chosenMask: [
    [1, 1],
    [1, 0],
  ],
  rejectedLogps: [[-2.0], [-1.0]],
  rejectedMask: [[1], [1]],
  refChosenLogps: [-1.2, -0.8],
  refRejectedLogps: [-2.5, -1.5],
});
const f32 = { capabilities: { precision: 32 } } as unknown as PrefBackend;

function inputError(run: () => unknown): PrefInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PrefInputError);
    return error as PrefInputError;
  }
  throw new Error('expected a PrefInputError');
}

describe('host validation of batches', () => {
  it('an empty batch ({ data: [], shape: [0, T] }) is an error naming the input', () => {
    const e = inputError(() =>
      prepareBatch(schema, { ...good(), chosenLogps: { data: [], shape: [0, 2] }, chosenMask: { data: [], shape: [0, 2] } }),
    );
    expect(e.input).toBe('chosenMask');
    expect(e.message).toMatch(/batch is empty/);
  });

  it('values finite in float64 but not representable in float32 are rejected on a float32 backend, with row and position', () => {
    const batch = {
      ...good(),
      chosenLogps: [
        [-0.5, -1e39],
        [-0.2, -0.3],
      ],
    };
    expect(() => prepareBatch(schema, batch)).not.toThrow();
    const e = inputError(() => prepareBatch(schema, batch, f32));
    expect(e.message).toMatch(/row 0 position 1 is -1e\+39, outside ±1000000000/);
    expect(() =>
      prepareBatch(schema, {
        ...good(),
        chosenLogps: [
          [-0.5, -1e308],
          [-0.2, -0.3],
        ],
      }),
    ).toThrow(/outside ±1e\+100 \(the float64 input range\)/);
    expect(e).toMatchObject({ input: 'chosenLogps', row: 0 });
    expect(e.message).toMatch(/float32/);
    expect(() => prepareBatch(schema, { ...good(), refChosenLogps: [-1.2, -1e308] })).toThrow(/refChosenLogps row 1/);
  });

  it('rows given as Float64Array / Float32Array are accepted and equal the nested-array form', () => {
    const typed = prepareBatch(schema, {
      ...good(),
      chosenLogps: [Float64Array.of(-0.5, -1), Float32Array.of(-0.2, -0.3)],
      refChosenLogps: Float64Array.of(-1.2, -0.8),
    });
    const plain = prepareBatch(schema, good());
    expect(typed.chosen).toMatchObject({ rows: 2, steps: 2 });
    expect(typed.refChosen).toBeDefined();
    expect(plain.chosen).toMatchObject({ rows: 2, steps: 2 });
  });

  it('negative or fractional dims and non-number data are clear errors', () => {
    expect(() => toHostTensor('chosenMask', { data: [], shape: [-1, 0] })).toThrow(
      /chosenMask.shape must be a list of non-negative integers, got \[-1,0\]/,
    );
    expect(() => toHostTensor('chosenMask', { data: [1, 1], shape: [1.5, 2] })).toThrow(/non-negative integers/);
    expect(() => toHostTensor('chosenMask', { data: [1, 'a'], shape: [1, 2] })).toThrow(/chosenMask.data\[1\] is not a number/);
    expect(() => toHostTensor('chosenMask', { data: [1, 1, 1], shape: [2, 2] })).toThrow(/3 values but shape \[2, 2\] holds 4/);
  });

  it('a short first row is reported as row 0', () => {
    const e = inputError(() => toHostTensor('chosenMask', [[1], [1, 1]]));
    expect(e.row).toBe(0);
    expect(e.message).toMatch(/chosenMask\[0\] has 1 entries, the other rows 2/);
    expect(inputError(() => toHostTensor('chosenMask', [[1, 1], [1, 1], [1]])).row).toBe(2);
  });

  it('logits at an ignored position must be finite too, and labels name their position', () => {
    const logits = { ...good(), chosenLogps: undefined, chosenMask: undefined };
    const batch = {
      ...logits,
      chosenLogits: [
        [
          [0, 1],
          [NaN, 0],
        ],
      ],
      chosenLabels: [[1, -100]],
      rejectedLogps: [[-1]],
      rejectedMask: [[1]],
      refChosenLogps: [-1],
      refRejectedLogps: [-1],
    };
    expect(() => prepareBatch(schema, batch)).toThrow(/chosenLogits row 0 position 1 entry 0 is NaN/);
  });

  it('a batch that is null or not an object is a PrefInputError naming batch', () => {
    expect(inputError(() => prepareBatch(schema, null as never)).input).toBe('batch');
  });
});

describe('conditional and alternative inputs', () => {
  const needsRef: ParamRule = { when: 'beta > 0', holds: (p) => (p.beta as number) > 0 };
  const rule: InputSchema = {
    ...PAIRWISE_INPUTS,
    sums: { kind: 'rows', name: 'refSums', optional: true, oneOf: 'ref', requiredWhen: needsRef, description: 'Summed.' },
    tokens: {
      kind: 'tokens',
      name: 'refTokens',
      sequence: 'chosen',
      optional: true,
      oneOf: 'ref',
      requiredWhen: needsRef,
      description: 'Per token.',
    },
    bonus: {
      kind: 'rows',
      name: 'bonus',
      optional: true,
      forbiddenWhen: { when: 'beta > 1', holds: (p) => (p.beta as number) > 1, param: 'beta' },
      description: 'Bonus.',
    },
  };
  const pair = { chosenLogps: [[-1]], chosenMask: [[1]], rejectedLogps: [[-1]], rejectedMask: [[1]] };

  it('requiredWhen: missing only when the rule holds; an alternative satisfies it', () => {
    expect(() => prepareBatch(rule, pair, undefined, { beta: 0 })).not.toThrow();
    const e = inputError(() => prepareBatch(rule, pair, undefined, { beta: 0.1 }));
    expect(e.message).toMatch(/missing input refSums \[N\] \(or refTokens \[N, T\]\).*Needed when beta > 0/);
    expect(() => prepareBatch(rule, { ...pair, refTokens: [[-1]] }, undefined, { beta: 0.1 })).not.toThrow();
  });

  it('oneOf: both alternatives is an error', () => {
    const e = inputError(() => prepareBatch(rule, { ...pair, refSums: [-1], refTokens: [[-1]] }, undefined, { beta: 0.1 }));
    expect(e.message).toBe('give either refSums [N] or refTokens [N, T], not both');
  });

  it('forbiddenWhen with a param names the parameter', () => {
    expect(() => prepareBatch(rule, { ...pair, bonus: [1] }, undefined, { beta: 2 })).toThrow(PrefParamError);
    expect(() => prepareBatch(rule, { ...pair, bonus: [1] }, undefined, { beta: 0 })).not.toThrow();
  });

  it('logitsWhen: a sequence given as log-probs is refused when the rule holds', () => {
    const s: InputSchema = {
      seq: {
        kind: 'sequence',
        prefix: 'chosen',
        description: 'x',
        logitsWhen: { when: 'useWeighting is true', holds: (p) => p.useWeighting === true },
      },
    };
    expect(() => prepareBatch(s, { chosenLogps: [[-1]], chosenMask: [[1]] }, undefined, { useWeighting: true })).toThrow(
      /useWeighting is true, so pass chosenLogits with chosenLabels/,
    );
  });
});

describe('parameters, call arguments and state', () => {
  const toy = { beta: { kind: 'number', default: 0.1, min: 0, description: 'b' } } as const;
  it('NaN and Infinity are named as such, not as null', () => {
    expect(() => resolveParams('toy', toy, {}, { beta: NaN })).toThrow(/got NaN$/);
    expect(() => resolveParams('toy', toy, {}, { beta: -Infinity })).toThrow(/got -Infinity$/);
  });

  it('params = null is a PrefParamError', () => {
    expect(() => resolveParams('toy', toy, {}, null as never)).toThrow(PrefParamError);
  });

  it('valueAndGrad with batch = null, params = null or no backend gives typed errors', async () => {
    const objective = {
      id: 'toy',
      forward: () => {
        throw new Error('not reached');
      },
      inputs: {},
      params: toy,
      presets: {},
      stateful: false,
      metrics: [],
    };
    const backend = { fromHost: () => null } as unknown as PrefBackend;
    await expect(valueAndGrad(objective as never, null as never, {}, { backend })).rejects.toThrow(PrefInputError);
    await expect(valueAndGrad(objective as never, {}, null as never, { backend })).rejects.toThrow(PrefParamError);
    await expect(valueAndGrad(objective as never, {}, {}, undefined as never)).rejects.toThrow(PrefBackendError);
    await expect(valueAndGrad(objective as never, {}, {}, {} as never)).rejects.toThrow(/options.backend must be a backend/);
    await expect(valueAndGrad(objective as never, {}, {}, { backend, state: { mean: 0 } })).rejects.toThrow(/toy is stateless/);
  });

  it('state: extra keys, std −0, steps 1e20 and non-finite values are refused, naming the field', () => {
    const lmpo = {
      id: 'lmpo',
      stateful: true,
      stateSchema: { mean: { description: 'a' }, std: { description: 'b', min: 0 }, steps: { description: 'n', integer: true } },
    };
    const ok = { mean: 0.5, std: 0, steps: 3 };
    expect(() => checkObjectiveState(lmpo, ok)).not.toThrow();
    const field = (state: unknown) => inputError(() => checkObjectiveState(lmpo, state)).input;
    expect(field({ ...ok, extra: 1 })).toBe('state.extra');
    expect(field({ ...ok, std: -0 })).toBe('state.std');
    expect(field({ ...ok, steps: 1e20 })).toBe('state.steps');
    expect(field({ ...ok, mean: NaN })).toBe('state.mean');
    expect(inputError(() => checkObjectiveState(lmpo, { ...ok, std: -0 })).message).toMatch(/got -0/);
  });
});
