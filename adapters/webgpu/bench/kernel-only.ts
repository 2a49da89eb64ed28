import { createWebGpuBackend } from '@pref/adapter-webgpu';
const [rows = 2048, vocab = 32000, repeats = 5, subgroups = 1] = process.argv.slice(2).map(Number);
const backend = await createWebGpuBackend({ subgroups: subgroups === 1 });
const logits = backend.fill([rows, vocab], 0.25);
const labels = backend.fromHostInt(
  Int32Array.from({ length: rows }, (_, i) => (i * 17) % vocab),
  [rows],
);
const upstream = backend.fill([rows], 1);
const times: number[] = [];
for (let i = 0; i < repeats + 1; i++) {
  const start = performance.now();
  const { logps, logSumExp } = backend.tokenLogProbs(logits, labels, -100);
  const grad = backend.tokenLogProbsGrad(logits, labels, logSumExp, upstream, -100);
  await backend.read([backend.reduce('sum', logps, [0], false)]);
  if (i > 0) times.push(performance.now() - start);
  backend.dispose(logps);
  backend.dispose(logSumExp);
  backend.dispose(grad);
}
times.sort((a, b) => a - b);
console.log(
  `[${rows}, ${vocab}] subgroups ${backend.usesSubgroups}: median ${times[times.length >> 1].toFixed(0)} ms, min ${times[0].toFixed(0)} ms`,
);
backend.destroy();
