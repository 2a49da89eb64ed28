import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend, type ReferenceTensor } from '@pref/adapter-reference';
import { type HostArray } from '@pref/core';
import { UNARY_OPS, BINARY_OPS, COMPARE_OPS } from '@pref/core/backend';
import { worstMismatch } from '@pref/testing';
import { createOnnxruntimeBackend, type GraphTensor } from '../src';

const ort = await createOnnxruntimeBackend({ sessionOptions: { intraOpNumThreads: 1 } });
const ref = createReferenceBackend({ precision: 64 });
const f32 = (values: readonly number[]) => Array.from(Float32Array.from(values));

async function readOne(t: GraphTensor): Promise<HostArray> {
  return (await ort.read([t]))[0];
}
const refValues = (t: ReferenceTensor) => Array.from(t.data);

/** Agreement of float32 results with float64 ones: 1e-5 relative, 1e-6 absolute unless told. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) expect(actual[i], `element ${i}`).toBeNaN();
    else if (!Number.isFinite(expected[i])) expect(actual[i], `element ${i}`).toBe(expected[i]);
  }
  const finite = (xs: ArrayLike<number>) => Array.from(xs).map((v, i) => (Number.isFinite(expected[i]) ? v : 0));
  expect(worstMismatch(finite(actual), finite(expected), rtol, atol)).toBeLessThanOrEqual(1);
}

const wide = [
  -1e4, -200, -100, -88, -40, -20, -18, -17, -10, -1, -0.5, -1e-3, -1e-7, 0, 1e-7, 1e-3, 0.49, 0.5, 1, 10, 17, 18, 20, 40, 88, 100, 200,
  1e4,
];

describe('unary primitives match the float64 reference, including extreme inputs', () => {
  for (const op of UNARY_OPS) {
    it(op, async () => {
      const inputs =
        op === 'log' || op === 'sqrt'
          ? wide.filter((x) => x >= 0)
          : op === 'log1p'
            ? [...wide.filter((x) => x > -1), -0.999999, -1]
            : op === 'exp' || op === 'expm1'
              ? wide.filter((x) => x < 80)
              : wide;
      const values = f32(inputs);
      const got = await readOne(ort.unary(op, ort.fromHost(values, [values.length])));
      const want = refValues(ref.unary(op, ref.fromHost(values, [values.length])));
      // square of 1e4 rounds in float32; everything else to a few ulps
      expectClose(got, want, 2e-6, 1e-30);
    });
  }

  it('log-sigmoid and softplus keep the tail where a naive sigmoid underflows (x = -18 .. -100)', async () => {
    const xs = f32([-18, -30, -60, -100]);
    const [logSigmoid, softplus, sigmoid] = await ort.read([
      ort.unary('logSigmoid', ort.fromHost(xs, [4])),
      ort.unary('softplus', ort.fromHost(xs, [4])),
      ort.unary('sigmoid', ort.fromHost(xs, [4])),
    ]);
    // exp(−100) is a float32 denormal: compared absolutely below the smallest normal.
    expectClose(
      logSigmoid,
      xs.map((x) => x - Math.log1p(Math.exp(x))),
      1e-6,
      0,
    );
    expectClose(
      softplus,
      xs.map((x) => Math.exp(x)),
      1e-5,
      1e-40,
    );
    expectClose(
      sigmoid,
      xs.map((x) => Math.exp(x) / (1 + Math.exp(x))),
      1e-5,
      1e-40,
    );
    expect(softplus.every((v) => v > 0) && sigmoid.every((v) => v > 0)).toBe(true);
  });

  it('matches the reference on random inputs (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...UNARY_OPS),
        fc.array(fc.double({ min: -60, max: 60, noNaN: true }), { minLength: 1, maxLength: 12 }),
        async (op, raw) => {
          const values = f32(op === 'log' || op === 'sqrt' || op === 'log1p' ? raw.map(Math.abs) : raw);
          const got = await readOne(ort.unary(op, ort.fromHost(values, [values.length])));
          const want = refValues(ref.unary(op, ref.fromHost(values, [values.length])));
          expectClose(got, want, 4e-6, 1e-30);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('binary, compare, where and reductions broadcast like the reference', () => {
  const shapeA = [2, 1, 3];
  const shapeB = [4, 1];
  const a = f32([-2, 0.5, 3, 1, -1, 0]);
  const b = f32([0.5, 2, -1, 0.5]);
  for (const op of BINARY_OPS) {
    it(op, async () => {
      const lhs = op === 'pow' ? a.map(Math.abs) : a;
      const got = await readOne(ort.binary(op, ort.fromHost(lhs, shapeA), ort.fromHost(b, shapeB)));
      const want = ref.binary(op, ref.fromHost(lhs, shapeA), ref.fromHost(b, shapeB));
      expectClose(got, refValues(want));
    });
  }
  for (const op of COMPARE_OPS) {
    it(op, async () => {
      const got = await readOne(ort.compare(op, ort.fromHost(a, shapeA), ort.fromHost(b, shapeB)));
      expect(Array.from(got)).toEqual(refValues(ref.compare(op, ref.fromHost(a, shapeA), ref.fromHost(b, shapeB))));
    });
  }
  it('where picks by a 0/1 float condition', async () => {
    const cond = [1, 0, 0, 1];
    const got = await readOne(ort.where(ort.fromHost(cond, [4, 1]), ort.fromHost(a, shapeA), ort.fill([], 7)));
    expect(Array.from(got)).toEqual(refValues(ref.where(ref.fromHost(cond, [4, 1]), ref.fromHost(a, shapeA), ref.fill([], 7))));
  });
  for (const op of ['sum', 'max', 'mean'] as const) {
    for (const [axes, keepDims] of [
      [[0], false],
      [[1, 2], true],
      [[-1], false],
      [[0, 1, 2], false],
      [[], true],
    ] as const) {
      it(`reduce ${op} over [${axes.join(', ')}] keepDims ${keepDims}`, async () => {
        const t = ort.reduce(op, ort.fromHost(a, shapeA), axes, keepDims);
        const want = ref.reduce(op, ref.fromHost(a, shapeA), axes, keepDims);
        expect(t.shape).toEqual(want.shape);
        expectClose(await readOne(t), refValues(want));
      });
    }
  }
});

describe('shape and indexing primitives', () => {
  const x = f32([3, 1, 2, 1, 5, 1, 0, 4, 4, 9, -1, 2]);
  it('reshape, broadcastTo, slice and concat', async () => {
    const t = ort.fromHost(x, [3, 4]);
    const [reshaped, broadcast, sliced, joined] = await ort.read([
      ort.reshape(t, [2, 6]),
      ort.broadcastTo(ort.fromHost([1, 2], [2, 1]), [3, 2, 2]),
      ort.slice(t, [1, 1], [2, 2]),
      ort.concat([t, ort.fill([3, 1], -7)], 1),
    ]);
    const r = ref.fromHost(x, [3, 4]);
    expect(Array.from(reshaped)).toEqual(Array.from(x));
    expect(Array.from(broadcast)).toEqual(refValues(ref.broadcastTo(ref.fromHost([1, 2], [2, 1]), [3, 2, 2])));
    expect(Array.from(sliced)).toEqual(refValues(ref.slice(r, [1, 1], [2, 2])));
    expect(Array.from(joined)).toEqual(refValues(ref.concat([r, ref.fill([3, 1], -7)], 1)));
  });

  it('argsort is stable on ties, along any axis', async () => {
    for (const axis of [0, 1]) {
      const got = await readOne(ort.argsort(ort.fromHost(x, [3, 4]), axis));
      expect(got).toBeInstanceOf(Int32Array);
      expect(Array.from(got)).toEqual(Array.from(ref.argsort(ref.fromHost(x, [3, 4]), axis).data));
    }
  });

  it('gather and scatterAdd (repeated indices accumulate)', async () => {
    const indices = Int32Array.from([0, 0, 3, 1, 2, 2, 2, 0]);
    const [gathered, scattered] = await ort.read([
      ort.gather(ort.fromHost(x.slice(0, 8), [2, 4]), ort.fromHostInt(indices, [2, 4]), 1),
      ort.scatterAdd([2, 4], ort.fromHostInt(indices, [2, 4]), ort.fromHost([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]), 1),
    ]);
    expect(Array.from(gathered)).toEqual(refValues(ref.gather(ref.fromHost(x.slice(0, 8), [2, 4]), ref.fromHostInt(indices, [2, 4]), 1)));
    expect(Array.from(scattered)).toEqual(
      refValues(ref.scatterAdd([2, 4], ref.fromHostInt(indices, [2, 4]), ref.fromHost([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]), 1)),
    );
  });

  it('reads the same tensor twice and reads inputs directly', async () => {
    const t = ort.fromHost([1, 2], [2]);
    const s = ort.unary('exp', t);
    const [a1, a2, raw] = await ort.read([s, s, t]);
    expect(Array.from(a1)).toEqual(Array.from(a2));
    expect(a1).not.toBe(a2);
    expect(Array.from(raw)).toEqual([1, 2]);
  });
});

describe('fused token log-probs', () => {
  const arbitrary = fc.record({
    rows: fc.integer({ min: 1, max: 3 }),
    steps: fc.integer({ min: 1, max: 4 }),
    vocab: fc.integer({ min: 2, max: 9 }),
    scale: fc.constantFrom(1, 30, 1000),
    seed: fc.integer(),
  });
  it('values and gradients match the reference for any logits scale, with ignored labels', async () => {
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ rows, steps, vocab, scale, seed }) => {
        const rand = mulberry32(seed);
        const logits = f32(Array.from({ length: rows * steps * vocab }, () => (rand() - 0.5) * 2 * scale));
        const labels = Int32Array.from({ length: rows * steps }, () => (rand() < 0.25 ? -100 : Math.floor(rand() * vocab)));
        const upstream = f32(Array.from({ length: rows * steps }, () => rand() * 2 - 1));
        // The backend contract is on rows: [N, V] logits, [N] labels (core flattens the rest).
        const n = rows * steps;
        const shape = [n, vocab];
        const fwd = ort.tokenLogProbs(ort.fromHost(logits, shape), ort.fromHostInt(labels, [n]), -100);
        const gradient = ort.tokenLogProbsGrad(
          ort.fromHost(logits, shape),
          ort.fromHostInt(labels, [n]),
          fwd.logSumExp,
          ort.fromHost(upstream, [n]),
          -100,
        );
        const [lp, lse, grad] = await ort.read([fwd.logps, fwd.logSumExp, gradient]);
        const want = hostTokenLogProbs(logits, labels, upstream, vocab);
        expectClose(lp, want.logps, 1e-5, 1e-6 * scale);
        labels.forEach((label, i) => {
          if (label === -100) expect(lp[i]).toBe(0);
        });
        expectClose(lse, want.logSumExp, 1e-6, 1e-6 * scale);
        // The gradient reads the float32 log-sum-exp: its rounding (half an ulp of |lse|)
        // moves every exp(z − lse) by that much relative.
        const lseUlp = Math.max(...Array.from(want.logSumExp, Math.abs)) * 2 ** -23;
        expectClose(grad, want.grad, 1e-5, 1e-6 + 2 * lseUlp);
      }),
      { numRuns: 30 },
    );
  });
});

/** Float64 token log-probs, row log-sum-exp and gradient on the host (the oracle). */
function hostTokenLogProbs(logits: ArrayLike<number>, labels: Int32Array, upstream: ArrayLike<number>, vocab: number) {
  const rows = labels.length;
  const logps = new Float64Array(rows);
  const logSumExp = new Float64Array(rows);
  const grad = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: vocab }, (_, v) => logits[r * vocab + v]);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((sum, z) => sum + Math.exp(z - max), 0));
    logSumExp[r] = lse;
    if (labels[r] === -100) continue;
    logps[r] = row[labels[r]] - lse;
    for (let v = 0; v < vocab; v++) grad[r * vocab + v] = upstream[r] * ((v === labels[r] ? 1 : 0) - Math.exp(row[v] - lse));
  }
  return { logps, logSumExp, grad };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
