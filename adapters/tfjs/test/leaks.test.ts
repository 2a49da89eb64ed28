import { describe, expect, it } from 'vitest';
import { valueAndGrad, type AnyObjective, type ObjectiveState } from '@pref/core';
import { installedObjectives } from '@pref/testing';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Scalar } from '@tensorflow/tfjs-core';
import { tfjsLoss, type TfjsBackend } from '../src';
import { startTfjs } from './tfjs-test-backends';

const STEPS = 1000;
const { objectives } = await installedObjectives();
const started = await startTfjs('cpu');
// SimPO with an SFT term detaches a metric; LMPO carries state; any objective does when those are missing.
const objective: AnyObjective | undefined = objectives.simpo ?? Object.values(objectives)[0];
const stateful: AnyObjective | undefined = objectives.lmpo;
const params = objective?.id === 'simpo' ? { sftWeight: 0.5 } : {};

const rows = 2;
const steps = 3;
const vocab = 4;
const labels = [
  [1, 2, -100],
  [3, 0, 0],
];
const hostBatch = {
  chosenLogps: [
    [-1, -2, 0],
    [-0.5, -0.25, -3],
  ],
  chosenMask: [
    [1, 1, 0],
    [1, 1, 1],
  ],
  rejectedLogps: [
    [-2, -1, -1],
    [-4, -0.1, 0],
  ],
  rejectedMask: [
    [1, 1, 1],
    [1, 1, 0],
  ],
};

describe.skipIf('unavailable' in started || !objective)(`no tensor leaks after ${STEPS} steps (tfjs cpu)`, () => {
  const backend = started as TfjsBackend;
  const tf = backend.tf;

  it('core autodiff: valueAndGrad with host inputs and with tf.Tensor logits', async () => {
    const logits = tf.randomNormal([rows, steps, vocab], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    for (let step = 0; step < STEPS; step++) {
      const batch = step % 2 ? hostBatch : { chosenLogits: logits, chosenLabels: labels, rejectedLogits: logits, rejectedLabels: labels };
      const result = await valueAndGrad(objective!, batch, params, { backend });
      expect(Number.isFinite(result.loss)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    logits.dispose();
  });

  it('native: tfjsLoss inside tf.tidy, state read each step', async () => {
    const chosenLogps = tf.tensor(hostBatch.chosenLogps);
    const rejectedLogps = tf.tensor(hostBatch.rejectedLogps);
    const batch = { ...hostBatch, chosenLogps, rejectedLogps };
    const before = tf.memory().numTensors;
    let state: ObjectiveState | null = null;
    for (let step = 0; step < STEPS; step++) {
      const useState = stateful && step % 2 === 1;
      let pending: Promise<ObjectiveState | null> = Promise.resolve(null);
      tf.tidy(() => {
        const result = useState ? tfjsLoss(stateful, batch, {}, { backend, state }) : tfjsLoss(objective!, batch, params, { backend });
        pending = result.state;
        return result.loss;
      }).dispose();
      const next = await pending;
      if (useState) state = next;
    }
    expect(tf.memory().numTensors).toBe(before);
    if (stateful) expect(state).not.toBeNull();
    tf.dispose([chosenLogps, rejectedLogps]);
  });

  it('native: tfjsLoss inside optimizer.minimize trains a model and leaks nothing', async () => {
    // A bigram-style model: logits[t] = embedding[token[t]] · W, trained on the preference loss.
    const weights = tf.variable(tf.randomNormal([vocab, vocab], 0, 0.1, 'float32', 2));
    const tokens = tf.oneHot(
      tf.tensor2d(
        [
          [0, 1, 2],
          [2, 3, 3],
        ],
        undefined,
        'int32',
      ),
      vocab,
    );
    const inputs = tf.cast(tokens, 'float32');
    tokens.dispose();
    const optimizer = tf.train.sgd(0.1);
    const rejectedLabels = [
      [2, 1, -100],
      [0, 3, 1],
    ];
    const lossAt = () => {
      const logits = tf.reshape(tf.matMul(tf.reshape(inputs, [rows * steps, vocab]), weights), [rows, steps, vocab]);
      return tfjsLoss(objective!, { chosenLogits: logits, chosenLabels: labels, rejectedLogits: logits, rejectedLabels }, {}, { backend })
        .loss;
    };
    const first = tf.tidy(lossAt);
    const initialLoss = (await first.data())[0];
    first.dispose();
    const before = tf.memory().numTensors;
    for (let step = 0; step < STEPS; step++) optimizer.minimize(lossAt);
    expect(tf.memory().numTensors).toBe(before);
    // As in the docs: keep one metric through minimize, read it, release it.
    let margin: Scalar | undefined;
    optimizer.minimize(() => {
      const logits = tf.reshape(tf.matMul(tf.reshape(inputs, [rows * steps, vocab]), weights), [rows, steps, vocab]);
      const result = tfjsLoss(
        objective!,
        { chosenLogits: logits, chosenLabels: labels, rejectedLogits: logits, rejectedLabels },
        {},
        { backend },
      );
      margin = tf.keep(result.metrics['rewards/margins']);
      return result.loss;
    });
    expect(Number.isFinite((await margin!.data())[0])).toBe(true);
    margin!.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const last = tf.tidy(lossAt);
    expect((await last.data())[0]).toBeLessThan(initialLoss);
    tf.dispose([last, weights, inputs]);
    optimizer.dispose();
  });
});

if ('unavailable' in started) {
  describe('leaks', () => it.skip(`skipped: tfjs cpu unavailable: ${started.unavailable}`, () => {}));
} else if (!objective) {
  describe('leaks', () => it.skip('skipped: no objective package present', () => {}));
}
