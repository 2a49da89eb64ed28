import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type AnyObjective, type Batch, type FloatArray, type PrefBackend } from '@pref/core';
import type { BackendUnderTest } from './describe-conformance';
import { installedObjectives } from './installed-objectives';

const [ROWS, STEPS, VOCAB, HIDDEN] = [2, 8, 300, 16];

/** Fills `values` with deterministic numbers in [−spread, spread) for `seed`. */
function fill(values: FloatArray, seed: number, spread = 3): FloatArray {
  let s = seed >>> 0;
  for (let i = 0; i < values.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = (s / 2 ** 32) * 2 * spread - spread;
  }
  return values;
}

const labels = (offset: number) => ({
  data: Array.from({ length: ROWS * STEPS }, (_, i) => (i % STEPS === 0 ? -100 : (i * 37 + offset) % VOCAB)),
  shape: [ROWS, STEPS],
});

/** max |a − e| over rtol·max |e| (≤ 1 passes): gradients compared normwise. */
function normwise(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / (rtol * scale);
}

/** An array of the backend's precision: from `allocate` when the backend has it (memory it computes on). */
function bufferFor(backend: PrefBackend, shape: number[]): FloatArray {
  if (backend.allocate) return backend.allocate(shape);
  const size = shape.reduce((a, b) => a * b, 1);
  return backend.capabilities.precision === 64 ? new Float64Array(size) : new Float32Array(size);
}

/**
 * `valueAndGrad`'s `gradients` option on one backend, logits and hidden-state paths: the
 * gradients come back in the caller's buffers (the very arrays), equal to the float64 oracle's,
 * call after call with inputs rewritten in place (into `backend.allocate`d arrays where the
 * backend has them); a later call without the option returns arrays of its own and leaves the
 * buffers alone.
 */
export function describeGradientBufferBattery(backendUnderTest: BackendUnderTest): void {
  describe(`gradient buffers on ${backendUnderTest.name}`, async () => {
    const created = await backendUnderTest.create().catch((error: Error) => ({ unavailable: error.message }));
    const { objectives } = await installedObjectives();
    const simpo: AnyObjective | undefined = objectives['simpo'];
    const why = 'unavailable' in created ? created.unavailable : simpo ? null : '@pref/simpo is not installed';
    const backend = created as PrefBackend;
    const oracle = createReferenceBackend({ precision: 64, kernels: 'js' });
    const rtol = () => (backend.capabilities.precision === 64 ? 1e-9 : 1e-4);

    it.skipIf(why !== null)(
      `logits: gradients written into the caller's buffers, inputs rewritten in place${why ? ` (skipped: ${why})` : ''}`,
      async () => {
        const shape = [ROWS, STEPS, VOCAB];
        const chosen = bufferFor(backend, shape);
        const rejected = bufferFor(backend, shape);
        const batch: Batch = {
          chosenLogits: { data: chosen, shape },
          chosenLabels: labels(1),
          rejectedLogits: { data: rejected, shape },
          rejectedLabels: labels(2),
        };
        const gradients = { chosenLogits: bufferFor(backend, shape), rejectedLogits: bufferFor(backend, shape) };
        const losses = new Set<number>();
        for (const seed of [1, 2, 3]) {
          fill(chosen, 2 * seed);
          fill(rejected, 2 * seed + 1);
          const result = await valueAndGrad(simpo!, batch, {}, { backend, gradients });
          const expected = await valueAndGrad(simpo!, batch, {}, { backend: oracle });
          losses.add(result.loss);
          for (const name of ['chosenLogits', 'rejectedLogits'] as const) {
            expect(result.grads[name].data, name).toBe(gradients[name]);
            expect(normwise(gradients[name], expected.grads[name].data, rtol()), `${name}, seed ${seed}`).toBeLessThanOrEqual(1);
          }
        }
        expect(losses.size).toBe(3);
        const kept = Float64Array.from(gradients.chosenLogits);
        fill(chosen, 99);
        const plain = await valueAndGrad(simpo!, batch, {}, { backend });
        expect(plain.grads.chosenLogits.data).not.toBe(gradients.chosenLogits);
        expect(Float64Array.from(gradients.chosenLogits)).toEqual(kept);
      },
    );

    it.skipIf(why !== null)(
      `hidden states: gradients of hidden and lmHead.weight in the caller's buffers${why ? ` (skipped: ${why})` : ''}`,
      async () => {
        const hiddenShape = [ROWS, STEPS, HIDDEN];
        const weightShape = [VOCAB, HIDDEN];
        const batch: Batch = {
          chosenHidden: { data: fill(bufferFor(backend, hiddenShape), 11), shape: hiddenShape },
          chosenLabels: labels(3),
          rejectedHidden: { data: fill(bufferFor(backend, hiddenShape), 12), shape: hiddenShape },
          rejectedLabels: labels(4),
          lmHead: { weight: { data: fill(bufferFor(backend, weightShape), 13, 0.3), shape: weightShape } },
        };
        const gradients = { chosenHidden: bufferFor(backend, hiddenShape), 'lmHead.weight': bufferFor(backend, weightShape) };
        const result = await valueAndGrad(simpo!, batch, {}, { backend, gradients });
        const expected = await valueAndGrad(simpo!, batch, {}, { backend: oracle });
        for (const name of ['chosenHidden', 'lmHead.weight'] as const) {
          expect(result.grads[name].data, name).toBe(gradients[name]);
          expect(normwise(gradients[name], expected.grads[name].data, rtol()), name).toBeLessThanOrEqual(1);
        }
        expect(normwise(result.grads.rejectedHidden.data, expected.grads.rejectedHidden.data, rtol())).toBeLessThanOrEqual(1);
      },
    );
  });
}
