import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TensorOps, type Tensor } from '@pref/core';
import { backend, evaluate, gradientMismatch, type HostInput } from './grad-check';

const ops = () => new TensorOps(backend);
async function values(t: Tensor): Promise<number[]> {
  return Array.from((await backend.read([t.value]))[0]);
}
const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 });
const tensorArb = (shape: number[], min = -4, max = 4): fc.Arbitrary<HostInput> =>
  fc
    .array(fc.double({ min, max, noNaN: true }), {
      minLength: shape.reduce((a, b) => a * b, 1),
      maxLength: shape.reduce((a, b) => a * b, 1),
    })
    .map((data) => ({ data, shape }));
/** A shape and one it broadcasts with (some axes set to 1, maybe fewer leading axes). */
const broadcastPairArb = shapeArb.chain((shape) =>
  fc
    .tuple(
      fc.constant(shape),
      fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      fc.integer({ min: 0, max: shape.length - 1 }),
    )
    .map(([s, ones, drop]) => [s, s.map((d, i) => (ones[i] ? 1 : d)).slice(drop)] as const),
);
/** Weighted sum so every output element gets a different gradient. */
const weighted = (t: Tensor, o: TensorOps) =>
  o.sum(
    o.mul(
      t,
      o.constant(
        Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.3 + 0.7 * Math.sin(i + 1)),
        t.shape,
      ),
    ),
  );

