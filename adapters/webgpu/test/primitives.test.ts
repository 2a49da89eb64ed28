import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type PrefBackend, type Shape } from '@pref/core';
import { BINARY_OPS, COMPARE_OPS, REDUCE_OPS, UNARY_OPS, sizeOf, type UnaryOp } from '@pref/core/backend';
import { startWebGpu } from './web-gpu-under-test';
import { expectSameAsReference } from './compare-backends';

const started = await startWebGpu();
const available = !('unavailable' in started);
const suite = available ? describe : describe.skip;
const title = available ? 'webgpu primitives' : `webgpu primitives (skipped: ${(started as { unavailable: string }).unavailable})`;
const gpu = started as Exclude<typeof started, { unavailable: string }>;
afterAll(() => (available ? gpu.destroy() : undefined));

const runs = { numRuns: 15 };
const shapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 });
const valuesOf = (shape: Shape, min = -6, max = 6) =>
  fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) });

/** An output shape and an input shape that broadcasts to it (dropped leading axes, size-1 axes). */
const broadcastPair = shapeArb.chain((out) =>
  fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => ({
      out,
      input: out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
    })),
);

const UNARY_DOMAIN: Partial<Record<UnaryOp, [number, number]>> = {
  log: [1e-3, 50],
  sqrt: [0, 50],
  log1p: [-0.9, 50],
  exp: [-30, 30],
  expm1: [-30, 30],
};

