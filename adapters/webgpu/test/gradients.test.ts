import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { valueAndGrad, type AnyObjective } from '@pref/core';
import { expectWithinFloat32Bound, float32ErrorBound, installedObjectives } from '@pref/testing';
import { startWebGpu } from './web-gpu-under-test';

const started = await startWebGpu();
const unavailable = 'unavailable' in started ? started.unavailable : null;
const gpu = started as Exclude<typeof started, { unavailable: string }>;
afterAll(() => (unavailable ? undefined : gpu.destroy()));
const { objectives } = await installedObjectives();

/** Logits `[N, T, V]` with labels, the trailing positions of some rows ignored (-100). */
const sequenceArb = (rows: number) =>
  fc
    .record({ steps: fc.integer({ min: 1, max: 5 }), vocab: fc.integer({ min: 1, max: 300 }), seed: fc.nat(10_000) })
    .map(({ steps, vocab, seed }) => {
      const logits = Array.from({ length: rows }, (_, r) =>
        Array.from({ length: steps }, (_, t) =>
          Array.from({ length: vocab }, (_, v) => Math.fround(Math.sin(seed + r * 977 + t * 131 + v * 7.3) * 3)),
        ),
      );
      const labels = Array.from({ length: rows }, (_, r) =>
        Array.from({ length: steps }, (_, t) => (t > 0 && t >= steps - ((r + seed) % 3) ? -100 : (seed + r * 31 + t * 17) % vocab)),
      );
      return { logits, labels };
    });

const pairOnLogits = (rows: number) =>
  fc.tuple(sequenceArb(rows), sequenceArb(rows)).map(([chosen, rejected]) => ({
    chosenLogits: chosen.logits,
    chosenLabels: chosen.labels,
    rejectedLogits: rejected.logits,
    rejectedLabels: rejected.labels,
  }));

/** float32 on the GPU against the float64 oracle, within the bound derived for the batch (`float32ErrorBound`). */
async function expectSameGradients(objective: AnyObjective, batch: Record<string, unknown>, params: Record<string, unknown>) {
  const [got, bound] = await Promise.all([
    valueAndGrad(objective, batch, params, { backend: gpu }),
    float32ErrorBound(objective, batch, params),
  ]);
  for (const [name, grad] of Object.entries(bound.oracle.grads)) expect(got.grads[name].shape).toEqual(grad.shape);
  expectWithinFloat32Bound(got, bound, objective.id);
}

const suite = unavailable ? describe.skip : describe;
suite(unavailable ? `gradients on webgpu (skipped: ${unavailable})` : 'gradients on webgpu equal the reference backend', () => {
  it.skipIf(!objectives.simpo)('simpo on logits, random batches (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairOnLogits(3),
        fc.constantFrom('sigmoid', 'hinge'),
        fc.double({ min: 0.5, max: 4, noNaN: true }),
        async (batch, lossType, beta) => {
          await expectSameGradients(objectives.simpo, batch, { lossType, beta });
        },
      ),
      { numRuns: 15 },
    );
  });

  it.skipIf(!objectives.dpo)('dpo on logits with reference log-probs, random batches (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairOnLogits(2),
        fc.array(fc.double({ min: -40, max: -1, noNaN: true }), { minLength: 4, maxLength: 4 }),
        async (batch, refs) => {
          await expectSameGradients(objectives.dpo, { ...batch, refChosenLogps: refs.slice(0, 2), refRejectedLogps: refs.slice(2) }, {});
        },
      ),
      { numRuns: 10 },
    );
  });

  it('every installed pairwise objective on random log-prob batches (fast-check)', async () => {
    const pairwise = Object.values(objectives).filter((o) => ['simpo', 'cpo', 'slic', 'orpo', 'slime'].includes(o.id));
    expect(pairwise.length).toBeGreaterThan(0);
    const logpsArb = fc.array(fc.array(fc.double({ min: -8, max: -0.01, noNaN: true }), { minLength: 4, maxLength: 4 }), {
      minLength: 3,
      maxLength: 3,
    });
    const maskArb = fc.array(
      fc.integer({ min: 1, max: 4 }).map((n) => [0, 1, 2, 3].map((t) => (t < n ? 1 : 0))),
      { minLength: 3, maxLength: 3 },
    );
    for (const objective of pairwise) {
      await fc.assert(
        fc.asyncProperty(logpsArb, maskArb, logpsArb, maskArb, async (chosenLogps, chosenMask, rejectedLogps, rejectedMask) => {
          await expectSameGradients(objective, { chosenLogps, chosenMask, rejectedLogps, rejectedMask }, {});
        }),
        { numRuns: 8 },
      );
    }
  });
});
