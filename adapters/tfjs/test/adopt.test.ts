import { describe, expect, it } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { installedObjectives } from '@pref/testing';
// The model's own ops (matMul, reshape) need tfjs's registered gradients, as with @tensorflow/tfjs.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { tfjsLoss, type TfjsBackend } from '../src';
import { startTfjs } from './tfjs-test-backends';

const started = await startTfjs('cpu');
const { objectives } = await installedObjectives();
const simpo = objectives.simpo;
const mask = [
  [1, 1],
  [1, 0],
];

describe.skipIf('unavailable' in started || !simpo)('batch inputs given as tf.Tensor', () => {
  const backend = started as TfjsBackend;
  const tf = backend.tf;

  it('adopts a float32 tensor without copying it and never disposes it', async () => {
    const logps = tf.tensor2d([
      [-1, -2],
      [-0.5, 0],
    ]);
    const adopted = backend.adopt(logps);
    expect(adopted?.tensor).toBe(logps);
    expect(backend.adopt([[-1]])).toBeUndefined();
    const batch = {
      chosenLogps: logps,
      chosenMask: mask,
      rejectedLogps: [
        [-3, -3],
        [-2, -1],
      ],
      rejectedMask: mask,
    };
    const fromTensor = await valueAndGrad(simpo!, batch, {}, { backend });
    const fromHost = await valueAndGrad(
      simpo!,
      {
        ...batch,
        chosenLogps: [
          [-1, -2],
          [-0.5, 0],
        ],
      },
      {},
      { backend },
    );
    expect(logps.isDisposed).toBe(false);
    expect(fromTensor.loss).toBe(fromHost.loss);
    expect(Array.from(fromTensor.grads.chosenLogps.data)).toEqual(Array.from(fromHost.grads.chosenLogps.data));
    logps.dispose();
  });

  it('rejects int32 and disposed tensors with a clear error', () => {
    const ints = tf.tensor2d(
      [
        [-1, -2],
        [0, 0],
      ],
      undefined,
      'int32',
    );
    const batch = {
      chosenLogps: ints,
      chosenMask: mask,
      rejectedLogps: [
        [-3, -3],
        [-2, -1],
      ],
      rejectedMask: mask,
    };
    expect(() => tfjsLoss(simpo!, batch, {}, { backend })).toThrow(/must be float32, got int32/);
    ints.dispose();
    const gone = tf.tensor2d([
      [-1, -2],
      [0, 0],
    ]);
    gone.dispose();
    expect(() => tfjsLoss(simpo!, { ...batch, chosenLogps: gone }, {}, { backend })).toThrow(/disposed tf\.Tensor/);
  });

  it('tfjsLoss refuses a backend that is not tfjs', async () => {
    const { createReferenceBackend } = await import('@pref/adapter-reference');
    const batch = {
      chosenLogps: [
        [-1, -2],
        [-0.5, 0],
      ],
      chosenMask: mask,
      rejectedLogps: [
        [-3, -3],
        [-2, -1],
      ],
      rejectedMask: mask,
    };
    expect(() => tfjsLoss(simpo!, batch, {}, { backend: createReferenceBackend() })).toThrow(
      /must be a tfjs backend from createTfjsBackend, got reference/,
    );
  });

  it('native gradients reach model variables through tf.Tensor logits (chain rule = core autodiff)', async () => {
    // logits = x·W; dL/dW from tfjs's tape must equal xᵀ·(dL/dlogits) from core autodiff.
    const x = tf.tensor2d([
      [1, 0.5],
      [0, -1],
      [2, 1],
      [-0.5, 0.25],
    ]);
    const weights = tf.variable(
      tf.tensor2d([
        [0.1, -0.2, 0.3],
        [0.4, 0, -0.1],
      ]),
    );
    const labels = [
      [0, 2],
      [1, -100],
    ];
    const logitsOf = () => tf.reshape(tf.matMul(x, weights), [2, 2, 3]);
    const batchOf = (logits: unknown) => ({
      chosenLogits: logits,
      chosenLabels: labels,
      rejectedLogps: [
        [-3, -3],
        [-2, -1],
      ],
      rejectedMask: mask,
    });
    const { grads } = tf.variableGrads(() => tfjsLoss(simpo!, batchOf(logitsOf()), {}, { backend }).loss, [weights]);
    const native = await grads[weights.name].data();
    const logits = logitsOf();
    const core = await valueAndGrad(simpo!, batchOf(logits), {}, { backend });
    const dLogits = tf.tensor2d(Float32Array.from(core.grads.chosenLogits.data), [4, 3]);
    const chained = await tf.matMul(x, dLogits, true, false).data();
    native.forEach((value, i) => expect(value).toBeCloseTo(chained[i], 6));
    expect(Math.max(...Array.from(native, Math.abs))).toBeGreaterThan(1e-3);
    tf.dispose([x, weights, logits, dLogits, ...Object.values(grads)]);
  });
});

if ('unavailable' in started) describe('adopt', () => it.skip(`skipped: tfjs cpu unavailable: ${started.unavailable}`, () => {}));
else if (!simpo) describe('adopt', () => it.skip('skipped: @pref/simpo not present', () => {}));
