import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { loadConformanceCases } from '@pref/testing';
import { dpo, DPO_INPUTS } from '../src';
import { TOY_BATCH } from './toy-batch';

// Decided exception (docs/errors.md, "Decided exception"): a summed log-prob is ≤ 0, but DPO's
// summed reference log-probs are not sign-checked, because the normative conformance cases give
// positive ones and expect a loss. If these tests fail, revisit the decision there.
const SUMMED_REFERENCE = ['refChosenLogps', 'refRejectedLogps'] as const;

describe('dpo accepts positive summed reference log-probs (decided exception)', () => {
  it('normative conformance cases give positive refChosenLogps / refRejectedLogps and expect a loss', () => {
    const positive = loadConformanceCases(['dpo.json'])
      .filter((c) => !('error' in c.expected))
      .filter((c) =>
        SUMMED_REFERENCE.some((name) => ((c.inputs as Record<string, unknown>)[name] as number[] | undefined)?.some((x) => x > 1e-6)),
      )
      .map((c) => c.id);
    // dpo/1/026, 027 and 031 (refRejectedLogps), dpo/1/028 (refChosenLogps), among others.
    expect(positive).toEqual(expect.arrayContaining(['dpo/1/026', 'dpo/1/027', 'dpo/1/028']));
  });

  it('the schema does not flag them as log-probs', () => {
    for (const spec of [DPO_INPUTS.refChosen, DPO_INPUTS.refRejected]) expect((spec as { logProbs?: boolean }).logProbs).toBeUndefined();
  });

  it('refChosenLogps = refRejectedLogps = +5 is used as given: the loss equals the reference-free one (Δ unchanged)', async () => {
    for (const precision of [64, 32] as const) {
      const backend = createReferenceBackend({ precision });
      const fives = TOY_BATCH.refChosenLogps.map(() => 5);
      const result = await valueAndGrad(dpo, { ...TOY_BATCH, refChosenLogps: fives, refRejectedLogps: fives }, {}, { backend });
      const { refChosenLogps: _c, refRejectedLogps: _r, ...pair } = TOY_BATCH;
      const free = await valueAndGrad(dpo, pair, { referenceFree: true }, { backend });
      expect(Number.isFinite(result.loss)).toBe(true);
      expect(result.loss).toBeCloseTo(free.loss, precision === 64 ? 12 : 5);
      for (const grad of Object.values(result.grads)) expect(Array.from(grad.data).every(Number.isFinite)).toBe(true);
    }
  });
});
