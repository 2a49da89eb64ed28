import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defineObjective, sequenceSum, valueAndGrad } from '@pref/core';
import { runDataParallel, sequenceArbitrary, worstMismatch } from '@pref/testing';
import { createReferenceBackend } from '../src';

/**
 * A toy objective built from batch-global statistics that depend on each other: a z-score of
 * the summed log-probs with detached moments (mean first, then the centred second moment, as
 * LMPO's z-score) plus a differentiable batch token mean (as SLIME's stabilizer).
 */
const zscored = defineObjective<Record<string, never>, { seq: { kind: 'sequence'; prefix: ''; description: '' } }>({
  id: 'toy-zscore',
  title: 'toy',
  summary: '',
  reference: '',
  inputs: { seq: { kind: 'sequence', prefix: '', description: '' } },
  params: {},
  presets: {},
  metrics: ['mean'],
  stateful: false,
  forward(ctx, inputs) {
    const { ops } = ctx;
    const s = sequenceSum(ops, inputs.seq);
    const mean = ctx.batchMean(ops.stopGradient(s));
    const variance = ctx.batchMean(ops.square(ops.sub(ops.stopGradient(s), mean)));
    const z = ops.div(ops.sub(s, mean), ops.sqrt(ops.add(variance, 1)));
    const loss = ops.add(ctx.batchMean(ops.softplus(z)), ctx.tokenMean(ops.square(inputs.seq.logps), inputs.seq.mask));
    return { loss, metrics: { mean: ops.stopGradient(mean) } };
  },
});

describe('batch-global reductions over simulated workers', () => {
  const backend = createReferenceBackend();
  it('3 workers give the single-worker loss, metrics and gradients, with dependent reductions', async () => {
    await fc.assert(
      fc.asyncProperty(
        sequenceArbitrary({ rows: 6, maxSteps: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 1 }),
        async (seq, first, width) => {
          const batch = { logps: seq.logps, mask: seq.mask };
          const single = await valueAndGrad(zscored, batch, {}, { backend });
          const boundaries = [0, first, first + width, 6];
          const { workers, grads } = await runDataParallel(zscored, batch, {}, { backend, rows: 6, boundaries });
          for (const worker of workers) {
            expect(Math.abs(worker.loss - single.loss)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(single.loss)));
            expect(Math.abs(worker.metrics.mean - single.metrics.mean)).toBeLessThanOrEqual(
              1e-12 * Math.max(1, Math.abs(single.metrics.mean)),
            );
          }
          expect(worstMismatch(grads.logps, single.grads.logps.data, 1e-10, 1e-14)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 25 },
    );
  });
});