describe('forward values against hand-computed ones', () => {
  it('unary ops', async () => {
    const o = ops();
    const x = o.constant([-30, -1, 0, 2, 40], [5]);
    expect(await values(o.softplus(x))).toEqual([
      Math.log1p(Math.exp(-30)),
      Math.log1p(Math.exp(-1)),
      Math.LN2,
      2 + Math.log1p(Math.exp(-2)),
      40 + Math.log1p(Math.exp(-40)),
    ]);
    expect(await values(o.logSigmoid(x))).toEqual([
      -30 - Math.log1p(Math.exp(-30)),
      -Math.log1p(Math.exp(1)),
      -Math.LN2,
      -Math.log1p(Math.exp(-2)),
      -Math.log1p(Math.exp(-40)),
    ]);
    expect(await values(o.sigmoid(x))).toEqual([
      Math.exp(-30) / (1 + Math.exp(-30)),
      Math.exp(-1) / (1 + Math.exp(-1)),
      0.5,
      1 / (1 + Math.exp(-2)),
      1 / (1 + Math.exp(-40)),
    ]);
    expect(await values(o.relu(x))).toEqual([0, 0, 0, 2, 40]);
    expect(await values(o.abs(x))).toEqual([30, 1, 0, 2, 40]);
    expect(await values(o.expm1(o.constant([1e-10], [1])))).toEqual([Math.expm1(1e-10)]);
  });

  it('broadcasting binary ops, comparisons and where', async () => {
    const o = ops();
    const a = o.constant([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = o.constant([10, 20, 30], [3]);
    const c = o.constant([100, 200], [2, 1]);
    expect(await values(o.add(a, b))).toEqual([11, 22, 33, 14, 25, 36]);
    expect(await values(o.sub(a, c))).toEqual([-99, -98, -97, -196, -195, -194]);
    expect(await values(o.pow(a, 2))).toEqual([1, 4, 9, 16, 25, 36]);
    expect(await values(o.greater(a, 3))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(await values(o.where(o.less(a, 3), a, b))).toEqual([1, 2, 30, 10, 20, 30]);
    expect(await values(o.maximum(a, o.constant([2, 2, 5], [3])))).toEqual([2, 2, 5, 4, 5, 6]);
  });

  it('reductions, reshape, slice, concat', async () => {
    const o = ops();
    const a = o.constant([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(await values(o.sum(a, 1))).toEqual([6, 15]);
    expect(await values(o.sum(a, 0, true))).toEqual([5, 7, 9]);
    expect(await values(o.mean(a))).toEqual([3.5]);
    expect(await values(o.max(a, 0))).toEqual([4, 5, 6]);
    expect(await values(o.slice(a, [0, 1], [2, 2]))).toEqual([2, 3, 5, 6]);
    expect(await values(o.concat([a, o.constant([7, 8], [2, 1])], 1))).toEqual([1, 2, 3, 7, 4, 5, 6, 8]);
    expect(o.reshape(a, [3, 2]).shape).toEqual([3, 2]);
  });

  it('argsort, gather, scatterAdd, sort', async () => {
    const o = ops();
    const x = o.constant([3, 1, 2, 1], [4]);
    expect(await values(o.argsort(x))).toEqual([1, 3, 2, 0]);
    expect(await values(o.sort(x))).toEqual([1, 1, 2, 3]);
    const idx = o.constantInt(Int32Array.from([2, 0, 2]), [3]);
    expect(await values(o.gather(x, idx))).toEqual([2, 3, 2]);
    expect(await values(o.scatterAdd([4], idx, o.constant([1, 10, 100], [3])))).toEqual([10, 0, 101, 0]);
  });

  it('fused token log-probs: label logit minus logsumexp, 0 where ignored', async () => {
    const o = ops();
    const logits = o.constant([1, 2, 3, 0, 0, 0, 1000, -1000, 0], [1, 3, 3]);
    const labels = o.constantInt(Int32Array.from([2, -100, 0]), [1, 3]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const got = await values(o.tokenLogProbs(logits, labels));
    expect(got[0]).toBeCloseTo(3 - lse, 15);
    expect(got[1]).toBe(0);
    expect(got[2]).toBe(0); // 1000 − logsumexp(1000, −1000, 0) underflows to exactly 0, never NaN
  });
});

describe('gradient rules against central finite differences (float64)', () => {
  const unary = ['neg', 'exp', 'expm1', 'sigmoid', 'softplus', 'logSigmoid', 'square', 'abs', 'relu'] as const;
  for (const name of unary) {
    it(`${name}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb.chain((s) => tensorArb(s, -4, 4)),
          async (x) => {
            // Away from the kinks of abs and relu.
            fc.pre(name !== 'abs' && name !== 'relu' ? true : x.data.every((v) => Math.abs(v) > 1e-3));
            expect(await gradientMismatch((o, [t]) => weighted(o[name](t), o), [x])).toBeLessThanOrEqual(1);
          },
        ),
        { numRuns: 15 },
      );
    });
  }
  for (const [name, low] of [
    ['log', 0.05],
    ['sqrt', 0.05],
    ['log1p', -0.9],
  ] as const) {
    it(`${name} inside its domain`, async () => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb.chain((s) => tensorArb(s, low, 5)),
          async (x) => {
            expect(await gradientMismatch((o, [t]) => weighted(o[name](t), o), [x])).toBeLessThanOrEqual(1);
          },
        ),
        { numRuns: 15 },
      );
    });
  }
  it('extreme but finite values keep softplus, logSigmoid and sigmoid gradients finite and exact', async () => {
    const x = { data: [-700, -60, 60, 700], shape: [4] };
    for (const name of ['softplus', 'logSigmoid', 'sigmoid'] as const) {
      expect(await gradientMismatch((o, [t]) => weighted(o[name](t), o), [x], 1e-6, 1e-12)).toBeLessThanOrEqual(1);
    }
  });
  for (const name of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
    it(`${name} with broadcasting`, async () => {
      await fc.assert(
        fc.asyncProperty(
          broadcastPairArb.chain(([sa, sb]) => fc.tuple(tensorArb(sa), tensorArb(sb, 0.5, 3))),
          fc.boolean(),
          async ([a, b], swap) => {
            const inputs = swap ? [b, a] : [a, b];
            if (name === 'div') fc.pre(inputs[1].data.every((v) => Math.abs(v) > 0.3));
            if (name === 'maximum' || name === 'minimum') {
              // Away from ties.
              fc.pre(a.data.every((v) => b.data.every((w) => Math.abs(v - w) > 1e-3)));
            }
            expect(await gradientMismatch((o, [x, y]) => weighted(o[name](x, y), o), inputs)).toBeLessThanOrEqual(1);
          },
        ),
        { numRuns: 15 },
      );
    });
  }
  it('pow with respect to base and exponent', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb.chain((s) => fc.tuple(tensorArb(s, 0.2, 3), tensorArb(s, -2, 3))),
        async ([a, b]) => {
          expect(await gradientMismatch((o, [x, y]) => weighted(o.pow(x, y), o), [a, b])).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 15 },
    );
  });
  it('where with masks and broadcasting', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb.chain((s) =>
          fc.tuple(
            tensorArb(s),
            tensorArb(s),
            fc
              .array(fc.constantFrom(0, 1), { minLength: s.reduce((a, b) => a * b, 1), maxLength: s.reduce((a, b) => a * b, 1) })
              .map((d) => ({ data: d, shape: s })),
          ),
        ),
        async ([a, b, m]) => {
          expect(
            await gradientMismatch((o, [x, y]) => weighted(o.where(o.constant(m.data, m.shape), x, o.mean(y)), o), [a, b]),
          ).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 15 },
    );
  });
  it('sum, mean and max over random axes, with and without keepDims', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb.chain((s) =>
          fc.tuple(
            tensorArb(s),
            fc.subarray(
              s.map((_, i) => i),
              { minLength: 1 },
            ),
            fc.boolean(),
          ),
        ),
        async ([x, axes, keep]) => {
          // max: no ties, nor values closer than the finite-difference step can resolve.
          fc.pre(x.data.every((v, i) => x.data.every((w, j) => i === j || Math.abs(v - w) > 1e-3)));
          for (const reduce of ['sum', 'mean', 'max'] as const) {
            expect(await gradientMismatch((o, [t]) => weighted(o[reduce](t, axes, keep), o), [x])).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 15 },
    );
  });
  it('slice, concat, reshape, broadcastTo', async () => {
    const x = { data: [1, -2, 3, 0.5, 5, -6], shape: [2, 3] };
    const y = { data: [0.7, -0.1], shape: [2, 1] };
    expect(await gradientMismatch((o, [t]) => weighted(o.slice(t, [1, 1], [1, 2]), o), [x])).toBeLessThanOrEqual(1);
    expect(await gradientMismatch((o, [t, u]) => weighted(o.concat([u, t, u], 1), o), [x, y])).toBeLessThanOrEqual(1);
    expect(await gradientMismatch((o, [t]) => weighted(o.reshape(t, [3, 2]), o), [x])).toBeLessThanOrEqual(1);
    expect(await gradientMismatch((o, [u]) => weighted(o.broadcastTo(u, [3, 2, 4]), o), [y])).toBeLessThanOrEqual(1);
  });
  it('gather, scatterAdd and sort', async () => {
    const x = { data: [0.3, -1.2, 2.5, 0.9], shape: [4] };
    const idx = Int32Array.from([3, 0, 3, 1]);
    expect(await gradientMismatch((o, [t]) => weighted(o.gather(t, o.constantInt(idx, [4])), o), [x])).toBeLessThanOrEqual(1);
    expect(await gradientMismatch((o, [t]) => weighted(o.scatterAdd([5], o.constantInt(idx, [4]), t), o), [x])).toBeLessThanOrEqual(1);
    expect(await gradientMismatch((o, [t]) => weighted(o.sort(t), o), [x])).toBeLessThanOrEqual(1);
  });
  it('fused token log-probs over random logits, labels and ignored positions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (rows, steps, vocab, seed) => {
          let s = seed;
          const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
          const logits = { data: Array.from({ length: rows * steps * vocab }, () => 20 * rand() - 10), shape: [rows, steps, vocab] };
          const labels = Int32Array.from({ length: rows * steps }, () => (rand() < 0.25 ? -100 : Math.floor(rand() * vocab)));
          expect(
            await gradientMismatch((o, [z]) => weighted(o.tokenLogProbs(z, o.constantInt(labels, [rows, steps])), o), [logits]),
          ).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('autodiff compositions', () => {
  it('shared subexpressions accumulate gradients from every use', async () => {
    const x = { data: [0.5, -1.5, 2], shape: [3] };
    // f = Σ (e^x · e^x + e^x) uses e^x three times.
    expect(
      await gradientMismatch(
        (o, [t]) => {
          const e = o.exp(t);
          return o.sum(o.add(o.mul(e, e), e));
        },
        [x],
      ),
    ).toBeLessThanOrEqual(1);
  });
  it('stopGradient blocks exactly the detached path', async () => {
    const o = ops();
    const x = o.wrap(backend.fromHost([2], [1]), 'x');
    // f = x · stop(x²) → df/dx = x² (not 3x²).
    const f = o.sum(o.mul(x, o.stopGradient(o.square(x))));
    const { backward } = await import('@pref/core');
    const [g] = backward(o, f, [x]);
    expect(await values(g!)).toEqual([4]);
  });
  it('broadcasting reductions: mean over rows of a broadcast difference', async () => {
    const a = { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] };
    const b = { data: [0.5, -0.5, 1], shape: [3] };
    expect(await gradientMismatch((o, [x, y]) => o.mean(o.square(o.sub(x, o.mean(o.mul(x, y), 0, true)))), [a, b])).toBeLessThanOrEqual(1);
  });
  it('a composite value matches the same formula computed on the host', async () => {
    const x = { data: [0.25, -0.75], shape: [2] };
    const got = await evaluate((o, [t]) => o.sum(o.logSigmoid(o.mul(t, 3))), [x]);
    const want = x.data.reduce((s, v) => s - Math.log1p(Math.exp(-3 * v)), 0);
    expect(got).toBeCloseTo(want, 14);
  });
});
