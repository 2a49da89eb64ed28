import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { valueAndGrad } from '@pref/core';
import { simpo } from '@pref/simpo';
import { createOnnxruntimeBackend, exportOnnxModel } from '../src';

const batch = {
  chosenLogits: [[[1, 2, 0.5], [0, -1, 3]], [[2, 2, 2], [1, 0, -2]]],
  chosenLabels: [[2, 1], [0, -100]],
  rejectedLogits: [[[0, 1, 0], [1, 1, -1]], [[3, 0, 1], [0, 0, 0]]],
  rejectedLabels: [[1, 0], [2, 2]],
};

describe('exportOnnxModel', () => {
  it('writes the loss graph as an ONNX model that onnxruntime runs to the backend results', async () => {
    const exported = await exportOnnxModel(simpo, batch, { beta: 1.5, gamma: 0.3 });
    expect(exported.outputs).toContain('loss');
    expect(exported.outputs).toContain('grad/chosenLogits');
    expect(exported.outputs).toContain('metric/rewards/margins');
    expect(exported.inputs.filter((i) => i.role === 'data').length).toBeGreaterThanOrEqual(4);
    const session = await ort.InferenceSession.create(exported.model);
    const feeds = Object.fromEntries(exported.inputs.map((i) => [i.name, new ort.Tensor(i.type, i.data, i.dims)]));
    const outputs = await session.run(feeds);
    const backend = await createOnnxruntimeBackend();
    const expected = await valueAndGrad(simpo, batch, { beta: 1.5, gamma: 0.3 }, { backend });
    expect(Number(outputs.loss.data[0])).toBeCloseTo(expected.loss, 6);
    expect(Array.from(outputs['grad/chosenLogits'].data as Float32Array)).toEqual(Array.from(expected.grads.chosenLogits.data));
    expect(Number(outputs['metric/rewards/margins'].data[0])).toBeCloseTo(expected.metrics['rewards/margins'], 6);
    await session.release();
  });
});
