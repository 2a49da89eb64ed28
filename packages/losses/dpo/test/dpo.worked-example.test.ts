import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { dpo } from '../src';
import { dpoByFormula } from './dpo-formulas';
import { TOY_BATCH } from './toy-batch';

const backend = createReferenceBackend({ precision: 64 });

// Values of reference-notes §12 ("TRL DPO HEAD", β 0.1), quoted to 10 decimals in
// docs/objectives/dpo.md: the worked example there is exactly this table.
const WORKED: readonly [string, Record<string, unknown>, number][] = [
  ['sigmoid', {}, 0.6564000698],
  ['hinge', { lossType: 'hinge' }, 0.925],
  ['ipo', { lossType: 'ipo' }, 23.0021180556],
  ['sigmoid_norm', { lossType: 'sigmoid_norm' }, 0.6829935769],
  ['exo_pair (ε 1e-3)', { lossType: 'exo_pair', labelSmoothing: 1e-3 }, 2.6325550697],
  ['nca_pair', { lossType: 'nca_pair' }, 1.3679395887],
  ['robust (ε 0.1)', { lossType: 'robust', labelSmoothing: 0.1 }, 0.6470250698],
  ['bco_pair', { lossType: 'bco_pair' }, 1.3495285667],
  ['sppo_hard', { lossType: 'sppo_hard' }, 43.0875],
  ['aot', { lossType: 'aot' }, 0.6564000698],
  ['aot_unpaired', { lossType: 'aot_unpaired' }, 0.6563626232],
  ['apo_zero', { lossType: 'apo_zero' }, 0.9812589011],
  ['apo_down', { lossType: 'apo_down' }, 0.9812606555],
  ['discopop (τ 0.05)', { lossType: 'discopop' }, 0.8758249135],
  ['sigmoid, ε 0.1 (cDPO)', { labelSmoothing: 0.1 }, 0.6639000698],
  ['sigmoid, forward_kl', { fDivergence: 'forward_kl' }, 0.6393451893],
  ['sigmoid, js_divergence', { fDivergence: 'js_divergence' }, 0.6713459844],
  ['sigmoid, alpha_divergence (α 0.5)', { fDivergence: 'alpha_divergence' }, 0.6489699565],
];

describe('dpo worked example (reference-notes §12 toy batch, docs/objectives/dpo.md)', () => {
  for (const [name, params, expected] of WORKED) {
    it(`${name} = ${expected}`, async () => {
      const result = await valueAndGrad(dpo, TOY_BATCH, { beta: 0.1, ...params }, { backend });
      expect(Math.abs(result.loss - expected)).toBeLessThan(1e-10);
      // The independent float64 formulas agree to rounding.
      expect(result.loss).toBeCloseTo(dpoByFormula(TOY_BATCH, { beta: 0.1, ...(params as object) }).loss, 13);
    });
  }

  it('metrics: rewards β·r, logps mean S', async () => {
    const result = await valueAndGrad(dpo, TOY_BATCH, { beta: 0.1 }, { backend });
    expect(result.metrics['rewards/chosen']).toBeCloseTo(0, 15);
    expect(result.metrics['rewards/rejected']).toBeCloseTo(-0.075, 15);
    expect(result.metrics['rewards/margins']).toBeCloseTo(0.075, 15);
    expect(result.metrics['rewards/accuracies']).toBe(1);
    expect(result.metrics['logps/chosen']).toBeCloseTo(-1.05, 15);
    expect(result.metrics['logps/rejected']).toBeCloseTo(-5.35, 15);
    // ∂L/∂l = −β·σ(−z_b)/B on every counted chosen token, z = [0.095, 0.055].
    const expected = [-0.0238133923, -0.0238133923, -0.0238133923, -0.0243126733, -0.0243126733, 0];
    Array.from(result.grads.chosenLogps.data).forEach((g, i) => expect(Math.abs(g - expected[i])).toBeLessThan(1e-10));
  });

  it('RPO recipe ["sigmoid", "sft"] with weights [1, 1] adds the token-mean NLL of the chosen tokens', async () => {
    const result = await valueAndGrad(dpo, TOY_BATCH, { lossType: ['sigmoid', 'sft'], lossWeights: [1, 1] }, { backend });
    // NLL = (1.75 + 0.35) / 5 = 0.42
    expect(result.metrics['nll_loss']).toBeCloseTo(0.42, 15);
    expect(Math.abs(result.loss - (0.6564000698 + 0.42))).toBeLessThan(1e-10);
  });
});
