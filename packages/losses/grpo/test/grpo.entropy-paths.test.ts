// GRPO's entropy options on the logits path (the fused tokenEntropy) and on the hidden-state
// path (the fused linearTokenEntropy, chunked over V).
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { expectHiddenMatchesLogits, HIDDEN_STATE_HEAD_CASES, hostTokenEntropy } from '@pref/testing';
import { grpo } from '../src';

const backends = {
  'float64 (js)': createReferenceBackend({ kernels: 'js' }),
  'float64 (wasm)': createReferenceBackend({ kernels: 'wasm' }),
};

const logits = [
  [
    [0.3, -1.2, 2.0, 0.5, -0.1],
    [1.5, 0.1, -0.4, 2.2, 0.0],
    [0.9, 0.9, -2.0, 0.3, 1.1],
  ],
  [
    [-0.7, 0.9, 0.2, -1.5, 0.6],
    [0.0, 0.4, 1.0, 0.1, -0.3],
    [2.5, -0.5, 0.5, 0.0, 0.2],
  ],
];
const labels = [
  [2, 0, 4],
  [1, 3, -100],
];
const base = {
  advantages: [0.7, -0.4],
  oldLogps: [
    [-0.2, -0.5, -1.0],
    [-0.4, -0.1, -0.3],
  ],
};
const OPTIONS = [
  { entropyCoef: 0.3 },
  { topEntropyQuantile: 0.5 },
  { entropyCoef: 0.2, topEntropyQuantile: 0.6, lossType: 'dapo' as const },
];

describe('grpo entropies from logits (fused tokenEntropy)', () => {
  for (const [name, backend] of Object.entries(backends)) {
    for (const params of OPTIONS) {
      it(`${name} ${JSON.stringify(params)}: loss and metrics equal those with the float64 entropies given`, async () => {
        const flat = logits.flat(2);
        const { entropy } = hostTokenEntropy(flat, 6, 5, new Float64Array(6));
        const entropies = [Array.from(entropy.slice(0, 3)), Array.from(entropy.slice(3))];
        const fromLogits = await valueAndGrad(grpo, { ...base, logits, labels }, params, { backend });
        const given = await valueAndGrad(grpo, { ...base, logits, labels, entropies }, params, { backend });
        expect(fromLogits.loss).toBeCloseTo(given.loss, 12);
        for (const [metric, value] of Object.entries(given.metrics)) expect(fromLogits.metrics[metric], metric).toBeCloseTo(value, 12);
      });
    }
  }
});

describe('grpo entropies from hidden states (fused linearTokenEntropy)', () => {
  const batch = {
    ...base,
    logps: [
      [-0.3, -0.6, -0.9],
      [-0.5, -0.2, -0.4],
    ],
    mask: [
      [1, 1, 1],
      [1, 1, 0],
    ],
  };
  for (const [name, backend] of Object.entries(backends)) {
    for (const params of OPTIONS) {
      for (const head of HIDDEN_STATE_HEAD_CASES) {
        it(`${name} ${JSON.stringify(params)} ${head.name}: equals the logits path (loss, metrics, gradients)`, () =>
          expectHiddenMatchesLogits(grpo, batch, params, head, { backend }, { rtol: 1e-9, atol: 1e-11 }));
      }
    }
  }
  it('float32 equals the float64 logits path', () =>
    expectHiddenMatchesLogits(
      grpo,
      batch,
      { entropyCoef: 0.3, topEntropyQuantile: 0.5 },
      HIDDEN_STATE_HEAD_CASES[0],
      { backend: createReferenceBackend({ precision: 32 }), oracle: backends['float64 (js)'] },
      { rtol: 2e-4, atol: 2e-5 },
    ));
});
