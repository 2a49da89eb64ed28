import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { cpo } from '../src';

const backend = createReferenceBackend();
const batch = {
  chosenLogps: [
    [-0.5, -1.0, -0.25],
    [-0.05, -0.3, 0],
  ],
  chosenMask: [
    [1, 1, 1],
    [1, 1, 0],
  ],
  rejectedLogps: [
    [-2.0, -0.1],
    [-1.5, -2.5],
  ],
  rejectedMask: [
    [1, 1],
    [1, 1],
  ],
};
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
const averaged = { chosen: [-1.75 / 3, -0.35 / 2], rejected: [-2.1 / 2, -4.0 / 2] };

describe('cpo metrics (TRL 1.13)', () => {
  it('AlphaPO: logps/* are the log-probs, rewards/* the shaped reward β·R', async () => {
    const alpha = 0.25;
    const beta = 2.5;
    const result = await valueAndGrad(cpo, batch, { lossType: 'simpo', alpha, beta, gamma: 0.1, cpoAlpha: 0 }, { backend });
    const shaped = (logp: number) => (1 - Math.exp(-alpha * logp)) / alpha;
    expect(result.metrics['logps/chosen']).toBeCloseTo(mean(averaged.chosen), 14);
    expect(result.metrics['logps/rejected']).toBeCloseTo(mean(averaged.rejected), 14);
    expect(result.metrics['rewards/chosen']).toBeCloseTo(beta * mean(averaged.chosen.map(shaped)), 13);
    expect(result.metrics['rewards/rejected']).toBeCloseTo(beta * mean(averaged.rejected.map(shaped)), 13);
  });

  it('nll_loss is 0 when cpoAlpha is 0, and the token-mean NLL of the chosen tokens otherwise', async () => {
    const off = await valueAndGrad(cpo, batch, { cpoAlpha: 0 }, { backend });
    expect(off.metrics['nll_loss']).toBe(0);
    const on = await valueAndGrad(cpo, batch, {}, { backend });
    expect(on.metrics['nll_loss']).toBeCloseTo(2.1 / 5, 14);
    expect(on.loss - off.loss).toBeCloseTo(2.1 / 5, 14);
  });
});
