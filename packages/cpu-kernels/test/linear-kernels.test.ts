import { afterAll, describe, expect, it } from 'vitest';
import { createCpuKernels, oracle, wasmSimdSupported, type CpuKernels, type FloatArray } from '../src';
import { EPS, FloatOf, rng, worstRatio, worstRowRatio } from './helpers';

interface Case {
  rows: number;
  hidden: number;
  vocab: number;
  bias: boolean;
  softcap: number;
  scale: number;
  entropy: boolean;
  chunk?: number;
  seed: number;
}

function makeCase(precision: 32 | 64, c: Case) {
  const next = rng(c.seed);
  const Float = FloatOf(precision);
  const hidden = Float.from({ length: c.rows * c.hidden }, () => 2 * next() - 1);
  const weight = Float.from({ length: c.vocab * c.hidden }, () => (2 * next() - 1) * (3 / Math.sqrt(c.hidden)));
  const bias = c.bias ? Float.from({ length: c.vocab }, () => next() - 0.5) : undefined;
  const labels = Int32Array.from({ length: c.rows }, () => (next() < 0.2 ? -100 : Math.floor(next() * c.vocab)));
  // ignored rows hold garbage that must not leak anywhere
  for (let r = 0; r < c.rows; r++) if (labels[r] === -100) hidden.fill(r % 2 ? NaN : -Infinity, r * c.hidden, (r + 1) * c.hidden);
  const u = Float.from({ length: c.rows }, () => (next() < 0.15 ? 0 : 2 * next() - 1));
  const e = c.entropy ? Float.from({ length: c.rows }, () => 2 * next() - 1) : undefined;
  return { hidden, weight, bias, labels, u, e };
}

/** float64 1e-12 (normwise); float32 from a length-H dot product and the token-kernel error sources. */
const tolerance = (precision: 32 | 64, c: Case) =>
  precision === 64 ? 1e-12 : EPS[32] * (32 + 4 * c.hidden + c.vocab / 8 + 8 * Math.min(c.softcap || 30, 30));

const CASES: Case[] = [];
{
  const next = rng(99);
  for (let i = 0; i < 16; i++) {
    CASES.push({
      rows: 1 + Math.floor(next() * 13),
      hidden: 1 + Math.floor(next() * 21),
      vocab: 1 + Math.floor(next() * 90),
      bias: i % 2 === 0,
      softcap: i % 4 < 2 ? 0 : 2 + 10 * next(),
      scale: i % 3 === 0 ? 1 : 0.7 + next(),
      entropy: i % 3 !== 1,
      chunk: i % 5 === 0 ? undefined : 1 + Math.floor(next() * 40),
      seed: 500 + i,
    });
  }
  // past one micro-kernel tile in every direction, several chunks, enough work for two threads
  CASES.push({ rows: 23, hidden: 37, vocab: 301, bias: true, softcap: 15, scale: 1.5, entropy: true, chunk: 64, seed: 1 });
  CASES.push({ rows: 70, hidden: 64, vocab: 1000, bias: false, softcap: 0, scale: 1, entropy: false, seed: 2 });
  CASES.push({ rows: 41, hidden: 48, vocab: 700, bias: true, softcap: 30, scale: 2, entropy: true, chunk: 88, seed: 3 });
}

