import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { backward, TensorOps, type PrefBackend } from '@pref/core';
import { log1mexp, LOG1MEXP_MAX_INPUT } from '../src';

/**
 * log(1 − eˣ) computed independently: the series −Σ e^{kx}/k where eˣ < 1/2 (it converges
 * fast there), else log(−expm1(x)) (expm1 is exact-to-rounding near 0).
 */
function expectedLog1mexp(x: number): number {
  const e = Math.exp(x);
  if (e >= 0.5) return Math.log(-Math.expm1(x));
  let sum = 0;
  let power = e;
  for (let k = 1; k <= 60; k++, power *= e) sum -= power / k;
  return sum;
}

/** log1mexp and its gradient at each x, on the reference backend. */
async function evaluate(xs: readonly number[], precision: 32 | 64 = 64): Promise<{ values: number[]; grads: number[] }> {
  const backend: PrefBackend = createReferenceBackend({ precision });
  const ops = new TensorOps(backend);
  const x = ops.wrap(backend.fromHost(Float64Array.from(xs), [xs.length]), 'x');
  const y = log1mexp(ops, x);
  const [grad] = backward(ops, ops.sum(y), [x]);
  const [values, grads] = await backend.read([y.value, grad!.value]);
  ops.disposeAll();
  return { values: Array.from(values, Number), grads: Array.from(grads, Number) };
}

describe('log1mexp', () => {
  it('equals log(1 − eˣ) and its derivative −eˣ/(1 − eˣ) across the range, on both branches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.double({ min: -700, max: -1e-12, noNaN: true }), fc.double({ min: -2, max: -1e-6, noNaN: true })), {
          minLength: 1,
          maxLength: 8,
        }),
        async (xs) => {
          const { values, grads } = await evaluate(xs);
          xs.forEach((x, i) => {
            const expected = expectedLog1mexp(x);
            expect(Math.abs(values[i] - expected)).toBeLessThanOrEqual(1e-13 * Math.abs(expected));
            const derivative = -Math.exp(x) / -Math.expm1(x);
            expect(Math.abs(grads[i] - derivative)).toBeLessThanOrEqual(1e-9 * Math.abs(derivative) + 1e-300);
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  it('is finite with a finite gradient for every input, including 0, values above 0 and −∞-like ones', async () => {
    const xs = [0, 1e-6, 5, -0, -1e-300, -1e-40, -1e-30, -Math.LN2, -Math.LN2 * (1 + 1e-12), -Math.LN2 * (1 - 1e-12), -800, -1e300];
    for (const precision of [64, 32] as const) {
      const { values, grads } = await evaluate(xs, precision);
      values.forEach((v, i) => expect(Number.isFinite(v), `value at ${xs[i]} (float${precision})`).toBe(true));
      grads.forEach((g, i) => expect(Number.isFinite(g), `gradient at ${xs[i]} (float${precision})`).toBe(true));
    }
    const { values, grads } = await evaluate([0, 1e-6]);
    expect(values).toEqual([Math.log(-Math.expm1(LOG1MEXP_MAX_INPUT)), Math.log(-Math.expm1(LOG1MEXP_MAX_INPUT))]);
    expect(grads.map(Math.abs)).toEqual([0, 0]);
  });

  it('float32 keeps full relative accuracy near 0 where log1p(−eˣ) would not', async () => {
    const xs = [-1e-7, -1e-4, -0.5, -5, -50];
    const { values } = await evaluate(xs, 32);
    xs.forEach((x, i) => expect(Math.abs(values[i] / expectedLog1mexp(x) - 1)).toBeLessThan(1e-6));
  });
});
