/**
 * Source of a kernel worker thread (CommonJS, run with `eval: true` so the same code works from
 * the TypeScript sources and the build). It instantiates both kernel modules on the shared memory,
 * then each time the control generation moves runs `fn(job, index, nt)` when `index < nt`, and
 * counts itself done. An error is recorded (first one wins) and reported by the calling thread;
 * nothing is printed.
 *
 * Control (Int32Array on a SharedArrayBuffer): [0] generation, [1] threads still running, [2] the
 * function's index in `names`, [3] job address, [4] threads taking part, [5] stop, [6] error flag,
 * [7] workers ready, [32 + index] this worker's thread id (set by the calling thread once the
 * workers are ready; 0 = left out). `message` (Uint8Array) holds the error's text.
 */
export const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { modules, memory, control, message, index, names, generation } = workerData;
let fns = null, initError = null;
try {
  const imports = { env: { memory, log: Math.log, exp: Math.exp } };
  const token = new WebAssembly.Instance(modules.token, imports).exports;
  const linear = new WebAssembly.Instance(modules.linear, imports).exports;
  fns = names.map((name) => { const [m, f] = name.split('.'); return (m === 'token' ? token : linear)[f]; });
} catch (error) {
  initError = error;
}
const report = (error) => {
  if (Atomics.compareExchange(control, 6, 0, 1) !== 0) return;
  const text = new TextEncoder().encode('kernel worker ' + index + ': ' + String(error && error.message || error)).subarray(0, message.length - 1);
  message.fill(0);
  message.set(text);
};
// Start from the generation at creation: a job posted before this thread ran is not missed.
let seen = generation;
Atomics.add(control, 7, 1);
Atomics.notify(control, 7);
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  if (Atomics.load(control, 5) === 1) break;
  const tid = Atomics.load(control, 32 + index);
  if (tid === 0) continue;
  const nt = control[4];
  if (tid < nt) {
    try {
      if (initError) throw initError;
      fns[control[2]](control[3], tid, nt);
    } catch (error) {
      report(error);
    }
  }
  if (Atomics.sub(control, 1, 1) === 1) Atomics.notify(control, 1);
}
`;