describe.skipIf(!wasmSimdSupported())('hidden-state (linear) kernels against the float64 oracle', () => {
  const made = new Map<string, CpuKernels>();
  afterAll(() => made.forEach((k) => k.dispose()));
  const get = (precision: 32 | 64, threads: number) => {
    const key = `${precision}/${threads}`;
    if (!made.has(key)) made.set(key, createCpuKernels({ precision, threads }));
    return made.get(key)!;
  };

  for (const precision of [32, 64] as const) {
    for (const threads of [1, 2]) {
      it(`float${precision}, ${threads} thread(s): logps, lse, entropy and dHidden, dWeight, dBias`, () => {
        const k = get(precision, threads);
        const Float = FloatOf(precision);
        for (const c of CASES) {
          const { hidden, weight, bias, labels, u, e } = makeCase(precision, c);
          const spec = { hidden, weight, bias, labels, hiddenSize: c.hidden, vocab: c.vocab, logitScale: c.scale, softcap: c.softcap };
          const where = JSON.stringify(c);
          const tol = tolerance(precision, c);
          const want = oracle.linearForward(spec);
          const got = k.linearForward({ ...spec, entropy: c.entropy, chunkSize: c.chunk });
          expect(worstRatio(got.logps as FloatArray, want.logps, tol), `${where} logps`).toBeLessThanOrEqual(1);
          expect(worstRatio(got.lse as FloatArray, want.lse, tol), `${where} lse`).toBeLessThanOrEqual(1);
          if (c.entropy) expect(worstRatio(got.entropy as FloatArray, want.entropy, tol), `${where} entropy`).toBeLessThanOrEqual(1);
          else expect(got.entropy).toBeUndefined();

          const wantG = oracle.linearBackward({ ...spec, gradLogps: u, gradEntropy: e });
          const gH = new Float(c.rows * c.hidden).fill(NaN);
          const gW = new Float(c.vocab * c.hidden).fill(NaN);
          const gB = new Float(c.vocab).fill(NaN);
          k.linearBackward({
            ...spec,
            lse: got.lse,
            entropy: got.entropy,
            gradLogps: u,
            gradEntropy: e,
            gradHidden: gH,
            gradWeight: gW,
            gradBias: gB,
            chunkSize: c.chunk,
          });
          // dz has its row's upstream scale; dH and dW sum dz over V and over rows.
          let upstream = 0;
          for (let r = 0; r < c.rows; r++)
            if (labels[r] !== -100) upstream = Math.max(upstream, Math.abs(u[r]) + (e ? Math.abs(e[r]) * 4 : 0));
          const wScale = Array.from(weight, Math.abs).reduce((a, b) => Math.max(a, b), 0);
          const rowScale = Array.from({ length: c.rows }, () => upstream * c.scale * wScale);
          expect(worstRowRatio(gH, wantG.gradHidden, c.hidden, rowScale, tol), `${where} dHidden`).toBeLessThanOrEqual(1);
          expect(
            worstRowRatio(gW, wantG.gradWeight, c.hidden, Array(c.vocab).fill(upstream * c.scale), tol),
            `${where} dWeight`,
          ).toBeLessThanOrEqual(1);
          expect(worstRowRatio(gB, wantG.gradBias, 1, Array(c.vocab).fill(upstream * c.scale), tol), `${where} dBias`).toBeLessThanOrEqual(
            1,
          );
          for (const g of [gH, gW, gB]) expect(g.some(Number.isNaN), `${where} NaN`).toBe(false);
          for (let r = 0; r < c.rows; r++) {
            if (labels[r] === -100 || (u[r] === 0 && (!e || e[r] === 0))) {
              expect(
                Array.from(gH.subarray(r * c.hidden, (r + 1) * c.hidden)).every((x) => Object.is(x, 0)),
                `${where} row ${r}`,
              ).toBe(true);
            }
          }
          // accumulate: adds to what is there; omitted outputs are not computed
          const acc = Float.from(gW);
          const accH = Float.from(gH);
          k.linearBackward({
            ...spec,
            lse: got.lse,
            entropy: got.entropy,
            gradLogps: u,
            gradEntropy: e,
            gradWeight: acc,
            gradHidden: accH,
            accumulate: true,
            chunkSize: c.chunk,
          });
          expect(
            worstRatio(
              acc,
              Array.from(gW, (x) => 2 * x),
              4 * EPS[precision],
            ),
          ).toBeLessThanOrEqual(1);
          expect(
            worstRatio(
              accH,
              Array.from(gH, (x) => 2 * x),
              4 * EPS[precision],
            ),
          ).toBeLessThanOrEqual(1);
        }
      });
    }
  }

  it('the chunking does not change the results beyond rounding; two threads match one', () => {
    const c: Case = { rows: 29, hidden: 33, vocab: 517, bias: true, softcap: 20, scale: 1.2, entropy: true, seed: 11 };
    const { hidden, weight, bias, labels, u, e } = makeCase(64, c);
    const spec = { hidden, weight, bias, labels, hiddenSize: c.hidden, logitScale: c.scale, softcap: c.softcap };
    const results = [
      [1, 8],
      [1, 100],
      [2, 13],
      [2, undefined],
    ].map(([threads, chunkSize]) => {
      const k = get(64, threads!);
      const f = k.linearForward({ ...spec, entropy: true, chunkSize });
      const gW = new Float64Array(c.vocab * c.hidden);
      const gH = new Float64Array(c.rows * c.hidden);
      k.linearBackward({
        ...spec,
        lse: f.lse,
        entropy: f.entropy,
        gradLogps: u,
        gradEntropy: e,
        gradWeight: gW,
        gradHidden: gH,
        chunkSize,
      });
      return { logps: f.logps as Float64Array, gW, gH };
    });
    for (const r of results.slice(1)) {
      expect(worstRatio(r.logps, results[0].logps, 1e-14)).toBeLessThanOrEqual(1);
      expect(worstRatio(r.gW, results[0].gW, 1e-14)).toBeLessThanOrEqual(1);
      expect(worstRatio(r.gH, results[0].gH, 1e-14)).toBeLessThanOrEqual(1);
    }
  });

  it('float64: the backward is the derivative of the forward (central differences, softcap and bias on)', () => {
    const k = get(64, 1);
    const c: Case = { rows: 3, hidden: 4, vocab: 7, bias: true, softcap: 3, scale: 1.3, entropy: true, seed: 21 };
    const { hidden, weight, bias, labels, u, e } = makeCase(64, c);
    for (let r = 0; r < c.rows; r++) if (labels[r] === -100) labels[r] = r;
    hidden.forEach((x, i) => (hidden[i] = Number.isFinite(x) ? x : 0.3));
    const objective = (h: Float64Array, w: Float64Array, b: Float64Array) => {
      const f = k.linearForward({
        hidden: h,
        weight: w,
        bias: b,
        labels,
        hiddenSize: c.hidden,
        logitScale: c.scale,
        softcap: c.softcap,
        entropy: true,
        chunkSize: 4,
      });
      let s = 0;
      for (let r = 0; r < c.rows; r++) s += u[r] * (f.logps as Float64Array)[r] + e![r] * (f.entropy as Float64Array)[r];
      return s;
    };
    const f = k.linearForward({
      hidden,
      weight,
      bias,
      labels,
      hiddenSize: c.hidden,
      logitScale: c.scale,
      softcap: c.softcap,
      entropy: true,
    });
    const gH = new Float64Array(hidden.length),
      gW = new Float64Array(weight.length),
      gB = new Float64Array(bias!.length);
    k.linearBackward({
      hidden,
      weight,
      bias,
      labels,
      hiddenSize: c.hidden,
      logitScale: c.scale,
      softcap: c.softcap,
      lse: f.lse,
      entropy: f.entropy,
      gradLogps: u,
      gradEntropy: e,
      gradHidden: gH,
      gradWeight: gW,
      gradBias: gB,
      chunkSize: 4,
    });
    const numeric = (which: 0 | 1 | 2) => {
      const base = [hidden, weight, bias!][which];
      return Float64Array.from(base, (_, i) => {
        const h = 1e-5;
        const args = [hidden, weight, bias!].map((a) => Float64Array.from(a));
        args[which][i] += h;
        const plus = objective(args[0], args[1], args[2]);
        args[which][i] -= 2 * h;
        return (plus - objective(args[0], args[1], args[2])) / (2 * h);
      });
    };
    expect(worstRatio(gH, numeric(0), 1e-7)).toBeLessThanOrEqual(1);
    expect(worstRatio(gW, numeric(1), 1e-7)).toBeLessThanOrEqual(1);
    expect(worstRatio(gB, numeric(2), 1e-7)).toBeLessThanOrEqual(1);
  });

  it('never holds [rows, vocab]: a 128256-entry vocabulary stays within the scratch budget', () => {
    const k = get(32, 2);
    const R = 256,
      H = 16,
      V = 128256;
    const A = k.arena;
    const hidden = A.allocate('float', R * H),
      weight = A.allocate('float', V * H),
      labels = A.allocate('int32', R);
    const gH = A.allocate('float', R * H),
      gW = A.allocate('float', V * H),
      lse = A.allocate('float', R),
      logps = A.allocate('float', R),
      u = A.allocate('float', R);
    const next = rng(4);
    hidden.view.forEach((_, i, a) => (a[i] = next() - 0.5));
    weight.view.forEach((_, i, a) => (a[i] = next() - 0.5));
    labels.view.forEach((_, i, a) => (a[i] = (i * 4999) % V));
    u.view.fill(1);
    A.resetPeak();
    const base = A.stats().bytesInUse;
    k.linearForward({ hidden, weight, labels, hiddenSize: H, lse, logps, scratchBytes: 8 << 20 });
    k.linearBackward({ hidden, weight, labels, hiddenSize: H, lse, gradLogps: u, gradHidden: gH, gradWeight: gW, scratchBytes: 8 << 20 });
    const extra = A.stats().peakBytesInUse - base;
    const logitsBytes = R * V * 4;
    expect(extra).toBeLessThan((8 << 20) * 1.3 + 4 * R * H * 4 + 2 * (V + 64) * 4);
    expect(extra).toBeLessThan(logitsBytes / 8);
    // spot-check one row against the oracle
    const r = 5;
    const z = Array.from({ length: V }, (_, v) => {
      let s = 0;
      for (let h = 0; h < H; h++) s += hidden.view[r * H + h] * weight.view[v * H + h];
      return s;
    });
    const m = z.reduce((a, b) => Math.max(a, b), -Infinity);
    const want = z[labels.view[r]] - (m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0)));
    expect(Math.abs(logps.view[r] - want)).toBeLessThan(1e-4);
  });

  it("matmul (the benchmark's plain GEMM) matches a naive product, with A transposed and accumulate", () => {
    for (const precision of [32, 64] as const) {
      const k = get(precision, 2);
      const next = rng(precision);
      for (const [m, n, kk] of [
        [1, 1, 1],
        [5, 9, 3],
        [37, 70, 301],
        [64, 130, 40],
      ]) {
        const A = k.arena.allocate('float', m * kk),
          B = k.arena.allocate('float', kk * n),
          C = k.arena.allocate('float', m * n);
        A.view.forEach((_, i, a) => (a[i] = next() - 0.5));
        B.view.forEach((_, i, a) => (a[i] = next() - 0.5));
        const want = new Float64Array(m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) for (let l = 0; l < kk; l++) want[i * n + j] += A.view[i * kk + l] * B.view[l * n + j];
        k.matmul({ a: A, b: B, c: C, m, n, k: kk, aRowStride: kk, aColStride: 1 });
        const tol = precision === 64 ? 1e-13 : EPS[32] * 4 * kk;
        expect(worstRatio(C.view, want, tol)).toBeLessThanOrEqual(1);
        // Aᵀ stored as [k × m]: the same product through swapped strides, accumulated onto C
        const At = k.arena.allocate('float', kk * m);
        for (let i = 0; i < m; i++) for (let l = 0; l < kk; l++) At.view[l * m + i] = A.view[i * kk + l];
        k.matmul({ a: At, b: B, c: C, m, n, k: kk, aRowStride: 1, aColStride: m, accumulate: true });
        expect(
          worstRatio(
            C.view,
            Array.from(want, (x) => 2 * x),
            tol,
          ),
        ).toBeLessThanOrEqual(1);
        [A, B, C, At].forEach((x) => x.free());
      }
    }
  });

  it('refuses mismatched shapes and a bad softcap', () => {
    const k = get(32, 1);
    const labels = Int32Array.of(0, 1);
    expect(() => k.linearForward({ hidden: new Float32Array(6), weight: new Float32Array(7), labels, hiddenSize: 3 })).toThrow(/vocab/);
    expect(() => k.linearForward({ hidden: new Float32Array(5), weight: new Float32Array(9), labels, hiddenSize: 3 })).toThrow(
      /hidden has 5/,
    );
    expect(() => k.linearForward({ hidden: new Float32Array(6), weight: new Float32Array(9), labels, hiddenSize: 3, softcap: -1 })).toThrow(
      /softcap/,
    );
    expect(() =>
      k.linearForward({ hidden: new Float32Array(6), weight: new Float32Array(9), labels: Int32Array.of(0, 3), hiddenSize: 3 }),
    ).toThrow(/labels\[1\] = 3/);
  });
});
