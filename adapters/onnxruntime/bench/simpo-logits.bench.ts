/**
 * Loss + gradient of SimPO on logits, on onnxruntime's CPU provider (not run by `vitest run`):
 *   npx vitest bench --run --project @pref/adapter-onnxruntime
 * Sizes: PREF_BENCH_SHAPE="rows,steps,vocab" (default 8,256,32000: 4 pairs, chosen and rejected
 * logits [4, 256, 32000] each, [8, 256, 32000] in all).
 */
import { bench, describe } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { simpo } from '@pref/simpo';
import { createOnnxruntimeBackend } from '../src';

const [rows, steps, vocab] = (process.env.PREF_BENCH_SHAPE ?? '8,256,32000').split(',').map(Number);
const pairs = rows / 2;
const options = { iterations: 5, warmupIterations: 1, time: 0, warmupTime: 0 };

let seed = 12345;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
function side(count: number) {
  const logits = new Float32Array(count * steps * vocab);
  for (let i = 0; i < logits.length; i++) logits[i] = random() * 8 - 4;
  // The last eighth of each sequence is padding (label -100).
  const labels = Array.from({ length: count }, () =>
    Array.from({ length: steps }, (_, t) => (t >= steps - steps / 8 ? -100 : Math.floor(random() * vocab))),
  );
  return { logits, labels };
}
const chosen = side(pairs);
const rejected = side(pairs);
const shape = [pairs, steps, vocab];
const hostBatch = {
  chosenLogits: { data: chosen.logits, shape },
  chosenLabels: chosen.labels,
  rejectedLogits: { data: rejected.logits, shape },
  rejectedLabels: rejected.labels,
};

const backend = await createOnnxruntimeBackend();
const ort = await import('onnxruntime-node');
const tensorBatch = {
  ...hostBatch,
  chosenLogits: new ort.Tensor('float32', chosen.logits, shape),
  rejectedLogits: new ort.Tensor('float32', rejected.logits, shape),
};
const allLogits = new Float32Array(rows * steps * vocab);
allLogits.set(chosen.logits);
allLogits.set(rejected.logits, chosen.logits.length);
const allLabels = Int32Array.from([...chosen.labels.flat(), ...rejected.labels.flat()]);

describe(`logits [${rows}, ${steps}, ${vocab}] on ${backend.name}, default session options`, () => {
  bench(
    'simpo valueAndGrad, logits as { data, shape } (includes core host checks)',
    async () => {
      await valueAndGrad(simpo, hostBatch, {}, { backend });
    },
    options,
  );

  bench(
    'simpo valueAndGrad, logits as onnxruntime tensors (adopted, no host pass)',
    async () => {
      await valueAndGrad(simpo, tensorBatch, {}, { backend });
    },
    options,
  );

  bench(
    'token log-probs + gradient alone (sum of log-probs, upstream 1)',
    async () => {
      const logits = backend.fromHost(allLogits, [rows * steps, vocab]);
      const labels = backend.fromHostInt(allLabels, [rows * steps]);
      const { logps, logSumExp } = backend.tokenLogProbs(logits, labels, -100);
      const total = backend.reduce('sum', logps, [0], false);
      const grad = backend.tokenLogProbsGrad(logits, labels, logSumExp, backend.fill([rows * steps], 1), -100);
      await backend.read([total, grad]);
    },
    options,
  );
});
