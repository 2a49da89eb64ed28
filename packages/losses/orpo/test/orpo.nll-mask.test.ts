import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { PrefInputError, valueAndGrad } from '@pref/core';
import { orpo } from '../src';

const backend = createReferenceBackend();
// Position 0 is a prompt token: outside chosenMask, inside chosenNllMask (TRL's NLL over prompt + completion).
const batch = {
  chosenLogps: [
    [-2.0, -0.5, -0.25],
    [-1.0, -0.2, -0.3],
  ],
  chosenMask: [
    [0, 1, 1],
    [0, 1, 0],
  ],
  rejectedLogps: [
    [-1.5, -0.9],
    [-0.7, -2.0],
  ],
  rejectedMask: [
    [1, 1],
    [1, 0],
  ],
};

describe('orpo chosenNllMask', () => {
  it('defaults to chosenMask', async () => {
    const plain = await valueAndGrad(orpo, batch, {}, { backend });
    const same = await valueAndGrad(orpo, { ...batch, chosenNllMask: batch.chosenMask }, {}, { backend });
    expect(same.loss).toBe(plain.loss);
    expect(Array.from(same.grads.chosenLogps.data)).toEqual(Array.from(plain.grads.chosenLogps.data));
  });

  it('takes the NLL over its tokens and leaves the odds ratio on chosenMask', async () => {
    const nllMask = [
      [1, 1, 1],
      [1, 1, 0],
    ];
    const plain = await valueAndGrad(orpo, batch, {}, { backend });
    const wide = await valueAndGrad(orpo, { ...batch, chosenNllMask: nllMask }, {}, { backend });
    const nll = (2.0 + 0.5 + 0.25 + 1.0 + 0.2) / 5;
    expect(wide.metrics['nll_loss']).toBeCloseTo(nll, 14);
    expect(wide.metrics['log_odds_ratio']).toBe(plain.metrics['log_odds_ratio']);
    expect(wide.loss - plain.loss).toBeCloseTo(nll - plain.metrics['nll_loss'], 14);
    // The prompt token gets only the NLL gradient, −1/5.
    expect(wide.grads.chosenLogps.data[0]).toBeCloseTo(-1 / 5, 14);
    expect(plain.grads.chosenLogps.data[0]).toBe(0);
  });

  it('rejects values other than 0 and 1, naming chosenNllMask and the row', async () => {
    const attempt = valueAndGrad(
      orpo,
      {
        ...batch,
        chosenNllMask: [
          [1, 1, 1],
          [0.5, 1, 0],
        ],
      },
      {},
      { backend },
    );
    await expect(attempt).rejects.toThrow(PrefInputError);
    await expect(attempt).rejects.toThrow(/chosenNllMask row 1 position 0 is 0\.5; it must be 0 or 1/);
  });
});
