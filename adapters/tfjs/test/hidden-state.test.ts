import { describe, expect, it, vi } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { describeHiddenStateBattery, installedObjectives, worstMismatch } from '@pref/testing';
// The model's own ops (matMul, tanh, gather) need tfjs's registered gradients, as with @tensorflow/tfjs.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Tensor as TfTensor, Variable } from '@tensorflow/tfjs-core';
import { tfjsLoss, type TfjsBackend } from '../src';
import { startTfjs, tfjsUnderTest } from './tfjs-test-backends';

const { objectives } = await installedObjectives();

// Core autodiff (valueAndGrad) on the hidden path = the logits path, for every installed objective
// (tfjs:wasm in hidden-state-wasm.test.ts: one tfjs engine per file, one active backend).
describeHiddenStateBattery({ backend: tfjsUnderTest('cpu'), objectives, tolerance: 'float32', casesPerObjective: 1 });

const started = await startTfjs('cpu');
const simpo = objectives.simpo;
const [ROWS, STEPS, EMBED, HIDDEN, VOCAB] = [2, 4, 3, 5, 11];
const chosenLabels = [
  [1, 10, 4, -100],
  [0, 7, 7, 2],
];
const rejectedLabels = [
  [9, 3, -100, -100],
  [5, 5, 6, 8],
];

interface Head {
  readonly name: string;
  readonly bias: boolean;
  readonly logitScale?: number;
  readonly softcap?: number;
  readonly chunkSize?: number;
}
const HEADS: readonly Head[] = [
  { name: 'no bias, chunk 3 of V 11', bias: false, chunkSize: 3 },
  { name: 'bias, logitScale 0.8, softcap 2, chunk 4', bias: true, logitScale: 0.8, softcap: 2, chunkSize: 4 },
  { name: 'bias, backend chunk', bias: true },
];

