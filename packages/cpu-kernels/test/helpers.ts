import type { FloatArray } from '../src';

/** A deterministic generator in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const EPS = { 32: 2 ** -23, 64: 2 ** -52 } as const;
export interface FloatConstructor {
  new (length: number): FloatArray;
  from(values: ArrayLike<number> | Iterable<number>): FloatArray;
  from<T>(values: ArrayLike<T>, map: (value: T, index: number) => number): FloatArray;
}
export const FloatOf = (precision: 32 | 64): FloatConstructor =>
  (precision === 32 ? Float32Array : Float64Array) as unknown as FloatConstructor;

/**
 * Worst error ratio of `actual` against `expected`, normwise like the benchmarks:
 * |a − e| ≤ rtol·(|e| + max|e|). ≤ 1 passes.
 */
export function worstRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, floor = 0): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) return Infinity;
    const bound = rtol * (Math.abs(expected[i]) + scale) + floor;
    worst = Math.max(worst, err === 0 ? 0 : bound === 0 ? Infinity : err / bound);
  }
  return worst;
}

/** Values rounded to the precision (so the float64 oracle sees exactly what the kernel sees). */
export function rounded(precision: 32 | 64, values: ArrayLike<number>): FloatArray {
  return FloatOf(precision).from(values as ArrayLike<number>);
}

/**
 * Worst error ratio of a `[rows, vocab]` gradient, |a − e| ≤ rtol·(|e| + rowScale[r]): a logits
 * gradient u·(δ − p) + ... has the absolute error of its row's upstream scale (1 − p cancels).
 */
export function worstRowRatio(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  vocab: number,
  rowScale: ArrayLike<number>,
  rtol: number,
): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) return Infinity;
    const err = Math.abs(actual[i] - expected[i]);
    const bound = rtol * (Math.abs(expected[i]) + rowScale[Math.floor(i / vocab)]);
    worst = Math.max(worst, err === 0 ? 0 : bound === 0 ? Infinity : err / bound);
  }
  return worst;
}
