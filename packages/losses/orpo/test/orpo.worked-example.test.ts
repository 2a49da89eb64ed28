import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { orpo } from '../src';
import { TOY_PAIR_BATCH } from '@pref/testing';

/** The toy batch of docs/objectives/orpo.md (reference-notes §12). */
const toyBatch = TOY_PAIR_BATCH;

describe('orpo worked example (docs/objectives/orpo.md)', () => {
  it('β 0.1', async () => {
    const result = await valueAndGrad(orpo, toyBatch, {}, { backend: createReferenceBackend({ precision: 64 }) });
    expect(result.metrics['log_odds_chosen']).toBeCloseTo((1.4158736941 + 3.0702690626) / 2, 9);
    expect(result.metrics['log_odds_ratio']).toBeCloseTo(-0.1313306248, 9);
    expect(result.metrics['nll_loss']).toBeCloseTo(0.42, 12);
    expect(Array.from(result.perExample!).reduce((a, b) => a + b, 0) / 2).toBeCloseTo(0.0131330625, 9);
    expect(result.loss).toBeCloseTo(0.4331330625, 9);
  });
});
