/**
 * Source of a kernel worker thread (CommonJS, run with `eval: true` so the same code works from
 * the TypeScript sources and the build). It instantiates the kernels on the shared memory and
 * runs its share of rows each time the control generation moves.
 */
export const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, index, threads, generation } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory, log: Math.log } }).exports;
// Start from the generation at creation: a job posted before this thread ran is not missed.
let seen = generation;
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  if (Atomics.load(control, 15) === 1) break;
  const job = control[2], rows = control[3], vocab = control[4];
  const chunk = Math.ceil(rows / threads);
  const row0 = Math.min(rows, index * chunk), row1 = Math.min(rows, row0 + chunk);
  const a = (i) => control[5 + i];
  if (row0 < row1) {
    if (job === 0) k.lse_f32(a(0), a(1), row0, row1, vocab);
    else if (job === 1) k.lse_f64(a(0), a(1), row0, row1, vocab);
    else if (job === 2) k.grad_f32(a(0), a(1), a(2), a(3), a(4), row0, row1, vocab, a(5));
    else k.grad_f64(a(0), a(1), a(2), a(3), a(4), row0, row1, vocab, a(5));
  }
  if (Atomics.sub(control, 1, 1) === 1) Atomics.notify(control, 1);
}
`;
