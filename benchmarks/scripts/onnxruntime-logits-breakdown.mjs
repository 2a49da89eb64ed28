// Where the onnxruntime backend's time goes on SimPO's logits path [8,256,32000] float32 (two halves of
// [4,256,32000], host arrays, gradients into caller buffers): the whole valueAndGrad call, the
// `session.run` it makes (onnxruntime-node's binding), onnxruntime's own `model_run` and its kernels
// (from onnxruntime's profiler), and the binding's cost per output byte on a one-node model.
// Medians of 7 runs after 2, ms.
//   node benchmarks/scripts/onnxruntime-logits-breakdown.mjs
import { register } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

register('./source-hooks.mjs', import.meta.url);
const ort = await import('onnxruntime-node');
const { createOnnxruntimeBackend } = await import('@pref/adapter-onnxruntime');
const { OnnxGraphBuilder } = await import('@pref/adapter-onnxruntime/onnx-graph-builder');
const { encodeOnnxModel } = await import('@pref/adapter-onnxruntime/encode-onnx-model');
const { valueAndGrad } = await import('@pref/core');
const { simpo } = await import('@pref/simpo');

let runMs = 0;
const run = ort.InferenceSession.prototype.run;
ort.InferenceSession.prototype.run = async function (...args) {
  const start = performance.now();
  try {
    return await run.apply(this, args);
  } finally {
    runMs += performance.now() - start;
  }
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const WARM = 2;
const TIMED = 7;

const profiles = mkdtempSync(join(tmpdir(), 'pref-ort-profile-'));
const backend = await createOnnxruntimeBackend({ sessionOptions: { enableProfiling: true, profileFilePrefix: join(profiles, 'run') } });
const [rows, steps, vocab] = [4, 256, 32000];
const shape = [rows, steps, vocab];
const logits = () => Float32Array.from({ length: rows * steps * vocab }, (_, i) => Math.sin(i) * 3);
const labels = { data: Array.from({ length: rows * steps }, (_, i) => (i * 7919) % vocab), shape: [rows, steps] };
const batch = {
  chosenLogits: { data: logits(), shape },
  chosenLabels: labels,
  rejectedLogits: { data: logits(), shape },
  rejectedLabels: labels,
};
const gradients = { chosenLogits: new Float32Array(rows * steps * vocab), rejectedLogits: new Float32Array(rows * steps * vocab) };
const calls = [];
const runs = [];
for (let i = 0; i < WARM + TIMED; i++) {
  runMs = 0;
  const start = performance.now();
  await valueAndGrad(simpo, batch, {}, { backend, gradients });
  if (i >= WARM) (calls.push(performance.now() - start), runs.push(runMs));
}
await backend.releaseSessions(); // writes the profile
/** The profile (one file per session) of the session that ran most, for files named `prefix…`. */
const profileOf = (prefix) =>
  readdirSync(profiles)
    .filter((f) => f.startsWith(prefix))
    .map((f) => JSON.parse(readFileSync(join(profiles, f), 'utf8')))
    .reduce((best, events) => (runsIn(events) > runsIn(best) ? events : best), []);
const runsIn = (events) => events.filter((e) => e.name === 'model_run').length;
const events = profileOf('run');
const modelRuns = events.filter((e) => e.name === 'model_run').slice(-TIMED);
const kernels = new Map();
for (const e of events) {
  if (!e.name.endsWith('_kernel_time') || e.ts < modelRuns[0].ts) continue;
  kernels.set(e.args.op_name, (kernels.get(e.args.op_name) ?? 0) + e.dur / 1000 / TIMED);
}
console.log(
  `valueAndGrad ${median(calls).toFixed(1)} ms; session.run ${median(runs).toFixed(1)} ms; model_run ${median(modelRuns.map((e) => e.dur / 1000)).toFixed(1)} ms`,
);
console.log(
  `kernels (mean ms per run): ${[...kernels]
    .sort((a, b) => b[1] - a[1])
    .filter(([, ms]) => ms >= 0.5)
    .map(([op, ms]) => `${op} ${ms.toFixed(1)}`)
    .join(', ')}`,
);

// The binding alone: Neg over one [4,256,32000] float32 input, the output returned or written into a buffer.
const b = new OnnxGraphBuilder();
b.output(b.node('Neg', [b.input('x', 'float', ['n'])], {}, 'y'), 'float', ['n']);
const session = await ort.InferenceSession.create(await encodeOnnxModel(b.model('neg')), {
  enableProfiling: true,
  profileFilePrefix: join(profiles, 'neg'),
});
const size = rows * steps * vocab;
const x = new ort.Tensor('float32', batch.chosenLogits.data, [size]);
const y = new ort.Tensor('float32', new Float32Array(size), [size]);
const neg = { returned: [], written: [] };
for (let i = 0; i < WARM + TIMED; i++) {
  for (const [kind, fetches] of [
    ['returned', undefined],
    ['written', { y }],
  ]) {
    const start = performance.now();
    await (fetches ? session.run({ x }, fetches) : session.run({ x }));
    if (i >= WARM) neg[kind].push(performance.now() - start);
  }
}
session.endProfiling();
await session.release();
const negEvents = profileOf('neg');
const negRun = median(negEvents.filter((e) => e.name === 'model_run').map((e) => e.dur / 1000));
console.log(
  `Neg on ${((size * 4) / 2 ** 20).toFixed(0)} MiB: session.run ${median(neg.returned).toFixed(1)} ms (output returned), ${median(neg.written).toFixed(1)} ms (written into a buffer); model_run ${negRun.toFixed(1)} ms`,
);
