import { afterAll, describe, expect, it } from 'vitest';
import { createCpuKernels, oracle, wasmSimdSupported, type CpuKernels, type FloatArray } from '../src';
import { EPS, FloatOf, rng, worstRatio, worstRowRatio } from './helpers';

interface Case {
  rows: number;
  vocab: number;
  scale: number;
  seed: number;
}

function makeCase(precision: 32 | 64, { rows, vocab, scale, seed }: Case) {
  const next = rng(seed);
  const Float = FloatOf(precision);
  const logits = Float.from({ length: rows * vocab }, () => scale * (2 * next() - 1));
  const labels = Int32Array.from({ length: rows }, () => (next() < 0.2 ? -100 : Math.floor(next() * vocab)));
  // ignored rows hold garbage that must not leak anywhere
  for (let r = 0; r < rows; r++) if (labels[r] === -100) logits.fill(r % 2 ? NaN : Infinity, r * vocab, r * vocab + vocab);
  const u = Float.from({ length: rows }, () => (next() < 0.15 ? 0 : 2 * next() - 1));
  const e = Float.from({ length: rows }, (_, r) => (u[r] === 0 && next() < 0.5 ? 0 : 2 * next() - 1));
  return { logits, labels, u, e };
}

/**
 * Tolerances (normwise, see helpers.worstRatio): float64 1e-12; float32 from the error sources —
 * exp ≤ 2 ulp, its argument z − m or z − lse rounded (≤ 2·scale·ε), and a float32 sum of up to
 * V/16 terms per accumulator lane.
 */
const tolerance = (precision: 32 | 64, c: Case, kind: 'forward' | 'grad') =>
  precision === 64 ? 1e-12 : EPS[32] * (16 + (kind === 'grad' ? 8 : 4) * c.scale + c.vocab / 8);

const CASES: Case[] = [];
{
  const next = rng(20240611);
  for (let i = 0; i < 24; i++) {
    CASES.push({ rows: 1 + Math.floor(next() * 9), vocab: 1 + Math.floor(next() * 70), scale: [1, 10, 40][i % 3], seed: 1000 + i });
  }
  // vocabularies past the 4-vector loop and the online block (2048), odd tails, enough rows for threads
  CASES.push(
    { rows: 17, vocab: 4099, scale: 8, seed: 7 },
    { rows: 3, vocab: 2053, scale: 30, seed: 8 },
    { rows: 33, vocab: 2048, scale: 2, seed: 9 },
    { rows: 5, vocab: 6150, scale: 5, seed: 10 },
  );
}

