/**
 * SimPO loss + gradients from hidden states and an LM head (the hidden-state path: chunked
 * Gemm in an ONNX Loop) beside the logits path on the same `hidden·weightᵀ`, on onnxruntime's
 * CPU provider (not run by `vitest run`):
 *   npx vitest bench --run --project @pref/adapter-onnxruntime bench/linear-head.bench.ts
 * Sizes: PREF_BENCH_LINEAR="rows,steps,hidden,vocab" (default 8,256,256,32000: linear-medium);
 * PREF_BENCH_CHUNK sets `lmHead.chunkSize` (default: the backend's choice).
 */
import { bench, describe } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { simpo } from '@pref/simpo';
import { createOnnxruntimeBackend } from '../src';

const [rows, steps, size, vocab] = (process.env.PREF_BENCH_LINEAR ?? '8,256,256,32000').split(',').map(Number);
const chunkSize = process.env.PREF_BENCH_CHUNK ? Number(process.env.PREF_BENCH_CHUNK) : undefined;
const pairs = rows / 2;
const options = { iterations: 5, warmupIterations: 1, time: 0, warmupTime: 0 };

let seed = 12345;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const values = (n: number, spread: number) => Float32Array.from({ length: n }, () => (random() - 0.5) * 2 * spread);
const weight = values(vocab * size, 1 / Math.sqrt(size));
const bias = values(vocab, 0.1);

function side() {
  const hidden = values(pairs * steps * size, 1);
  const labels = Array.from({ length: pairs }, () =>
    Array.from({ length: steps }, (_, t) => (t >= steps - steps / 8 ? -100 : Math.floor(random() * vocab))),
  );
  // The same head's logits, computed once on the host (not timed), for the logits path.
  const logits = new Float32Array(pairs * steps * vocab);
  for (let n = 0; n < pairs * steps; n++) {
    for (let v = 0; v < vocab; v++) {
      let dot = bias[v];
      for (let k = 0; k < size; k++) dot += hidden[n * size + k] * weight[v * size + k];
      logits[n * vocab + v] = dot;
    }
  }
  return { hidden, labels, logits };
}
const chosen = side();
const rejected = side();
const hiddenBatch = {
  chosenHidden: { data: chosen.hidden, shape: [pairs, steps, size] },
  chosenLabels: chosen.labels,
  rejectedHidden: { data: rejected.hidden, shape: [pairs, steps, size] },
  rejectedLabels: rejected.labels,
  lmHead: { weight: { data: weight, shape: [vocab, size] }, bias: { data: bias, shape: [vocab] } },
};
const logitsBatch = {
  chosenLogits: { data: chosen.logits, shape: [pairs, steps, vocab] },
  chosenLabels: chosen.labels,
  rejectedLogits: { data: rejected.logits, shape: [pairs, steps, vocab] },
  rejectedLabels: rejected.labels,
};

const backend = await createOnnxruntimeBackend({ reuseOutputs: true });

describe(`linear head [${rows}, ${steps}] H ${size} V ${vocab} on ${backend.name}`, () => {
  bench(
    `simpo valueAndGrad from hidden states (chunk ${chunkSize ?? 'default'})`,
    async () => {
      await valueAndGrad(simpo, hiddenBatch, {}, { backend, ...(chunkSize ? { lmHead: { chunkSize } } : {}) } as never);
    },
    options,
  );

  bench(
    'simpo valueAndGrad from the same logits (matmul not timed)',
    async () => {
      await valueAndGrad(simpo, logitsBatch, {}, { backend });
    },
    options,
  );
});
