/**
 * Loss + gradient of SimPO on logits on the WebGPU backend (measured, not asserted).
 * Run from the repository root:
 *   npx esbuild adapters/webgpu/bench/simpo-logits.ts --bundle --platform=node --format=esm \
 *     --external:webgpu --tsconfig=adapters/webgpu/tsconfig.json --outfile=node_modules/.cache/pref-webgpu-bench.mjs \
 *   && node node_modules/.cache/pref-webgpu-bench.mjs [rows seqLen vocab repeats]
 * `rows` sequences in all: `rows / 2` chosen and `rows / 2` rejected, each `[rows / 2, seqLen, vocab]`.
 */
import { valueAndGrad } from '@pref/core';
import { simpo } from '@pref/simpo';
import { createWebGpuBackend } from '@pref/adapter-webgpu';

const [rows = 8, steps = 256, vocab = 32000, repeats = 5] = process.argv.slice(2).map(Number);
const pairs = rows / 2;
const backend = await createWebGpuBackend({ powerPreference: 'high-performance' });
const device = backend.device;
const adapterInfo = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
console.log(
  `device: ${adapterInfo?.vendor ?? '?'} ${adapterInfo?.architecture ?? ''} ${adapterInfo?.description ?? ''}; subgroups ${backend.usesSubgroups}`,
);

function randomLogits(seed: number): Float32Array {
  const values = new Float32Array(pairs * steps * vocab);
  let state = seed;
  for (let i = 0; i < values.length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32) * 8 - 4;
  }
  return values;
}
function labels(seed: number): number[][] {
  return Array.from({ length: pairs }, (_, r) =>
    Array.from({ length: steps }, (_, t) => (t >= steps - 16 * r ? -100 : (r * 31 + t * 17 + seed) % vocab)),
  );
}

/** Logits already on the GPU (as a model runtime would hold them): zero-copy inputs. */
function gpuBuffer(values: Float32Array): GPUBuffer {
  const buffer = device.createBuffer({ size: values.byteLength, usage: 0x80 | 0x08 | 0x04 });
  device.queue.writeBuffer(buffer, 0, values);
  return buffer;
}

const chosen = randomLogits(1);
const rejected = randomLogits(2);
const shape = [pairs, steps, vocab];
const hostBatch = {
  chosenLogits: { data: chosen, shape },
  chosenLabels: labels(0),
  rejectedLogits: { data: rejected, shape },
  rejectedLabels: labels(5),
};
const gpuBatch = {
  chosenLogits: { buffer: gpuBuffer(chosen), shape },
  chosenLabels: labels(0),
  rejectedLogits: { buffer: gpuBuffer(rejected), shape },
  rejectedLabels: labels(5),
};

for (const [name, batch] of [
  ['GPUBuffer inputs (zero-copy)', gpuBatch],
  ['host Float32Array inputs', hostBatch],
] as const) {
  const times: number[] = [];
  let loss = 0;
  for (let i = 0; i < repeats + 1; i++) {
    const start = performance.now();
    const result = await valueAndGrad(simpo, batch, {}, { backend });
    const elapsed = performance.now() - start;
    if (i > 0) times.push(elapsed);
    loss = result.loss;
  }
  times.sort((a, b) => a - b);
  console.log(
    `${name}: logits [${rows}, ${steps}, ${vocab}] in all, loss ${loss.toFixed(6)}: median ${times[times.length >> 1].toFixed(0)} ms, min ${times[0].toFixed(0)} ms over ${repeats} runs (after 1 warm-up; includes reading the [${rows}, ${steps}, ${vocab}] gradients to the host)`,
  );
}

// The fused kernels alone, forward + backward on one [rows·seqLen, vocab] tensor, no readback of the gradient.
const allLogits = new Float32Array(rows * steps * vocab);
allLogits.set(chosen);
allLogits.set(rejected, chosen.length);
const all = backend.adopt({ buffer: gpuBuffer(allLogits), shape: [rows * steps, vocab] })!;
const tokenLabels = backend.fromHostInt(
  Int32Array.from({ length: rows * steps }, (_, i) => (i * 17) % vocab),
  [rows * steps],
);
const upstream = backend.fill([rows * steps], 1);
const kernelTimes: number[] = [];
for (let i = 0; i < repeats + 1; i++) {
  const start = performance.now();
  const { logps, logSumExp } = backend.tokenLogProbs(all, tokenLabels, -100);
  const grad = backend.tokenLogProbsGrad(all, tokenLabels, logSumExp, upstream, -100);
  await backend.read([backend.reduce('sum', logps, [0], false)]);
  if (i > 0) kernelTimes.push(performance.now() - start);
  backend.dispose(logps);
  backend.dispose(logSumExp);
  backend.dispose(grad);
}
kernelTimes.sort((a, b) => a - b);
const bytes = rows * steps * vocab * 4 * 3;
const median = kernelTimes[kernelTimes.length >> 1];
console.log(
  `fused tokenLogProbs + grad kernels on [${rows * steps}, ${vocab}]: median ${median.toFixed(0)} ms (${(bytes / median / 1e6).toFixed(1)} GB/s effective over 3 passes of the logits: read twice, gradient written once)`,
);
backend.destroy();
