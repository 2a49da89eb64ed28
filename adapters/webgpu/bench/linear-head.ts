// The hidden-state kernels alone: linearTokenLogProbs + its gradient on [rows, H] · [V, H]ᵀ.
//   npx esbuild adapters/webgpu/bench/linear-head.ts --bundle --platform=node --format=esm --external:webgpu \
//     --tsconfig=adapters/webgpu/tsconfig.json --outfile=node_modules/.cache/pref-webgpu-linear.mjs \
//     && node node_modules/.cache/pref-webgpu-linear.mjs [rows hidden vocab repeats chunkSize]
import { createWebGpuBackend } from '@pref/adapter-webgpu';

const [rows = 1024, hiddenSize = 64, vocab = 4096, repeats = 3, chunkSize = 0] = process.argv.slice(2).map(Number);
const backend = await createWebGpuBackend();
const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 0.37) * 0.5);
const hidden = backend.fromHost(wave(rows * hiddenSize, 1), [rows, hiddenSize]);
const weight = backend.fromHost(wave(vocab * hiddenSize, 2), [vocab, hiddenSize]);
const bias = backend.fromHost(wave(vocab, 3), [vocab]);
const labels = backend.fromHostInt(
  Int32Array.from({ length: rows }, (_, i) => (i * 17) % vocab),
  [rows],
);
const upstream = backend.fill([rows], 1);
const options = { ignoreIndex: -100, logitScale: 1, softcap: null, ...(chunkSize > 0 ? { chunkSize } : {}) };
const times: number[] = [];
for (let i = 0; i < repeats + 1; i++) {
  const start = performance.now();
  const { logps, logSumExp } = backend.linearTokenLogProbs(hidden, weight, bias, labels, options);
  const grads = backend.linearTokenLogProbsGrad(hidden, weight, bias, labels, logSumExp, upstream, options);
  await backend.read([backend.reduce('sum', logps, [0], false), backend.reduce('sum', grads.weight, [0, 1], false)]);
  if (i > 0) times.push(performance.now() - start);
  [logps, logSumExp, grads.hidden, grads.weight, grads.bias!].forEach((t) => backend.dispose(t));
}
times.sort((a, b) => a - b);
const median = times[times.length >> 1];
const flops = 2 * rows * hiddenSize * vocab * 4; // forward product, recomputed product, dHidden, dWeight
console.log(
  `linear head [${rows}, ${hiddenSize}] · [${vocab}, ${hiddenSize}]ᵀ, chunk ${backend.linearChunkSize(rows, hiddenSize, vocab)}${chunkSize ? ` (requested ${chunkSize})` : ''}: median ${median.toFixed(0)} ms (${(flops / median / 1e6).toFixed(1)} GFLOP/s over 4 products)`,
);
backend.destroy();
