import { beforeAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type Batch } from '@pref/core';
import { installedObjectives } from '@pref/testing';
import type { TfjsBackend } from '../src';
import { startTfjs } from './tfjs-test-backends';

const { objectives } = await installedObjectives();
const simpo = objectives['simpo'];
const [ROWS, STEPS, VOCAB] = [2, 8, 300];
const SHAPE = [ROWS, STEPS, VOCAB];
const SIZE = ROWS * STEPS * VOCAB;

function batchFor(seed: number): Batch {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 6 - 3;
  const labels = () => ({
    data: Array.from({ length: ROWS * STEPS }, (_, i) => (i % STEPS === 0 ? -100 : (i * 37) % VOCAB)),
    shape: [ROWS, STEPS],
  });
  return {
    chosenLogits: { data: Float32Array.from({ length: SIZE }, next), shape: SHAPE },
    chosenLabels: labels(),
    rejectedLogits: { data: Float32Array.from({ length: SIZE }, next), shape: SHAPE },
    rejectedLabels: labels(),
  };
}

for (const name of ['cpu', 'wasm'] as const) {
  describe.skipIf(!simpo)(`tfjs:${name}: valueAndGrad's gradients option (skipped when @pref/simpo is not installed)`, async () => {
    const started = await startTfjs(name);
    const unavailable = 'unavailable' in started ? started.unavailable : null;
    beforeAll(async () => {
      if (!unavailable) await (started as TfjsBackend).tf.setBackend(name);
    });
    it.skipIf(unavailable !== null)(
      `writes the logits gradients into the caller's buffers, call after call${unavailable ? ` (skipped: ${unavailable})` : ''}`,
      async () => {
        const backend = started as TfjsBackend;
        const oracle = createReferenceBackend({ kernels: 'js' });
        const gradients = { chosenLogits: new Float32Array(SIZE), rejectedLogits: new Float32Array(SIZE) };
        for (const seed of [1, 2, 3]) {
          const batch = batchFor(seed);
          const live = backend.tf.memory().numTensors;
          const result = await valueAndGrad(simpo!, batch, {}, { backend, gradients });
          expect(backend.tf.memory().numTensors).toBe(live);
          expect(result.grads.chosenLogits.data).toBe(gradients.chosenLogits);
          expect(result.grads.rejectedLogits.data).toBe(gradients.rejectedLogits);
          const expected = await valueAndGrad(simpo!, batch, {}, { backend: oracle });
          for (const key of ['chosenLogits', 'rejectedLogits'] as const) {
            const e = expected.grads[key].data;
            const scale = Math.max(...Array.from(e, Math.abs));
            const diff = Math.max(...Array.from(e, (v, i) => Math.abs(v - gradients[key][i])));
            expect(diff, `${key}, seed ${seed}`).toBeLessThanOrEqual(1e-4 * scale);
          }
        }
        // The next call without the option returns arrays of its own: the hint did not outlive its call.
        const plain = await valueAndGrad(simpo!, batchFor(4), {}, { backend });
        expect(plain.grads.chosenLogits.data).not.toBe(gradients.chosenLogits);
      },
    );
  });
}
