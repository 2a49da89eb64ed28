// The kernels' own benchmark (not part of CI; numbers in ../README.md):
//   node packages/cpu-kernels/bench/kernels.mjs [--quick] [--dist] [--repeats N] [--threads N]
//        [--no-hidden] [--no-baseline] [--json FILE]
// 1. a bandwidth probe (read, copy, triad, write on 256 MiB arena buffers, 1 and 2 threads);
// 2. SimPO loss + gradient on logits [8, 256, 32000] float32: forward ms, backward ms, total, GB/s
//    and × the "C-style bound" (read the logits twice + write the gradient once, over the probe's
//    best two-thread rate), for each way of running the token kernels;
// 3. the hidden-state path on [8·128] H 64 V 4096, [8·256] H 256 V 32000, [4·512] H 64 V 128256:
//    ms forward / backward, GFLOP/s, peak arena bytes beyond the tensors, against a plain GEMM
//    producing the full logits + the logits-path kernels (where that fits in memory).
// Timings are the minimum (and median) over the repeats, after a warm-up run.
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { loadKernels } from './load-source.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = flag('--quick');
const repeats = Number(option('--repeats', quick ? 3 : 9));
const threads = Number(option('--threads', 2));
const K = await loadKernels();
const MiB = 1 << 20;

const report = {
  createdAt: new Date().toISOString(),
  command: `node packages/cpu-kernels/bench/kernels.mjs ${argv.join(' ')}`.trim(),
  machine: {},
  probe: [],
  logits: {},
  hidden: [],
};
report.machine = {
  cpu: cpus()[0]?.model,
  cpus: cpus().length,
  memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  loadAverage: loadavg().map((x) => +x.toFixed(2)),
};

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], samples };
}
function time(fn, n = repeats, warmup = 1) {
  for (let i = 0; i < warmup; i++) fn();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}
const fmt = (x, d = 1) => (x >= 100 ? x.toFixed(0) : x.toFixed(d));
const bytesText = (b) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / MiB).toFixed(1)} MiB`);
function fill(view, seed, scale = 1) {
  let s = seed >>> 0;
  for (let i = 0; i < view.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // a rough bell shape from two uniforms
    const u = (s >>> 8) / 16777216;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    view[i] = scale * (u + (s >>> 8) / 16777216 - 1);
  }
}

console.log(`# @pref/cpu-kernels benchmark\n\n${report.command}\n`);
console.log(
  `${report.machine.cpu}, ${report.machine.cpus} CPUs, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}; load average ${report.machine.loadAverage.join(' / ')} at the start\n`,
);

// ------------------------------------------------------------------ 1. bandwidth probe
const kernels = K.createCpuKernels({ precision: 32, threads });
{
  const n = 256 * MiB;
  const A = kernels.arena;
  const a = A.allocate('float', n / 4),
    b = A.allocate('float', n / 4),
    c = A.allocate('float', n / 4);
  (a.view.fill(1), b.view.fill(2), c.view.fill(3));
  console.log('## Bandwidth probe (256 MiB arena buffers; copy = read + write, triad = 2 reads + 1 write)\n');
  console.log('| threads | read GB/s | copy GB/s | triad GB/s | write GB/s |\n| --- | --- | --- | --- | --- |');
  for (const t of [1, kernels.threads]) {
    const row = { threads: t };
    for (const mode of ['read', 'copy', 'triad', 'write']) {
      let moved = 0;
      const st = time(() => (moved = kernels.memoryProbe(mode, n, a, b, c, t)), quick ? 3 : 7);
      row[mode] = moved / st.min / 1e6;
    }
    report.probe.push(row);
    console.log(`| ${t} | ${fmt(row.read)} | ${fmt(row.copy)} | ${fmt(row.triad)} | ${fmt(row.write)} |`);
  }
  (a.free(), b.free(), c.free());
}
const top = report.probe[report.probe.length - 1];
const bound = Math.max(top.read, top.copy, top.triad) * 1e9; // bytes/s
console.log(`\nbound used: ${fmt(bound / 1e9)} GB/s (the best two-thread rate)\n`);

