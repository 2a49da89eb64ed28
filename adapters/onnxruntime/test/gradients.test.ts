import { describe, it } from 'vitest';
import fc from 'fast-check';
import { PAIRWISE_INPUTS, valueAndGrad, type AnyObjective, type Batch } from '@pref/core';
import {
  expectWithinFloat32Bound,
  float32ErrorBound,
  installedObjectives,
  pairBatchArbitrary,
  referenceSumsArbitrary,
} from '@pref/testing';
import { simpo } from '@pref/simpo';
import { createOnnxruntimeBackend } from '../src';

const onnx = await createOnnxruntimeBackend({ sessionOptions: { intraOpNumThreads: 1 } });
const { objectives } = await installedObjectives();

/** float32 against the float64 oracle, within the bound derived for this batch (`float32ErrorBound`). */
async function compare(objective: AnyObjective, batch: Batch, params: Record<string, unknown>) {
  const [onnxResult, bound] = await Promise.all([
    valueAndGrad(objective, batch, params, { backend: onnx }),
    float32ErrorBound(objective, batch, params),
  ]);
  expectWithinFloat32Bound(onnxResult, bound, objective.id);
}

const simpoParams = fc.record({
  beta: fc.double({ min: 0.1, max: 5, noNaN: true }),
  gamma: fc.double({ min: -1, max: 2, noNaN: true }),
  labelSmoothing: fc.double({ min: 0, max: 0.4, noNaN: true }),
  lossType: fc.constantFrom('sigmoid', 'hinge'),
  sftWeight: fc.double({ min: 0, max: 1, noNaN: true }),
});

type PairBatch = { chosenLogps: number[][]; chosenMask: number[][]; rejectedLogps: number[][]; rejectedMask: number[][] };
const average = (logps: number[], mask: number[]) => logps.reduce((s, l, t) => s + (mask[t] ? l : 0), 0) / mask.reduce((s, m) => s + m, 0);
/** SimPO's hinge has a kink at z = 1 where float32 and float64 may pick different sides. */
const awayFromHingeKink = (batch: PairBatch, p: { beta: number; gamma: number; lossType: string }) =>
  p.lossType !== 'hinge' ||
  batch.chosenLogps.every(
    (row, b) =>
      Math.abs(1 - (p.beta * (average(row, batch.chosenMask[b]) - average(batch.rejectedLogps[b], batch.rejectedMask[b])) - p.gamma)) >
      1e-3,
  );

describe('gradients from onnxruntime equal the float64 reference (fast-check)', () => {
  it('simpo: random batches and parameters, log-prob path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((rows) => pairBatchArbitrary(rows, { minLogp: -12 })),
        simpoParams,
        async (batch, params) => {
          fc.pre(awayFromHingeKink(batch, params));
          await compare(simpo, batch, params);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('simpo: random logits and labels (fused token log-probs and their gradient)', async () => {
    const logitsBatch = fc
      .record({ rows: fc.integer({ min: 1, max: 3 }), steps: fc.integer({ min: 1, max: 4 }), vocab: fc.integer({ min: 2, max: 7 }) })
      .chain(({ rows, steps, vocab }) => {
        const side = fc.record({
          logits: fc.array(
            fc.array(fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: vocab, maxLength: vocab }), {
              minLength: steps,
              maxLength: steps,
            }),
            { minLength: rows, maxLength: rows },
          ),
          labels: fc.array(
            fc
              .array(fc.integer({ min: 0, max: vocab - 1 }), { minLength: steps, maxLength: steps })
              .chain((row) => fc.integer({ min: 1, max: steps }).map((kept) => row.map((label, t) => (t < kept ? label : -100)))),
            { minLength: rows, maxLength: rows },
          ),
        });
        return fc.tuple(side, side).map(([chosen, rejected]) => ({
          chosenLogits: chosen.logits,
          chosenLabels: chosen.labels,
          rejectedLogits: rejected.logits,
          rejectedLabels: rejected.labels,
        }));
      });
    await fc.assert(
      fc.asyncProperty(
        logitsBatch,
        simpoParams.filter((p) => p.lossType === 'sigmoid'),
        async (batch, params) => {
          await compare(simpo, batch, params);
        },
      ),
      { numRuns: 20 },
    );
  });

  const pairwise = Object.values(objectives).filter(
    (o) => o.id !== 'simpo' && Object.keys(o.inputs).join() === Object.keys(PAIRWISE_INPUTS).join(),
  );
  for (const objective of pairwise) {
    it(`${objective.id}: random batches, default parameters`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }).chain((rows) => pairBatchArbitrary(rows, { minLogp: -12 })),
          async (batch) => {
            await compare(objective, batch, {});
          },
        ),
        { numRuns: 10 },
      );
    });
  }

  it.skipIf(!objectives.dpo)('dpo: random batches with reference log-probs, default parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((rows) => fc.tuple(pairBatchArbitrary(rows, { minLogp: -12 }), referenceSumsArbitrary(rows))),
        async ([batch, refs]) => {
          await compare(objectives.dpo, { ...batch, ...refs }, {});
        },
      ),
      { numRuns: 10 },
    );
  });
});