describe.skipIf(!wasmSimdSupported())('token kernels against the float64 oracle', () => {
  const made: CpuKernels[] = [];
  afterAll(() => made.forEach((k) => k.dispose()));
  const kernels = new Map<string, CpuKernels>();
  const get = (precision: 32 | 64, threads: number) => {
    const key = `${precision}/${threads}`;
    if (!kernels.has(key)) {
      const k = createCpuKernels({ precision, threads });
      made.push(k);
      kernels.set(key, k);
    }
    return kernels.get(key)!;
  };

  for (const precision of [32, 64] as const) {
    for (const threads of [1, 2]) {
      it(`float${precision}, ${threads} thread(s): forward (both variants, entropy) and every backward form`, () => {
        const k = get(precision, threads);
        for (const c of CASES) {
          const { logits, labels, u, e } = makeCase(precision, c);
          const R = c.rows,
            V = c.vocab;
          const want = oracle.tokenForward(logits, labels, V);
          const tf = tolerance(precision, c, 'forward');
          const tg = tolerance(precision, c, 'grad');
          const where = `${JSON.stringify(c)}`;
          for (const variant of ['two-pass', 'online'] as const) {
            const got = k.tokenForward({ logits, labels, vocab: V, entropy: true, variant });
            expect(worstRatio(got.logps as FloatArray, want.logps, tf), `${where} ${variant} logps`).toBeLessThanOrEqual(1);
            expect(worstRatio(got.entropy as FloatArray, want.entropy, tf), `${where} ${variant} entropy`).toBeLessThanOrEqual(1);
            const lse = got.lse as FloatArray;
            for (let r = 0; r < R; r++) {
              if (labels[r] === -100) {
                expect(lse[r], where).toBe(0);
                expect((got.logps as FloatArray)[r]).toBe(0);
                expect((got.entropy as FloatArray)[r]).toBe(0);
              } else
                expect(Math.abs(lse[r] - want.lse[r]), `${where} lse[${r}]`).toBeLessThanOrEqual(tf * (Math.abs(want.lse[r]) + c.scale));
            }
          }
          // without entropy, the logps alone
          const plain = k.tokenForward({ logits, labels, vocab: V });
          expect(plain.entropy).toBeUndefined();
          expect(worstRatio(plain.logps as FloatArray, want.logps, tf)).toBeLessThanOrEqual(1);

          const Float = FloatOf(precision);
          const fwd = k.tokenForward({ logits, labels, vocab: V, entropy: true });
          const wantU = oracle.tokenBackward(logits, labels, V, u);
          const wantUE = oracle.tokenBackward(logits, labels, V, u, e);
          const scaleU = Array.from(u, Math.abs);
          const scaleUE = Array.from(u, (x, r) => Math.abs(x) + Math.abs(e[r]) * (1 + 2 * c.scale));
          const gradOk = (g: FloatArray, want: Float64Array, withE: boolean) => worstRowRatio(g, want, V, withE ? scaleUE : scaleU, tg);
          // recompute exp from the logits
          const g1 = new Float(R * V).fill(NaN);
          k.tokenBackward({ logits, labels, vocab: V, lse: fwd.lse, gradLogps: u, grad: g1 });
          expect(gradOk(g1, wantU, false), `${where} grad`).toBeLessThanOrEqual(1);
          const g2 = new Float(R * V).fill(NaN);
          k.tokenBackward({ logits, labels, vocab: V, lse: fwd.lse, entropy: fwd.entropy, gradLogps: u, gradEntropy: e, grad: g2 });
          expect(gradOk(g2, wantUE, true), `${where} grad with entropy`).toBeLessThanOrEqual(1);
          // the softmax stashed by the forward, then the gradient written over it
          const probs = new Float(R * V).fill(NaN);
          const sf = k.tokenForward({ logits, labels, vocab: V, entropy: true, probs });
          for (let r = 0; r < R; r++) {
            if (labels[r] === -100) continue;
            let s = 0;
            for (let v = 0; v < V; v++) s += probs[r * V + v];
            if (!(Math.abs(s - 1) <= (precision === 32 ? tf * 4 : 1e-12)))
              expect(Math.abs(s - 1), `${where} Σp`).toBeLessThanOrEqual(precision === 32 ? tf * 4 : 1e-12);
          }
          const g3 = Float.from(probs);
          k.tokenBackward({ labels, vocab: V, lse: sf.lse, gradLogps: u, probs: g3, grad: g3 });
          expect(gradOk(g3, wantU, false), `${where} grad from probs, in place`).toBeLessThanOrEqual(1);
          const g4 = new Float(R * V).fill(NaN);
          k.tokenBackward({ logits, labels, vocab: V, lse: sf.lse, entropy: sf.entropy, gradLogps: u, gradEntropy: e, probs, grad: g4 });
          expect(gradOk(g4, wantUE, true), `${where} grad with entropy from probs`).toBeLessThanOrEqual(1);
          // ignored rows and rows with u = e = 0 are exactly 0; nothing is NaN
          for (const g of [g1, g2, g3, g4]) {
            expect(g.some(Number.isNaN), where).toBe(false);
            for (let r = 0; r < R; r++) {
              if (labels[r] === -100 || (u[r] === 0 && (g === g1 || g === g3 || e[r] === 0))) {
                let exact = true;
                for (let v = 0; v < V; v++) exact &&= Object.is(g[r * V + v], 0);
                expect(exact, `${where} row ${r} is exactly 0`).toBe(true);
              }
            }
          }
        }
      });
    }
  }

  it('two threads give the same bits as one', () => {
    const c = { rows: 37, vocab: 4099, scale: 20, seed: 77 };
    for (const precision of [32, 64] as const) {
      const { logits, labels, u, e } = makeCase(precision, c);
      const out = [1, 2].map((threads) => {
        const k = get(precision, threads);
        const f = k.tokenForward({ logits, labels, vocab: c.vocab, entropy: true });
        const g = new (FloatOf(precision))(c.rows * c.vocab);
        k.tokenBackward({ logits, labels, vocab: c.vocab, lse: f.lse, entropy: f.entropy, gradLogps: u, gradEntropy: e, grad: g });
        return [Array.from(f.logps as FloatArray), Array.from(f.entropy as FloatArray), Array.from(g)];
      });
      expect(out[1]).toEqual(out[0]);
    }
  });

  it('float64: the backward is the derivative of the forward (central differences)', () => {
    const k = get(64, 1);
    for (const c of [
      { rows: 3, vocab: 5, scale: 3, seed: 5 },
      { rows: 2, vocab: 9, scale: 1, seed: 6 },
    ]) {
      const { logits, labels, u, e } = makeCase(64, c);
      for (let r = 0; r < c.rows; r++) if (labels[r] === -100) logits.fill(0.25, r * c.vocab, (r + 1) * c.vocab);
      const objective = (z: Float64Array) => {
        const f = k.tokenForward({ logits: z, labels, vocab: c.vocab, entropy: true });
        let s = 0;
        for (let r = 0; r < c.rows; r++) s += u[r] * (f.logps as Float64Array)[r] + e[r] * (f.entropy as Float64Array)[r];
        return s;
      };
      const f = k.tokenForward({ logits, labels, vocab: c.vocab, entropy: true });
      const grad = new Float64Array(logits.length);
      k.tokenBackward({ logits, labels, vocab: c.vocab, lse: f.lse, entropy: f.entropy, gradLogps: u, gradEntropy: e, grad });
      const numeric = new Float64Array(logits.length);
      for (let i = 0; i < logits.length; i++) {
        const h = 1e-5;
        const plus = Float64Array.from(logits);
        plus[i] += h;
        const minus = Float64Array.from(logits);
        minus[i] -= h;
        numeric[i] = (objective(plus) - objective(minus)) / (2 * h);
      }
      expect(worstRatio(grad, numeric, 1e-7)).toBeLessThanOrEqual(1);
    }
  });

  it('the inlined exp: the softmax stash is within a few ulp of the exact one', () => {
    // z − max over [−80, 0] (float32) and [−700, 0] (float64): p = exp(z − max)/S with S ≈ 1, so
    // the error of p is the exp's plus two roundings.
    for (const [precision, span, ulps] of [
      [32, 80, 4],
      [64, 700, 6],
    ] as const) {
      const k = get(precision, 1);
      const V = 4001;
      const Float = FloatOf(precision);
      const logits = Float.from({ length: V }, (_, v) => (v === 0 ? 0 : -span * (v / V) - 1e-3 * (v % 7)));
      const probs = new Float(V);
      k.tokenForward({ logits, labels: Int32Array.of(0), vocab: V, probs });
      // max z = 0, so exp(z) needs no shift (a shifted float64 reference would itself be off by
      // |z|·ε); Math.exp is within an ulp
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[v]);
      let worst = 0;
      for (let v = 0; v < V; v++) {
        const exact = Math.exp(logits[v]) / sum;
        if (exact < (precision === 32 ? 1e-37 : 1e-300)) continue;
        worst = Math.max(worst, Math.abs(probs[v] - exact) / (exact * EPS[precision]));
      }
      expect(worst, `float${precision}: worst error in ulp`).toBeLessThanOrEqual(ulps);
    }
  });

  it('extreme but finite float64 logits stay finite and match the oracle', () => {
    const k = get(64, 1);
    const logits = Float64Array.from([1000, -1000, 0, 3, -700, 700, 1e-300, -5e-320]);
    const labels = Int32Array.from([1, 0]);
    const want = oracle.tokenForward(logits, labels, 4);
    const f = k.tokenForward({ logits, labels, vocab: 4, entropy: true });
    expect(worstRatio(f.logps as Float64Array, want.logps, 1e-14)).toBeLessThanOrEqual(1);
    const grad = new Float64Array(8);
    k.tokenBackward({ logits, labels, vocab: 4, lse: f.lse, gradLogps: Float64Array.of(1, 1), grad });
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(worstRatio(grad, oracle.tokenBackward(logits, labels, 4, [1, 1]), 1e-13)).toBeLessThanOrEqual(1);
  });

  it('explains what a backward is missing', () => {
    const k = get(32, 1);
    const labels = Int32Array.of(0);
    const lse = Float32Array.of(0);
    const g = new Float32Array(2);
    expect(() => k.tokenBackward({ labels, vocab: 2, lse, gradLogps: Float32Array.of(1), grad: g })).toThrow(/logits are needed/);
    expect(() =>
      k.tokenBackward({
        logits: new Float32Array(2),
        labels,
        vocab: 2,
        lse,
        gradLogps: Float32Array.of(1),
        gradEntropy: Float32Array.of(1),
        grad: g,
      }),
    ).toThrow(/entropy/);
    expect(() => k.tokenForward({ logits: new Float32Array(2), labels, vocab: 0 })).toThrow(/vocab/);
  });
});
