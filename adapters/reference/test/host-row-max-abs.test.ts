import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { PrefInputError, valueAndGrad } from '@pref/core';
import { installedObjectives } from '@pref/testing';

const simpo = (await installedObjectives()).objectives['simpo'];

// The host check of logits in the kernels' memory runs on the SIMD kernel (hostRowMaxAbs): the
// same errors, naming the same entry, as the plain scan of an ordinary array.
const [ROWS, STEPS, VOCAB] = [2, 3, 700];
const SHAPE = [ROWS, STEPS, VOCAB];
const labels = { data: [1, 2, -100, 3, 4, 5], shape: [ROWS, STEPS] };

describe.skipIf(!simpo)('the host check of logits through hostRowMaxAbs (skipped when @pref/simpo is not installed)', () => {
  for (const precision of [32, 64] as const) {
    const backend = createReferenceBackend({ precision });
    const batchOf = (chosen: Float32Array | Float64Array) => ({
      chosenLogits: { data: chosen, shape: SHAPE },
      chosenLabels: labels,
      rejectedLogits: { data: chosen.slice(), shape: SHAPE },
      rejectedLabels: labels,
    });
    const errorOf = (batch: Record<string, unknown>) =>
      valueAndGrad(simpo, batch, {}, { backend }).then(
        () => null,
        (error: Error) => error,
      );

    it(`float${precision}: answers for arrays from allocate, not for others`, () => {
      const resident = backend.allocate(SHAPE);
      resident.fill(1);
      resident[5] = -7;
      const max = backend.hostRowMaxAbs(resident, ROWS * STEPS, VOCAB);
      expect(max && Array.from(max)).toEqual([7, 1, 1, 1, 1, 1]);
      expect(backend.hostRowMaxAbs(resident.slice(), ROWS * STEPS, VOCAB)).toBeNull();
      expect(backend.hostRowMaxAbs(resident, ROWS, VOCAB)).toBeNull();
    });

    for (const [what, value] of [
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
    ] as const) {
      it(`float${precision}: a ${what} logit at an ignored position gives the plain scan's error`, async () => {
        const resident = backend.allocate(SHAPE);
        resident.fill(0.5);
        // Row 0, position 2 (label −100), entry 699: the last of the row, in the kernel's scalar tail.
        resident[2 * VOCAB + 699] = value;
        const plain = resident.slice();
        const fromKernel = await errorOf(batchOf(resident));
        const fromScan = await errorOf(batchOf(plain));
        expect(fromKernel).toBeInstanceOf(PrefInputError);
        expect(fromKernel?.message).toBe(fromScan?.message);
        expect(fromKernel?.message).toMatch(/chosenLogits row 0 position 2 entry 699 is/);
      });
    }

    it(`float${precision}: finite logits in the arena give the same loss as a plain array`, async () => {
      const resident = backend.allocate(SHAPE);
      for (let i = 0; i < resident.length; i++) resident[i] = Math.sin(i);
      const a = await valueAndGrad(simpo, batchOf(resident), {}, { backend });
      const b = await valueAndGrad(simpo, batchOf(resident.slice()), {}, { backend });
      expect(a.loss).toBe(b.loss);
    });
  }
});