suite(title, () => {
  for (const op of UNARY_OPS) {
    it(`unary ${op} matches the reference`, async () => {
      const [min, max] = UNARY_DOMAIN[op] ?? [-40, 40];
      await fc.assert(
        fc.asyncProperty(
          shapeArb.chain((shape) => fc.tuple(fc.constant(shape), valuesOf(shape, min, max))),
          async ([shape, values]) => {
            await expectSameAsReference(gpu, (b) => b.unary(op, b.fromHost(values, shape)));
          },
        ),
        runs,
      );
    });
  }

  it('unary functions near zero keep float32 relative accuracy (log1p, expm1, softplus)', async () => {
    const values = [1e-7, -1e-7, 1e-4, -3e-3, 0.3, -0.45, 0.49, 0.51, 1e-20, 0];
    for (const op of ['log1p', 'expm1', 'softplus', 'logSigmoid', 'sigmoid'] as const) {
      await expectSameAsReference(gpu, (b) => b.unary(op, b.fromHost(values, [values.length])), 1e-5, 1e-30);
    }
  });

  for (const op of [...BINARY_OPS, ...COMPARE_OPS]) {
    it(`${op} broadcasts like NumPy`, async () => {
      const kind = (COMPARE_OPS as readonly string[]).includes(op) ? 'compare' : 'binary';
      const positive = op === 'pow';
      await fc.assert(
        fc.asyncProperty(
          broadcastPair.chain((p) =>
            fc.tuple(
              fc.constant(p),
              fc.boolean(),
              valuesOf(p.out, positive ? 0.1 : -5, 5),
              valuesOf(p.input, positive ? -3 : -5, positive ? 3 : 5),
            ),
          ),
          async ([{ out, input }, swap, outValues, inputValues]) => {
            await expectSameAsReference(gpu, (b) => {
              const x = b.fromHost(
                outValues.map((v) => Math.round(v * 4) / 4),
                out,
              );
              const y = b.fromHost(
                inputValues.map((v) => Math.round(v * 4) / 4),
                input,
              );
              const [l, r] = swap && !positive ? [y, x] : [x, y];
              return kind === 'compare' ? b.compare(op as never, l, r) : b.binary(op as never, l, r);
            });
          },
        ),
        runs,
      );
    });
  }

  it('pow follows Math.pow for negative bases with integer exponents and zero bases', async () => {
    const bases = [-2, -2, -0.5, 0, 0, 3, -3];
    const exponents = [3, 2, -3, 2, 0, 0.5, 0];
    await expectSameAsReference(gpu, (b) => b.binary('pow', b.fromHost(bases, [7]), b.fromHost(exponents, [7])));
  });

  it('where broadcasts condition and both branches', async () => {
    await fc.assert(
      fc.asyncProperty(broadcastPair, broadcastPair, fc.integer(), async (p, q, seed) => {
        fc.pre(p.out.length === q.out.length && p.out.every((d, i) => d === q.out[i]));
        const cond = Array.from({ length: sizeOf(p.input) }, (_, i) => (seed >> (i % 30)) & 1);
        await expectSameAsReference(gpu, (b) =>
          b.where(
            b.fromHost(cond, p.input),
            b.fromHost(
              Array.from({ length: sizeOf(p.out) }, (_, i) => i + 0.5),
              p.out,
            ),
            b.fromHost(
              Array.from({ length: sizeOf(q.input) }, (_, i) => -i),
              q.input,
            ),
          ),
        );
      }),
      { numRuns: 15 },
    );
  });

  for (const op of REDUCE_OPS) {
    it(`reduce ${op} over arbitrary axes, with and without keepDims`, async () => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb.chain((shape) => fc.tuple(fc.constant(shape), valuesOf(shape), fc.subarray(shape.map((_, i) => i)), fc.boolean())),
          async ([shape, values, axes, keepDims]) => {
            await expectSameAsReference(gpu, (b) => b.reduce(op, b.fromHost(values, shape), axes, keepDims));
          },
        ),
        runs,
      );
    });
  }

  it('reduces long axes in one workgroup and many short ones per thread (sizes not multiples of 256)', async () => {
    for (const shape of [
      [3, 1000],
      [5000, 3],
      [1, 70001],
      [2, 257, 3],
    ]) {
      // float32 inputs, so only the summation order differs; sums of 70k terms of size 3 get an absolute allowance.
      const values = Array.from({ length: sizeOf(shape) }, (_, i) => Math.fround(Math.sin(i) * 3));
      for (const op of REDUCE_OPS) {
        await expectSameAsReference(gpu, (b) => b.reduce(op, b.fromHost(values, shape), [shape.length - 1], false), 1e-4, 1e-4);
        await expectSameAsReference(gpu, (b) => b.reduce(op, b.fromHost(values, shape), [0], true), 1e-4, 1e-4);
      }
    }
  });

  it('reshape is a view; broadcastTo, slice and concat move values (float and int32)', async () => {
    await fc.assert(
      fc.asyncProperty(broadcastPair, async ({ out, input }) => {
        const values = Array.from({ length: sizeOf(input) }, (_, i) => i * 1.5 - 3);
        await expectSameAsReference(gpu, (b) => b.broadcastTo(b.fromHost(values, input), out));
        await expectSameAsReference(gpu, (b) => b.broadcastTo(b.fromHostInt(Int32Array.from(values, Math.round), input), out));
      }),
      runs,
    );
    await fc.assert(
      fc.asyncProperty(
        shapeArb.filter((s) => s.length > 0),
        fc.infiniteStream(fc.nat()),
        fc.nat(),
        async (shape, stream, axisSeed) => {
          const it = stream[Symbol.iterator]();
          const begin = shape.map((d) => it.next().value % d);
          const size = shape.map((d, i) => it.next().value % (d - begin[i] + 1));
          const values = Array.from({ length: sizeOf(shape) }, (_, i) => i);
          await expectSameAsReference(gpu, (b) => b.slice(b.fromHost(values, shape), begin, size));
          const axis = axisSeed % shape.length;
          const other = shape.map((d, i) => (i === axis ? (axisSeed % 3) + 1 : d));
          await expectSameAsReference(gpu, (b) =>
            b.concat(
              [
                b.fromHost(values, shape),
                b.fromHost(
                  Array.from({ length: sizeOf(other) }, (_, i) => -i),
                  other,
                ),
                b.fromHost(values, shape),
              ],
              axis,
            ),
          );
          await expectSameAsReference(gpu, (b) => b.reshape(b.fromHost(values, shape), [sizeOf(shape)]));
        },
      ),
      runs,
    );
  });

  it('argsort is stable along any axis, gather and scatterAdd follow ScatterElements', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb
          .filter((s) => s.length > 0)
          .chain((shape) =>
            fc.tuple(
              fc.constant(shape),
              fc.nat({ max: shape.length - 1 }),
              fc.array(fc.integer({ min: -3, max: 3 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }),
            ),
          ),
        async ([shape, axis, values]) => {
          await expectSameAsReference(gpu, (b) => b.argsort(b.fromHost(values, shape), axis));
          const sortedBy = (b: PrefBackend) => b.argsort(b.fromHost(values, shape), axis);
          await expectSameAsReference(gpu, (b) =>
            b.gather(
              b.fromHost(
                values.map((v, i) => v + i / 100),
                shape,
              ),
              sortedBy(b),
              axis,
            ),
          );
          const fewer = shape.map((d, i) => (i === axis ? Math.max(1, d - 1) : d));
          const indices = Int32Array.from({ length: sizeOf(fewer) }, (_, i) => Math.abs(values[i % values.length]) % shape[axis]);
          await expectSameAsReference(gpu, (b) =>
            b.scatterAdd(
              shape,
              b.fromHostInt(indices, fewer),
              b.fromHost(
                Array.from(indices, (_, i) => i + 1),
                fewer,
              ),
              axis,
            ),
          );
        },
      ),
      runs,
    );
  });

  it('fill and elementwise kernels cover sizes past one dispatch dimension (2D dispatch)', async () => {
    const size = 256 * 65535 + 300;
    const filled = gpu.fill([size], 2.5);
    const doubled = gpu.binary('mul', filled, gpu.fill([], 2));
    const [values] = await gpu.read([doubled]);
    expect(values.length).toBe(size);
    expect(values[0]).toBe(5);
    expect(values[size - 1]).toBe(5);
    expect(values.every((v) => v === 5)).toBe(true);
    gpu.dispose(filled);
    gpu.dispose(doubled);
  });
});