// ------------------------------------------------------------------ 2. SimPO on logits
/** SimPO (β = 2, γ = 1) over the average log-probs of N/2 chosen and N/2 rejected sequences; returns the loss and writes d loss / d logps into `u`. */
function simpo(logps, labels, N, T, u, beta = 2, gamma = 1) {
  const pairs = N / 2;
  const avg = new Float64Array(N),
    len = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0,
      c = 0;
    for (let t = 0; t < T; t++) if (labels[n * T + t] !== -100) ((s += logps[n * T + t]), c++);
    avg[n] = s / Math.max(c, 1);
    len[n] = Math.max(c, 1);
  }
  let loss = 0;
  u.fill(0);
  for (let p = 0; p < pairs; p++) {
    const margin = beta * (avg[p] - avg[p + pairs]) - gamma;
    loss += Math.log1p(Math.exp(-margin)) / pairs;
    const dm = -1 / (1 + Math.exp(margin)) / pairs; // d loss / d margin
    for (let t = 0; t < T; t++) {
      if (labels[p * T + t] !== -100) u[p * T + t] = (dm * beta) / len[p];
      if (labels[(p + pairs) * T + t] !== -100) u[(p + pairs) * T + t] = (-dm * beta) / len[p + pairs];
    }
  }
  return loss;
}
{
  const [N, T, V] = quick ? [8, 64, 32000] : [8, 256, 32000];
  const R = N * T;
  const A = kernels.arena;
  const logits = A.allocate('float', R * V),
    grad = A.allocate('float', R * V),
    labels = A.allocate('int32', R);
  const lse = A.allocate('float', R),
    logps = A.allocate('float', R),
    u = A.allocate('float', R);
  fill(logits.view, 12345, 6);
  {
    const lab = labels.view;
    let s = 7;
    for (let r = 0; r < R; r++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      lab[r] = r % T >= T - 8 ? -100 : s % V;
    }
  }
  grad.view.fill(0);
  const boundMs = ((3 * R * V * 4) / bound) * 1e3;
  const rows = [];
  const run = (name, fwd, bwd, note, ownArena = true) => {
    const before = A.stats();
    let tf = [],
      tb = [];
    for (let i = 0; i <= repeats; i++) {
      const t0 = performance.now();
      fwd();
      const t1 = performance.now();
      simpo(logps.view, labels.view, N, T, u.view);
      bwd();
      const t2 = performance.now();
      if (i > 0) (tf.push(t1 - t0), tb.push(t2 - t1));
    }
    const after = A.stats();
    const total = stats(tf.map((x, i) => x + tb[i]));
    const row = {
      name,
      note,
      forward: stats(tf),
      backward: stats(tb),
      total,
      gbPerSecond: (3 * R * V * 4) / (total.min / 1e3) / 1e9,
      boundRatio: total.min / boundMs,
      newBlocksPerCall: (after.blocksCreated - before.blocksCreated) / (repeats + 1),
      growsPerCall: (after.grows - before.grows) / (repeats + 1),
      stagedBytesPerCall: (after.stagedBytes - before.stagedBytes) / (repeats + 1),
      ownArena,
    };
    rows.push(row);
    return row;
  };
  // default: the forward stashes the softmax in the gradient block, the backward turns it into the gradient in place
  run(
    'arena, probs stash (default)',
    () => kernels.tokenForward({ logits, labels, vocab: V, lse, logps, probs: grad }),
    () => kernels.tokenBackward({ labels, vocab: V, lse, gradLogps: u, probs: grad, grad }),
    'forward writes p into the gradient block; backward: no exp',
  );
  run(
    'arena, exp recomputed',
    () => kernels.tokenForward({ logits, labels, vocab: V, lse, logps }),
    () => kernels.tokenBackward({ logits, labels, vocab: V, lse, gradLogps: u, grad }),
    'two-pass forward with look-ahead max; backward recomputes exp',
  );
  run(
    'arena, online forward',
    () => kernels.tokenForward({ logits, labels, vocab: V, lse, logps, variant: 'online' }),
    () => kernels.tokenBackward({ logits, labels, vocab: V, lse, gradLogps: u, grad }),
    'blocked one-pass online max/sum forward; backward recomputes exp',
  );
  {
    // the first API: plain arrays, every call copies the logits in and the gradient out into a fresh array
    const legacy = K.createTokenLogProbsKernel({ precision: 32, threads });
    const plainLogits = new Float32Array(logits.view);
    const plainLabels = new Int32Array(labels.view);
    let res = null;
    run(
      'copies (legacy createTokenLogProbsKernel)',
      () => (res = legacy.forward(plainLogits, plainLabels, V, -100)) && logps.view.set(res.logps),
      () => legacy.backward(plainLogits, plainLabels, res.lse, new Float32Array(u.view), V, -100),
      'logits copied in each call, gradient copied out into a new array',
      false,
    );
    legacy.dispose();
  }
  // what the API adds over the kernels: one call on a tiny vocabulary (label checks, job, dispatch)
  const zeros = A.allocate('int32', R);
  zeros.view.fill(0);
  const tiny = time(() => kernels.tokenForward({ logits: logits.view.subarray(0, R * 2), labels: zeros, vocab: 2, lse, logps }), 20, 5);
  zeros.free();
  report.logits = { shape: [N, T, V], boundBytes: 3 * R * V * 4, boundMs, apiOverheadMs: tiny.min, rows };
  console.log(`## SimPO loss + gradient on logits [${N},${T},${V}] float32, ${kernels.threads} threads\n`);
  console.log(
    `C-style bound: ${bytesText(3 * R * V * 4)} (logits read twice, gradient written once) at ${fmt(bound / 1e9)} GB/s = ${fmt(boundMs)} ms. SimPO itself (JS, on [${N},${T}]) is inside the backward column.\n`,
  );
  console.log(
    '| path | forward ms | backward ms | total ms (median) | GB/s | × bound | new blocks / grows per call | staged bytes per call |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${fmt(r.forward.min)} | ${fmt(r.backward.min)} | ${fmt(r.total.min)} (${fmt(r.total.median)}) | ${fmt(r.gbPerSecond)} | ${r.boundRatio.toFixed(2)} | ${r.ownArena ? `${r.newBlocksPerCall} / ${r.growsPerCall}` : '(its own arena)'} | ${r.ownArena ? bytesText(r.stagedBytesPerCall) : `${bytesText(3 * R * V * 4)} (logits in twice, gradient out)`} |`,
    );
  }
  console.log(`\nAPI overhead (a call on [${R}, 2]): ${tiny.min.toFixed(3)} ms\n`);
  [logits, grad, labels, lse, logps, u].forEach((b) => b.free());
}

