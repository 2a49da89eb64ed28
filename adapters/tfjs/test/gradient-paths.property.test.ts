import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { valueAndGrad } from '@pref/core';
import { createReferenceBackend } from '@pref/adapter-reference';
import { installedObjectives, loadConformanceCases, worstMismatch } from '@pref/testing';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { tfjsLoss, type TfjsBackend } from '../src';
import { allCaseFiles, startTfjs } from './tfjs-test-backends';
import { randomBatchArbitrary, type RandomBatch } from './random-batches';

const { objectives } = await installedObjectives();
const cases = loadConformanceCases(allCaseFiles()).filter((c) => objectives[c.objective] && !('error' in c.expected));
const reference = createReferenceBackend({ precision: 64 });
const started = await startTfjs('cpu');

/** Loss and gradients through tfjs's tape: the differentiable inputs as variables, `tf.variableGrads` of `tfjsLoss`. */
async function nativeLossAndGrads(backend: TfjsBackend, batch: RandomBatch) {
  const tf = backend.tf;
  const variables = batch.gradNames.map((name) => {
    const initial = tf.tensor(batch.inputs[name] as number[], undefined, 'float32');
    const variable = tf.variable(initial);
    initial.dispose();
    return variable;
  });
  const inputs = { ...batch.inputs, ...Object.fromEntries(batch.gradNames.map((name, i) => [name, variables[i]])) };
  const objective = objectives[batch.objective];
  const { value, grads } = tf.variableGrads(
    () => tfjsLoss(objective, inputs, batch.params, { backend, state: batch.state }).loss,
    variables,
  );
  const read = async (t: TfTensor | undefined, size: number) => (t ? Float64Array.from(await t.data()) : new Float64Array(size));
  const loss = (await value.data())[0];
  const gradients = await Promise.all(variables.map((v) => read(grads[v.name], v.size)));
  tf.dispose([value, ...Object.values(grads), ...variables]);
  return { loss, grads: gradients };
}

describe.skipIf('unavailable' in started)('tfjs gradients: native = core autodiff = reference (random batches)', () => {
  const backend = started as TfjsBackend;
  // Float32 against the float64 oracle, scaled by the largest reference value of each array.
  const close = (actual: ArrayLike<number>, expected: ArrayLike<number>) => {
    const scale = Math.max(1, ...Array.from(expected, Math.abs));
    return worstMismatch(actual, expected, 1e-3, 1e-4 * scale);
  };

  for (const path of ['logps', 'logits'] as const) {
    it(`${path} path`, async () => {
      expect(cases.length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(randomBatchArbitrary(cases, path), async (batch) => {
          const objective = objectives[batch.objective];
          const options = { state: batch.state };
          const oracle = await valueAndGrad(objective, batch.inputs, batch.params, { backend: reference, ...options });
          const core = await valueAndGrad(objective, batch.inputs, batch.params, { backend, ...options });
          const native = await nativeLossAndGrads(backend, batch);
          expect(close([core.loss], [oracle.loss]), `${batch.caseId} core loss`).toBeLessThanOrEqual(1);
          expect(close([native.loss], [oracle.loss]), `${batch.caseId} native loss`).toBeLessThanOrEqual(1);
          batch.gradNames.forEach((name, i) => {
            const want = oracle.grads[name].data;
            expect(close(core.grads[name].data, want), `${batch.caseId} core ${name}`).toBeLessThanOrEqual(1);
            expect(close(native.grads[i], want), `${batch.caseId} native ${name}`).toBeLessThanOrEqual(1);
            // Same kernels, same float32: the two tfjs paths agree far more tightly.
            expect(
              worstMismatch(native.grads[i], core.grads[name].data, 1e-5, 1e-6),
              `${batch.caseId} native vs core ${name}`,
            ).toBeLessThanOrEqual(1);
          });
        }),
        { numRuns: 30 },
      );
    });
  }
});

if ('unavailable' in started) {
  describe('tfjs gradients', () => {
    it.skip(`skipped: tfjs cpu unavailable: ${started.unavailable}`, () => {});
  });
}
