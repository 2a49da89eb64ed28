// The embedded default's logits path three ways, on SimPO [8,256,32000] float32 (two halves of [4,256,32000]):
// host arrays from `backend.allocate` (checked for finite values on the host), the same arrays as backend
// tensors (no host scan), and the kernels alone on the same memory (no API at all). Medians of 7 runs, ms.
//   node benchmarks/scripts/reference-logits-paths.mjs
import { register } from 'node:module';

register('./source-hooks.mjs', import.meta.url);
const { createReferenceBackend } = await import('@pref/adapter-reference');
const { valueAndGrad } = await import('@pref/core');
const { simpo } = await import('@pref/simpo');

const backend = createReferenceBackend({ precision: 32 });
const [rows, steps, vocab] = [4, 256, 32000];
const shape = [rows, steps, vocab];
const logits = () => {
  const a = backend.allocate(shape);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i) * 3;
  return a;
};
const labels = { data: Array.from({ length: rows * steps }, (_, i) => (i * 7919) % vocab), shape: [rows, steps] };
const host = {
  chosenLogits: { data: logits(), shape },
  chosenLabels: labels,
  rejectedLogits: { data: logits(), shape },
  rejectedLabels: labels,
};
const gradients = { chosenLogits: backend.allocate(shape), rejectedLogits: backend.allocate(shape) };
const tensors = {
  ...host,
  chosenLogits: backend.fromHost(host.chosenLogits.data, shape),
  rejectedLogits: backend.fromHost(host.rejectedLogits.data, shape),
};

async function median(run) {
  for (let i = 0; i < 2; i++) await run();
  const times = [];
  for (let i = 0; i < 7; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[3];
}

const kernels = backend['kernels'];
const flatLabels = Int32Array.from(labels.data);
const upstream = new Float32Array(rows * steps).fill(1e-3);
const results = {
  'valueAndGrad, host arrays (finite check on the host)': await median(() => valueAndGrad(simpo, host, {}, { backend, gradients })),
  'valueAndGrad, backend tensors': await median(() => valueAndGrad(simpo, tensors, {}, { backend, gradients })),
  'kernels alone (forward with the softmax stash, backward in place)': await median(async () => {
    for (const [z, g] of [
      [host.chosenLogits.data, gradients.chosenLogits],
      [host.rejectedLogits.data, gradients.rejectedLogits],
    ]) {
      const { lse } = kernels.tokenForward({ logits: z, labels: flatLabels, vocab, probs: g });
      kernels.tokenBackward({ probs: g, grad: g, labels: flatLabels, vocab, lse, gradLogps: upstream });
    }
  }),
};
for (const [path, ms] of Object.entries(results)) console.log(`${ms.toFixed(1).padStart(7)} ms  ${path}`);
process.exit(0);