// ------------------------------------------------------------------ 3. hidden-state path
if (!flag('--no-hidden')) {
  const shapes = quick
    ? [[8 * 128, 64, 4096]]
    : [
        [8 * 128, 64, 4096],
        [8 * 256, 256, 32000],
        [4 * 512, 64, 128256],
      ];
  console.log(`## Hidden-state path (fused linear + log-probs), float32, ${kernels.threads} threads\n`);
  console.log(
    'Forward: 2·R·V·H flops; backward: 6·R·V·H (logits recomputed, dHidden, dWeight). Peak = arena bytes in use beyond the inputs and gradients.\n',
  );
  console.log('| shape [R] H V | path | forward ms | backward ms | fwd GFLOP/s | bwd GFLOP/s | peak extra | chunk fwd / bwd |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const A = kernels.arena;
  for (const [R, H, V] of shapes) {
    const hidden = A.allocate('float', R * H),
      weight = A.allocate('float', V * H),
      labels = A.allocate('int32', R);
    const lse = A.allocate('float', R),
      logps = A.allocate('float', R),
      u = A.allocate('float', R);
    const gH = A.allocate('float', R * H),
      gW = A.allocate('float', V * H);
    fill(hidden.view, 1, 2);
    fill(weight.view, 2, 0.5);
    labels.view.forEach((_, i, a) => (a[i] = i % 128 >= 120 ? -100 : (i * 7919) % V));
    u.view.forEach((_, i, a) => (a[i] = labels.view[i] === -100 ? 0 : -1 / R));
    const reps = R * V * H > 1e10 ? (quick ? 1 : 2) : quick ? 2 : 3;
    const flops = 2 * R * V * H;
    const shapeName = `[${R}] ${H} ${V}`;
    A.resetPeak();
    const base = A.stats().bytesInUse;
    const tf = time(() => kernels.linearForward({ hidden, weight, labels, hiddenSize: H, lse, logps }), reps);
    const tb = time(
      () => kernels.linearBackward({ hidden, weight, labels, hiddenSize: H, lse, gradLogps: u, gradHidden: gH, gradWeight: gW }),
      reps,
    );
    const peak = A.stats().peakBytesInUse - base;
    const fused = {
      shape: [R, H, V],
      path: 'fused (chunked)',
      forward: tf,
      backward: tb,
      fwdGflops: flops / tf.min / 1e6,
      bwdGflops: (3 * flops) / tb.min / 1e6,
      peakExtraBytes: peak,
      chunks: [kernels.linearChunkSize('forward', R, H, V), kernels.linearChunkSize('backward', R, H, V)],
    };
    report.hidden.push(fused);
    console.log(
      `| ${shapeName} | ${fused.path} | ${fmt(tf.min)} | ${fmt(tb.min)} | ${fmt(fused.fwdGflops)} | ${fmt(fused.bwdGflops)} | ${bytesText(peak)} | ${fused.chunks.join(' / ')} |`,
    );
    const logitsBytes = R * V * 4;
    if (!flag('--no-baseline') && 2 * logitsBytes + 2 * V * H * 4 + A.stats().reservedBytes < 3.8 * 2 ** 30) {
      // plain: Wᵀ once (untimed), z = h·Wᵀ [R, V], token kernels with the probs stash in dz, dH = dz·W, dW = dzᵀ·h
      const wt = A.allocate('float', H * V);
      for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) wt.view[h * V + v] = weight.view[v * H + h];
      A.resetPeak();
      const base2 = A.stats().bytesInUse;
      const z = A.allocate('float', R * V),
        dz = A.allocate('float', R * V);
      const bf = time(() => {
        kernels.matmul({ a: hidden, b: wt, c: z, m: R, n: V, k: H, aRowStride: H, aColStride: 1 });
        kernels.tokenForward({ logits: z, labels, vocab: V, lse, logps, probs: dz });
      }, reps);
      const bb = time(() => {
        kernels.tokenBackward({ labels, vocab: V, lse, gradLogps: u, probs: dz, grad: dz });
        kernels.matmul({ a: dz, b: weight, c: gH, m: R, n: H, k: V, aRowStride: V, aColStride: 1 });
        kernels.matmul({ a: dz, b: hidden, c: gW, m: V, n: H, k: R, aRowStride: 1, aColStride: V });
      }, reps);
      const peak2 = A.stats().peakBytesInUse - base2;
      const plain = {
        shape: [R, H, V],
        path: 'plain GEMM + logits kernels',
        forward: bf,
        backward: bb,
        fwdGflops: flops / bf.min / 1e6,
        bwdGflops: (2 * flops) / bb.min / 1e6,
        peakExtraBytes: peak2,
      };
      report.hidden.push(plain);
      console.log(
        `| ${shapeName} | ${plain.path} | ${fmt(bf.min)} | ${fmt(bb.min)} | ${fmt(plain.fwdGflops)} | ${fmt(plain.bwdGflops)} (4·RVH) | ${bytesText(peak2)} | full logits ${bytesText(logitsBytes)} |`,
      );
      (z.free(), dz.free(), wt.free());
    } else if (!flag('--no-baseline')) {
      console.log(`| ${shapeName} | plain GEMM + logits kernels | — | — | — | — | needs ${bytesText(2 * logitsBytes)} | does not fit |`);
    }
    [hidden, weight, labels, lse, logps, u, gH, gW].forEach((b) => b.free());
  }
  console.log('');
}
report.machine.loadAverageAtEnd = loadavg().map((x) => +x.toFixed(2));
console.log(`load average at the end: ${report.machine.loadAverageAtEnd.join(' / ')}`);
kernels.dispose();
const out = option('--json');
if (out) writeFileSync(out, JSON.stringify(report, null, 2));
