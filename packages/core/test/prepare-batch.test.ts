import { describe, expect, it } from 'vitest';
import { PAIRWISE_INPUTS, PrefInputError, prepareBatch, REFERENCE_INPUTS, type InputSchema } from '../src';

const schema: InputSchema = { ...PAIRWISE_INPUTS, ...REFERENCE_INPUTS };
const good = () => ({
  chosenLogps: [
    [-0.5, -1.0, 0.0],
    [-0.2, -0.3, -0.4],
  ],
  chosenMask: [
    [1, 1, 0],
    [1, 1, 1],
  ],
  rejectedLogps: [
    [-2.0, -0.1],
    [-1.0, -3.0],
  ],
  rejectedMask: [
    [1, 1],
    [1, 0],
  ],
  refChosenLogps: [-1.2, -0.8],
  refRejectedLogps: [-2.5, -1.5],
});

function errorOf(batch: Record<string, unknown>, s: InputSchema = schema): PrefInputError {
  try {
    prepareBatch(s, batch);
  } catch (error) {
    expect(error).toBeInstanceOf(PrefInputError);
    return error as PrefInputError;
  }
  throw new Error('expected prepareBatch to throw');
}

describe('prepareBatch validation: every error names the input', () => {
  it('accepts a valid batch and derives masks', () => {
    const prepared = prepareBatch(schema, good());
    expect(prepared.chosen).toMatchObject({ kind: 'sequence', source: 'logps', gradName: 'chosenLogps', rows: 2, steps: 3 });
  });

  it('empty completion (n = 0), with the row', () => {
    const error = errorOf({
      ...good(),
      rejectedMask: [
        [1, 1],
        [0, 0],
      ],
    });
    expect(error.message).toMatch(/rejectedMask row 1 is empty/);
    expect(error.row).toBe(1);
  });

  it('mask values other than 0/1', () => {
    const error = errorOf({
      ...good(),
      chosenMask: [
        [1, 0.5, 0],
        [1, 1, 1],
      ],
    });
    expect(error.input).toBe('chosenMask');
    expect(error.message).toMatch(/chosenMask row 0 position 1 is 0.5; a mask holds 0 or 1/);
  });

  it('labels outside [0, V) other than -100', () => {
    const logits = [
      [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
    ];
    const base = {
      chosenLogits: logits,
      chosenLabels: [[0, -100]],
      rejectedLogits: logits,
      rejectedLabels: [[1, 1]],
      refChosenLogps: [-1],
      refRejectedLogps: [-1],
    };
    expect(errorOf({ ...base, chosenLabels: [[2, 0]] }).message).toMatch(/chosenLabels row 0 position 0 is 2, outside \[0, 2\)/);
    expect(errorOf({ ...base, rejectedLabels: [[-1, 0]] }).input).toBe('rejectedLabels');
    expect(errorOf({ ...base, rejectedLabels: [[-100, -100]] }).message).toMatch(/rejectedLabels row 0 is empty/);
    expect(prepareBatch(schema, base).chosen).toMatchObject({ source: 'logits', gradName: 'chosenLogits' });
  });

  it('non-finite values where they count, and only there', () => {
    expect(
      errorOf({
        ...good(),
        chosenLogps: [
          [NaN, -1, 0],
          [-0.2, -0.3, -0.4],
        ],
      }).message,
    ).toMatch(/chosenLogps row 0 position 0 is NaN/);
    expect(errorOf({ ...good(), refRejectedLogps: [-1, Infinity] }).message).toMatch(/refRejectedLogps row 1 is Infinity/);
    const logits = [
      [
        [0.1, NaN],
        [0.3, 0.4],
      ],
    ];
    expect(
      errorOf({
        chosenLogits: logits,
        chosenLabels: [[0, 1]],
        rejectedLogps: [[-1]],
        rejectedMask: [[1]],
        refChosenLogps: [-1],
        refRejectedLogps: [-1],
      }).input,
    ).toBe('chosenLogits');
    // A masked-out position may hold anything.
    expect(() =>
      prepareBatch(schema, {
        ...good(),
        chosenLogps: [
          [-0.5, -1.0, NaN],
          [-0.2, -0.3, -0.4],
        ],
      }),
    ).not.toThrow();
  });

  it('log-probs above 0 (beyond 1e-6)', () => {
    expect(
      errorOf({
        ...good(),
        rejectedLogps: [
          [-2.0, 0.01],
          [-1.0, -3.0],
        ],
      }).message,
    ).toMatch(/rejectedLogps row 0 position 1 is 0.01; a log-prob cannot be above 0/);
    expect(() =>
      prepareBatch(schema, {
        ...good(),
        rejectedLogps: [
          [-2.0, 5e-7],
          [-1.0, -3.0],
        ],
      }),
    ).not.toThrow();
  });

  it('missing inputs', () => {
    const { refChosenLogps: _, ...withoutRef } = good();
    expect(errorOf(withoutRef).message).toMatch(/missing input refChosenLogps/);
    const { chosenMask: __, ...withoutMask } = good();
    expect(errorOf(withoutMask).input).toBe('chosenMask');
    const { chosenLogps: ___, chosenMask: ____, ...withoutChosen } = good();
    expect(errorOf(withoutChosen).message).toMatch(/missing input chosenLogps/);
  });

  it('mismatched shapes, with expected and actual', () => {
    expect(
      errorOf({
        ...good(),
        chosenMask: [
          [1, 1],
          [1, 1],
        ],
      }).message,
    ).toMatch(/chosenLogps has shape \[2, 3\] but chosenMask has shape \[2, 2\]/);
    expect(errorOf({ ...good(), rejectedLogps: [[-1, -1]], rejectedMask: [[1, 1]] }).message).toMatch(
      /rejectedLogps has 1 rows but chosenLogps has 2/,
    );
    expect(errorOf({ ...good(), refChosenLogps: [-1, -2, -3] }).message).toMatch(/refChosenLogps has 3 rows but chosenLogps has 2/);
    expect(errorOf({ ...good(), chosenLogps: [[-0.5, -1.0], [-0.2]] }).message).toMatch(/chosenLogps is ragged/);
    expect(errorOf({ ...good(), chosenLogps: [-0.5, -1.0], chosenMask: [1, 1] }).message).toMatch(
      /chosenMask must have rank 2 \[N, T\], got shape \[2\]/,
    );
  });

  it('unknown inputs and both paths at once', () => {
    expect(errorOf({ ...good(), chosenLogprobs: [[0]] }).message).toMatch(/unknown input chosenLogprobs/);
    expect(errorOf({ ...good(), chosenLogits: [[[0]]], chosenLabels: [[0]] }).message).toMatch(
      /either chosenLogps with chosenMask or chosenLogits with chosenLabels/,
    );
  });

  it('binary row inputs hold 0 or 1', () => {
    const binary: InputSchema = {
      seq: { kind: 'sequence', prefix: '', description: '' },
      desirable: { kind: 'rows', name: 'desirable', description: '', values: 'binary' },
    };
    expect(errorOf({ logps: [[-1]], mask: [[1]], desirable: [2] }, binary).message).toMatch(/desirable row 0 is 2; it must be 0 or 1/);
  });

  it('host tensors given as { data, shape } are checked too', () => {
    expect(errorOf({ ...good(), chosenMask: { data: [1, 1, 0, 1, 1], shape: [2, 3] } }).message).toMatch(
      /chosenMask has 5 values but shape \[2, 3\]/,
    );
  });
});