describe.skipIf('unavailable' in started || !simpo)('tfjsLoss on the hidden-state path (tfjs cpu)', () => {
  const backend = started as TfjsBackend;
  const tf = backend.tf;
  /** A body (embedding → tanh layer) and an LM head, as tf variables. */
  const variable = (initial: () => TfTensor) => tf.tidy(() => tf.variable(initial()));
  const model = (seed: number) => ({
    inputs: [
      tf.randomNormal([ROWS, STEPS, EMBED], 0, 1, 'float32', seed),
      tf.randomNormal([ROWS, STEPS, EMBED], 0, 1, 'float32', seed + 1),
    ],
    layer: variable(() => tf.randomNormal([EMBED, HIDDEN], 0, 0.8, 'float32', seed + 2)),
    weight: variable(() => tf.randomNormal([VOCAB, HIDDEN], 0, 0.8, 'float32', seed + 3)),
    bias: variable(() => tf.randomNormal([VOCAB], 0, 0.5, 'float32', seed + 4)),
  });
  type Model = ReturnType<typeof model>;
  const hiddenOf = (m: Model, x: TfTensor) =>
    tf.reshape(tf.tanh(tf.matMul(tf.reshape(x, [ROWS * STEPS, EMBED]), m.layer)), [ROWS, STEPS, HIDDEN]);
  /** The logits path: `softcap(s·(h·Wᵀ + b))` formed by tfjs ops (with tfjs's own gradients). */
  const logitsOf = (m: Model, head: Head, hidden: TfTensor) => {
    let z = tf.matMul(tf.reshape(hidden, [ROWS * STEPS, HIDDEN]), m.weight, false, true);
    if (head.bias) z = tf.add(z, m.bias);
    if (head.logitScale !== undefined) z = tf.mul(z, head.logitScale);
    if (head.softcap !== undefined) z = tf.mul(tf.tanh(tf.div(z, head.softcap)), head.softcap);
    return tf.reshape(z, [ROWS, STEPS, VOCAB]);
  };
  const lmHead = (m: Model, head: Head) => ({
    weight: m.weight,
    ...(head.bias ? { bias: m.bias } : {}),
    ...(head.logitScale !== undefined ? { logitScale: head.logitScale } : {}),
    ...(head.softcap !== undefined ? { softcap: head.softcap } : {}),
  });
  const hiddenLoss = (m: Model, head: Head) => () =>
    tfjsLoss(
      simpo!,
      {
        chosenHidden: hiddenOf(m, m.inputs[0]),
        chosenLabels,
        rejectedHidden: hiddenOf(m, m.inputs[1]),
        rejectedLabels,
        lmHead: lmHead(m, head),
      },
      { sftWeight: 0.3 },
      { backend, ...(head.chunkSize !== undefined ? { lmHead: { chunkSize: head.chunkSize } } : {}) },
    ).loss;
  const logitsLoss = (m: Model, head: Head) => () =>
    tfjsLoss(
      simpo!,
      {
        chosenLogits: logitsOf(m, head, hiddenOf(m, m.inputs[0])),
        chosenLabels,
        rejectedLogits: logitsOf(m, head, hiddenOf(m, m.inputs[1])),
        rejectedLabels,
      },
      { sftWeight: 0.3 },
      { backend },
    ).loss;
  const lossAndGrads = async (f: () => TfTensor, variables: Variable[]) => {
    const { value, grads } = tf.variableGrads(f as () => never, variables);
    const out = {
      loss: (await value.data())[0],
      grads: await Promise.all(
        variables.map(async (v) => (grads[v.name] ? Float64Array.from(await grads[v.name].data()) : new Float64Array(v.size))),
      ),
    };
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };

  for (const head of HEADS) {
    it(`body and head gradients equal the logits path: ${head.name}`, async () => {
      const m = model(11);
      const variables = head.bias ? [m.layer, m.weight, m.bias] : [m.layer, m.weight];
      const before = tf.memory().numTensors;
      const viaHidden = await lossAndGrads(hiddenLoss(m, head), variables);
      const viaLogits = await lossAndGrads(logitsLoss(m, head), variables);
      expect(tf.memory().numTensors).toBe(before);
      expect(worstMismatch([viaHidden.loss], [viaLogits.loss], 1e-5, 1e-6)).toBeLessThanOrEqual(1);
      variables.forEach((v, i) => {
        expect(Math.max(...Array.from(viaLogits.grads[i], Math.abs)), `${v.name} has a gradient`).toBeGreaterThan(1e-4);
        expect(worstMismatch(viaHidden.grads[i], viaLogits.grads[i], 1e-3, 1e-5), `d${['layer', 'weight', 'bias'][i]}`).toBeLessThanOrEqual(
          1,
        );
      });
      tf.dispose([...m.inputs, m.layer, m.weight, m.bias]);
    });
  }

  it('native gradients equal core autodiff (valueAndGrad) on the same hidden states and head', async () => {
    const m = model(5);
    const head = HEADS[1];
    const hidden = [hiddenOf(m, m.inputs[0]), hiddenOf(m, m.inputs[1])].map((t) => tf.variable(t));
    const batch = { chosenHidden: hidden[0], chosenLabels, rejectedHidden: hidden[1], rejectedLabels, lmHead: lmHead(m, head) };
    const options = { backend, lmHead: { chunkSize: 4 } };
    const native = await lossAndGrads(
      () => tfjsLoss(simpo!, batch, { sftWeight: 0.3 }, options).loss,
      [hidden[0], hidden[1], m.weight, m.bias],
    );
    const core = await valueAndGrad(simpo!, batch, { sftWeight: 0.3 } as never, options);
    expect(worstMismatch([native.loss], [core.loss], 1e-6, 1e-7)).toBeLessThanOrEqual(1);
    ['chosenHidden', 'rejectedHidden', 'lmHead.weight', 'lmHead.bias'].forEach((name, i) => {
      expect(
        worstMismatch(native.grads[i], (core.grads as Record<string, { data: ArrayLike<number> }>)[name].data, 1e-5, 1e-7),
        name,
      ).toBeLessThanOrEqual(1);
    });
    tf.dispose([...m.inputs, m.layer, m.weight, m.bias, ...hidden]);
  });

  it('never forms an [N, V] tensor: every kernel output of the loss and its gradient is at most [N, chunk]', async () => {
    const [rows, size, vocab, chunk] = [24, 8, 300, 32];
    const hidden = tf.variable(tf.randomNormal([2, rows / 2, size], 0, 1, 'float32', 3));
    const weight = tf.variable(tf.randomNormal([vocab, size], 0, 0.5, 'float32', 4));
    const labels = Array.from({ length: 2 }, (_, r) => Array.from({ length: rows / 2 }, (_, t) => (r * 31 + t * 7) % vocab));
    const batch = {
      chosenHidden: hidden,
      chosenLabels: labels,
      rejectedHidden: hidden,
      rejectedLabels: labels.map((row) => row.map((l) => (l + 1) % vocab)),
      lmHead: { weight },
    };
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(
        () => tfjsLoss(simpo!, batch, {}, { backend, lmHead: { chunkSize: chunk } }).loss,
        [hidden, weight],
      );
      tf.dispose([value, ...Object.values(grads)]);
      return tf.scalar(0);
    });
    const logitsSized = profile.kernels.filter((k) =>
      k.outputShapes.some((s) => s.includes(vocab) && s.reduce((n, d) => n * d, 1) >= (rows / 2) * vocab),
    );
    expect(logitsSized.map((k) => `${k.name} [${k.outputShapes.join('; ')}]`)).toEqual([]);
    const largest = Math.max(...profile.kernels.flatMap((k) => k.outputShapes.map((s) => s.reduce((n, d) => n * d, 1))));
    expect(largest).toBe(vocab * size); // the weight gradient itself; chunks are [N/2, 32] or [32, H]
    tf.dispose([hidden, weight, profile.result as never]);
  });

  it('no tensor leaks over 200 optimizer steps, and the loss goes down', async () => {
    const m = model(21);
    const head = HEADS[1];
    const optimizer = tf.train.adam(0.02);
    const variables = [m.layer, m.weight, m.bias];
    const first = tf.tidy(hiddenLoss(m, head));
    const initial = (await first.data())[0];
    first.dispose();
    optimizer.minimize(hiddenLoss(m, head), false, variables); // Adam's slots exist from here on
    const before = tf.memory().numTensors;
    for (let step = 0; step < 200; step++) optimizer.minimize(hiddenLoss(m, head), false, variables);
    expect(tf.memory().numTensors).toBe(before);
    const last = tf.tidy(hiddenLoss(m, head));
    expect((await last.data())[0]).toBeLessThan(initial);
    tf.dispose([last, ...m.inputs, ...variables]);
    optimizer.dispose();
  });
});

describe.skipIf('unavailable' in started || !simpo)('docs/examples/hidden-states-tfjs.mjs', () => {
  it('trains a tiny model through the hidden-state path: the loss goes down, nothing is left alive, nothing is printed', async () => {
    const tf = (started as TfjsBackend).tf;
    // @ts-expect-error plain ESM example without types
    const { trainThroughHiddenStates } = await import('../../../docs/examples/hidden-states-tfjs.mjs');
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const printed = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method));
    const losses: number[] = await trainThroughHiddenStates({ steps: 40, log: (line: string) => lines.push(line) }).finally(() =>
      printed.forEach((spy) => spy.mockRestore()),
    );
    printed.forEach((spy) => expect(spy).not.toHaveBeenCalled());
    expect(tf.memory().numTensors).toBe(before);
    expect(losses).toHaveLength(40);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[39]).toBeLessThan(losses[0] - 0.1);
    expect(lines[0]).toMatch(/^step {3}0 {2}loss \d/);
  });
});

if ('unavailable' in started)
  describe('hidden-state path', () => it.skip(`skipped: tfjs cpu unavailable: ${started.unavailable}`, () => {}));
else if (!simpo) describe('hidden-state path', () => it.skip('skipped: @pref/simpo not present', () => {}));
