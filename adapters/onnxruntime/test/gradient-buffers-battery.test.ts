import { describe, expect, it } from 'vitest';
import { valueAndGrad, type Batch } from '@pref/core';
import { describeGradientBufferBattery, installedObjectives } from '@pref/testing';
import type { OnnxruntimeBackend } from '../src';
import { onnxruntimeCpu } from './onnxruntime-backends';

describeGradientBufferBattery(onnxruntimeCpu);

describe('onnxruntime writes the logits gradient into the caller buffer (session.run fetches)', async () => {
  const { objectives } = await installedObjectives();
  const simpo = objectives['simpo'];
  it.skipIf(!simpo)('no output buffer is allocated for a gradient given a buffer (skipped without @pref/simpo)', async () => {
    const backend = (await onnxruntimeCpu.create()) as OnnxruntimeBackend;
    const shape = [2, 4, 1000];
    const size = 2 * 4 * 1000;
    const labels = { data: Array.from({ length: 8 }, (_, i) => (i * 97) % 1000), shape: [2, 4] };
    const logits = () => ({ data: Float32Array.from({ length: size }, (_, i) => Math.sin(i)), shape });
    const batch: Batch = { chosenLogits: logits(), chosenLabels: labels, rejectedLogits: logits(), rejectedLabels: labels };
    const gradients = { chosenLogits: new Float32Array(size), rejectedLogits: new Float32Array(size) };
    await valueAndGrad(simpo!, batch, {}, { backend }); // compiles the session
    const before = backend.outputBytesAllocated;
    const result = await valueAndGrad(simpo!, batch, {}, { backend, gradients });
    expect(result.grads.chosenLogits.data).toBe(gradients.chosenLogits);
    // Without the fetches the two gradients alone would be 2·size·4 bytes of new outputs.
    expect(backend.outputBytesAllocated - before).toBeLessThan(size * 4);
    const plain = await valueAndGrad(simpo!, batch, {}, { backend });
    expect(Array.from(plain.grads.chosenLogits.data)).toEqual(Array.from(gradients.chosenLogits));
  });
});
