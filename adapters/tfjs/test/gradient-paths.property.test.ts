import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { valueAndGrad, type ValueAndGradResult } from '@pref/core';
import { expectWithinFloat32Bound, float32ErrorBound, installedObjectives, loadConformanceCases, worstMismatch } from '@pref/testing';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { tfjsLoss, type TfjsBackend } from '../src';
import { allCaseFiles, startTfjs } from './tfjs-test-backends';
import { randomBatchArbitrary, type RandomBatch } from './random-batches';

const { objectives } = await installedObjectives();
const cases = loadConformanceCases(allCaseFiles()).filter((c) => objectives[c.objective] && !('error' in c.expected));
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

  for (const path of ['logps', 'logits'] as const) {
    it(`${path} path`, async () => {
      expect(cases.length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(randomBatchArbitrary(cases, path), async (batch) => {
          const objective = objectives[batch.objective];
          const options = { state: batch.state };
          const bound = await float32ErrorBound(objective, batch.inputs, batch.params, options);
          const core = await valueAndGrad(objective, batch.inputs, batch.params, { backend, ...options });
          const native = await nativeLossAndGrads(backend, batch);
          const nativeResult = {
            ...core,
            loss: native.loss,
            grads: Object.fromEntries(batch.gradNames.map((name, i) => [name, { ...core.grads[name], data: native.grads[i] }])),
          } as ValueAndGradResult;
          // Float32 against the float64 oracle, within the bound derived for the batch (native: no metrics).
          expectWithinFloat32Bound(core, bound, `${batch.caseId} core`);
          expectWithinFloat32Bound(nativeResult, bound, `${batch.caseId} native`, () => true);
          batch.gradNames.forEach((name, i) => {
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
