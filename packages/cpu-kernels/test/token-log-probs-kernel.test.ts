// The first API (`createTokenLogProbsKernel`), kept as a thin layer over `createCpuKernels`.
import { describe, expect, it, afterAll } from 'vitest';
import fc from 'fast-check';
import { createTokenLogProbsKernel, wasmSimdSupported, type TokenLogProbsKernel } from '../src';

/** Oracle: plain float64 JavaScript. */
function oracle(logits: ArrayLike<number>, labels: Int32Array, vocab: number, upstream: ArrayLike<number>, ignore: number) {
  const rows = labels.length;
  const lse = new Float64Array(rows);
  const logps = new Float64Array(rows);
  const grad = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, logits[r * vocab + v]);
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[r * vocab + v] - max);
    lse[r] = max + Math.log(sum);
    if (labels[r] === ignore) continue;
    logps[r] = logits[r * vocab + labels[r]] - lse[r];
    for (let v = 0; v < vocab; v++) grad[r * vocab + v] = -upstream[r] * Math.exp(logits[r * vocab + v] - lse[r]);
    grad[r * vocab + labels[r]] += upstream[r];
  }
  return { lse, logps, grad };
}

function worst(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): number {
  let w = 0;
  for (let i = 0; i < expected.length; i++) w = Math.max(w, Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i])));
  return w;
}

const caseArb = fc.record({
  rows: fc.integer({ min: 1, max: 9 }),
  vocab: fc.integer({ min: 1, max: 70 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  scale: fc.constantFrom(1, 10, 60),
});

function makeCase({ rows, vocab, seed, scale }: { rows: number; vocab: number; seed: number; scale: number }) {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const logits = Float64Array.from({ length: rows * vocab }, () => scale * (2 * rand() - 1));
  const labels = Int32Array.from({ length: rows }, () => (rand() < 0.2 ? -100 : Math.floor(rand() * vocab)));
  const upstream = Float64Array.from({ length: rows }, () => (rand() < 0.1 ? 0 : 2 * rand() - 1));
  return { logits, labels, upstream };
}

describe.skipIf(!wasmSimdSupported())('WebAssembly SIMD token log-prob kernels', () => {
  const kernels: TokenLogProbsKernel[] = [];
  const make = (precision: 32 | 64, threads: number) => {
    const k = createTokenLogProbsKernel({ precision, threads });
    kernels.push(k);
    return k;
  };
  afterAll(() => kernels.forEach((k) => k.dispose()));

  for (const [precision, rtol, atol] of [
    [64, 1e-13, 1e-15],
    [32, 2e-5, 1e-6],
  ] as const) {
    for (const threads of [1, 2]) {
      it(`float${precision}, ${threads} thread(s): forward and gradient match the float64 oracle`, () => {
        const kernel = make(precision, threads);
        expect(kernel.threads).toBe(threads);
        fc.assert(
          fc.property(caseArb, (c) => {
            const { logits, labels, upstream } = makeCase(c);
            // Log-probs near 0 come from lse − z with |lse| up to the logit scale, so in either
            // precision the absolute error is a few ulps of that scale, not of the result.
            const abs = atol * Math.max(1, c.scale);
            const want = oracle(
              precision === 32 ? Float32Array.from(logits) : logits,
              labels,
              c.vocab,
              precision === 32 ? Float32Array.from(upstream) : upstream,
              -100,
            );
            const input = precision === 32 ? Float32Array.from(logits) : logits;
            const up = precision === 32 ? Float32Array.from(upstream) : upstream;
            const { logps, lse } = kernel.forward(input, labels, c.vocab, -100);
            // ignored rows: lse is not specified (the kernels write 0 and never read those rows)
            const kept = (a: ArrayLike<number>) => Array.from(a).filter((_, r) => labels[r] !== -100);
            expect(worst(kept(lse), kept(want.lse), rtol, abs)).toBeLessThanOrEqual(1);
            expect(worst(logps, want.logps, rtol, abs)).toBeLessThanOrEqual(1);
            const grad = kernel.backward(input, labels, lse, up, c.vocab, -100);
            expect(worst(grad, want.grad, rtol, abs)).toBeLessThanOrEqual(1);
          }),
          { numRuns: 60 },
        );
      });
    }
  }

  it('splits large inputs over threads with the same result as one thread', () => {
    const c = { rows: 37, vocab: 4099, seed: 7, scale: 20 };
    const { logits, labels, upstream } = makeCase(c);
    const input = Float32Array.from(logits);
    const up = Float32Array.from(upstream);
    const one = make(32, 1);
    const two = make(32, 2);
    const a = one.forward(input, labels, c.vocab, -100);
    const b = two.forward(input, labels, c.vocab, -100);
    expect(Array.from(b.lse)).toEqual(Array.from(a.lse));
    expect(Array.from(two.backward(input, labels, b.lse, up, c.vocab, -100))).toEqual(
      Array.from(one.backward(input, labels, a.lse, up, c.vocab, -100)),
    );
  });

  it('extreme but finite logits stay finite and exact in float64', () => {
    const kernel = make(64, 1);
    const logits = Float64Array.from([1000, -1000, 0, 3, -700, 700, 1e-300, -5e-320]);
    const labels = Int32Array.from([1, 0]);
    const want = oracle(logits, labels, 4, [1, 1], -100);
    const { logps, lse } = kernel.forward(logits, labels, 4, -100);
    expect(worst(lse, want.lse, 1e-14, 1e-300)).toBeLessThanOrEqual(1);
    expect(worst(logps, want.logps, 1e-14, 1e-300)).toBeLessThanOrEqual(1);
    const grad = kernel.backward(logits, labels, lse, Float64Array.from([1, 1]), 4, -100);
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(worst(grad, want.grad, 1e-13, 1e-300)).toBeLessThanOrEqual(1);
  });
});

describe.skipIf(!wasmSimdSupported())('logits rewritten in place between calls', () => {
  it('every forward reads the current values (no stale copy of the same array)', () => {
    const kernel = createTokenLogProbsKernel({ precision: 32, threads: 1 });
    try {
      const logits = Float32Array.from([1, 2, 3, 4]);
      const labels = Int32Array.from([0]);
      const first = kernel.forward(logits, labels, 4, -100);
      kernel.backward(logits, labels, first.lse, Float32Array.of(1), 4, -100);
      logits.set([4, 3, 2, 1]);
      const second = kernel.forward(logits, labels, 4, -100);
      const want = oracle(logits, labels, 4, [1], -100);
      expect(second.logps[0]).toBeCloseTo(want.logps[0], 5);
      const grad = kernel.backward(logits, labels, second.lse, Float32Array.of(1), 4, -100);
      expect(worst(grad, want.grad, 1e-5, 1e-6)).toBeLessThanOrEqual(1);
    } finally {
      kernel.dispose();
    }
  });
});
