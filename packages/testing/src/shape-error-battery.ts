import { describe, expect, it } from 'vitest';
import { PrefShapeError, TensorOps, type PrefBackend, type Shape, type Tensor } from '@pref/core';
import type { BackendUnderTest } from './describe-conformance';

/** A primitive called with shapes it must refuse, and the message `TensorOps` must give. */
export interface ShapeErrorCase {
  readonly name: string;
  /** The op `PrefShapeError.op` names. */
  readonly op: string;
  /** Builds the inputs (not checked) and returns the call that must throw. */
  readonly setup: (ops: TensorOps) => () => unknown;
  /** Text the message contains (names the op and the shapes). */
  readonly message: string;
}

/** A valid call at the edge of the rules, with the shape (and values) it must produce. */
export interface ShapeValidCase {
  readonly name: string;
  readonly run: (ops: TensorOps) => Tensor;
  readonly shape: Shape;
  readonly values?: readonly number[];
}

const iota = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const c = (ops: TensorOps, shape: number[], from = 0) =>
  ops.constant(
    iota(
      shape.reduce((a, b) => a * b, 1),
      from,
    ),
    shape,
  );
const int = (ops: TensorOps, data: number[], shape: number[]) => ops.constantInt(Int32Array.from(data), shape);

/** The output of `tokenLogProbs` (a tensor, or the log-probs of a result with residuals). */
function logpsOf(out: unknown): Tensor {
  return (out && typeof out === 'object' && 'logps' in out ? (out as { logps: Tensor }).logps : out) as Tensor;
}

export const SHAPE_ERROR_CASES: readonly ShapeErrorCase[] = [
  {
    name: 'binary shapes that do not broadcast',
    op: 'add',
    message: 'add: shapes [2, 3] and [4] do not broadcast',
    setup: (o) => {
      const a = c(o, [2, 3]);
      const b = c(o, [4]);
      return () => o.add(a, b);
    },
  },
  {
    name: 'binary trailing axis mismatch',
    op: 'pow',
    message: 'pow: shapes [3, 2] and [3, 3] do not broadcast',
    setup: (o) => {
      const a = c(o, [3, 2]);
      const b = c(o, [3, 3]);
      return () => o.pow(a, b);
    },
  },
  {
    name: 'compare shapes that do not broadcast',
    op: 'greater',
    message: 'greater: shapes [2] and [3] do not broadcast',
    setup: (o) => {
      const a = c(o, [2]);
      const b = c(o, [3]);
      return () => o.greater(a, b);
    },
  },
  {
    name: 'where with a branch that does not broadcast',
    op: 'where',
    message: 'where: shapes [2, 3] and [3] and [2] do not broadcast',
    setup: (o) => {
      const m = c(o, [2, 3]);
      const a = c(o, [3]);
      const b = c(o, [2]);
      return () => o.where(m, a, b);
    },
  },
  {
    name: 'reduce axis past the rank',
    op: 'sum',
    message: 'sum: axis 2 is out of range for shape [2, 3]',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.sum(x, 2);
    },
  },
  {
    name: 'reduce negative axis past the rank',
    op: 'max',
    message: 'max: axis -3 is out of range for shape [2, 3]',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.max(x, -3);
    },
  },
  {
    name: 'reduce repeated axis',
    op: 'mean',
    message: 'mean: axes [0, -2] repeat an axis of [2, 3]',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.mean(x, [0, -2]);
    },
  },
  {
    name: 'reshape to another size',
    op: 'reshape',
    message: 'reshape: cannot reshape [2, 3] (6 values) to [4] (4 values)',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.reshape(x, [4]);
    },
  },
  {
    name: 'reshape to a negative size',
    op: 'reshape',
    message: 'reshape: shape must be a list of non-negative integers',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.reshape(x, [-2, -3]);
    },
  },
  {
    name: 'broadcastTo a smaller axis',
    op: 'broadcastTo',
    message: 'broadcastTo: cannot broadcast [2, 3] to [3]',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.broadcastTo(x, [3]);
    },
  },
  {
    name: 'broadcastTo another size',
    op: 'broadcastTo',
    message: 'broadcastTo: cannot broadcast [3] to [2, 2]',
    setup: (o) => {
      const x = c(o, [3]);
      return () => o.broadcastTo(x, [2, 2]);
    },
  },
  {
    name: 'slice past the end',
    op: 'slice',
    message: 'slice: begin [1, 0] size [2, 3] is outside [2, 3] on axis 0',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.slice(x, [1, 0], [2, 3]);
    },
  },
  {
    name: 'slice with a negative begin',
    op: 'slice',
    message: 'slice: begin [0, -1] size [2, 1] is outside [2, 3] on axis 1',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.slice(x, [0, -1], [2, 1]);
    },
  },
  {
    name: 'slice with too few axes',
    op: 'slice',
    message: 'slice: begin [0] size [1] must have one entry per axis of [2, 3]',
    setup: (o) => {
      const x = c(o, [2, 3]);
      return () => o.slice(x, [0], [1]);
    },
  },
  {
    name: 'concat shapes that differ off the axis',
    op: 'concat',
    message: 'concat: shapes [2, 3] and [3, 1] differ on axis 0',
    setup: (o) => {
      const a = c(o, [2, 3]);
      const b = c(o, [3, 1]);
      return () => o.concat([a, b], 1);
    },
  },
  {
    name: 'concat ranks that differ',
    op: 'concat',
    message: 'concat: shapes [2, 3] and [6] differ in rank',
    setup: (o) => {
      const a = c(o, [2, 3]);
      const b = c(o, [6]);
      return () => o.concat([a, b], 0);
    },
  },
  {
    name: 'concat axis past the rank',
    op: 'concat',
    message: 'concat: axis 2 is out of range for shape [2, 3]',
    setup: (o) => {
      const a = c(o, [2, 3]);
      return () => o.concat([a, a], 2);
    },
  },
  {
    name: 'concat of a single tensor on a bad axis',
    op: 'concat',
    message: 'concat: axis 1 is out of range for shape [4]',
    setup: (o) => {
      const a = c(o, [4]);
      return () => o.concat([a], 1);
    },
  },
  { name: 'concat of nothing', op: 'concat', message: 'concat: needs at least one tensor', setup: (o) => () => o.concat([], 0) },
  {
    name: 'argsort axis past the rank',
    op: 'argsort',
    message: 'argsort: axis 1 is out of range for shape [3]',
    setup: (o) => {
      const x = c(o, [3]);
      return () => o.argsort(x, 1);
    },
  },
  {
    name: 'gather indices of another rank',
    op: 'gather',
    message: 'gather: indices [2] must have the rank of x [2, 3]',
    setup: (o) => {
      const x = c(o, [2, 3]);
      const i = int(o, [0, 1], [2]);
      return () => o.gather(x, i, 1);
    },
  },
  {
    name: 'gather indices larger off the axis',
    op: 'gather',
    message: 'gather: indices [3, 1] exceed x [2, 3] on axis 0',
    setup: (o) => {
      const x = c(o, [2, 3]);
      const i = int(o, [0, 1, 2], [3, 1]);
      return () => o.gather(x, i, 1);
    },
  },
  {
    name: 'gather float indices',
    op: 'gather',
    message: 'gather: indices must be int32, got float',
    setup: (o) => {
      const x = c(o, [2, 3]);
      const i = c(o, [2, 3]);
      return () => o.gather(x, i, 1);
    },
  },
  {
    name: 'scatterAdd updates of another shape',
    op: 'scatterAdd',
    message: "scatterAdd: updates [2, 2] must have the indices' shape [2, 1]",
    setup: (o) => {
      const i = int(o, [0, 2], [2, 1]);
      const u = c(o, [2, 2]);
      return () => o.scatterAdd([2, 3], i, u, 1);
    },
  },
  {
    name: 'scatterAdd axis past the rank',
    op: 'scatterAdd',
    message: 'scatterAdd: axis 2 is out of range for shape [2, 3]',
    setup: (o) => {
      const i = int(o, [0, 2], [2, 1]);
      const u = c(o, [2, 1]);
      return () => o.scatterAdd([2, 3], i, u, 2);
    },
  },
  {
    name: 'tokenLogProbs labels of another shape',
    op: 'tokenLogProbs',
    message: 'tokenLogProbs: labels [2, 4] must have the shape of logits [2, 3, 5] without its last axis',
    setup: (o) => {
      const z = c(o, [2, 3, 5]);
      const l = int(
        o,
        iota(8).map((i) => i % 5),
        [2, 4],
      );
      return () => o.tokenLogProbs(z, l);
    },
  },
  {
    name: 'tokenLogProbs float labels',
    op: 'tokenLogProbs',
    message: 'tokenLogProbs: labels must be int32, got float',
    setup: (o) => {
      const z = c(o, [2, 5]);
      const l = c(o, [2]);
      return () => o.tokenLogProbs(z, l);
    },
  },
  {
    name: 'constant with the wrong number of values',
    op: 'constant',
    message: 'constant: 5 values for shape [2, 3] (6 values)',
    setup: (o) => () => o.constant([1, 2, 3, 4, 5], [2, 3]),
  },
  {
    name: 'fill with a fractional size',
    op: 'fill',
    message: 'fill: shape must be a list of non-negative integers',
    setup: (o) => () => o.fill([1.5], 0),
  },
];

export const SHAPE_VALID_CASES: readonly ShapeValidCase[] = [
  {
    name: 'add broadcasts [2, 1] with [3]',
    run: (o) => o.add(c(o, [2, 1]), c(o, [3], 10)),
    shape: [2, 3],
    values: [10, 11, 12, 11, 12, 13],
  },
  {
    name: 'where broadcasts three shapes',
    run: (o) => o.where(o.constant([1, 0], [2, 1]), c(o, [3]), o.scalar(-1)),
    shape: [2, 3],
    values: [0, 1, 2, -1, -1, -1],
  },
  { name: 'sum over a negative axis, kept', run: (o) => o.sum(c(o, [2, 3]), -1, true), shape: [2, 1], values: [3, 12] },
  { name: 'max over every axis', run: (o) => o.max(c(o, [2, 3])), shape: [], values: [5] },
  { name: 'reshape to a rank-0 shape', run: (o) => o.reshape(c(o, [1, 1], 7), []), shape: [], values: [7] },
  { name: 'broadcastTo adds leading axes', run: (o) => o.broadcastTo(c(o, [3]), [2, 3]), shape: [2, 3], values: [0, 1, 2, 0, 1, 2] },
  { name: 'slice of the last row and column', run: (o) => o.slice(c(o, [2, 3]), [1, 2], [1, 1]), shape: [1, 1], values: [5] },
  { name: 'empty slice', run: (o) => o.slice(c(o, [2, 3]), [2, 0], [0, 3]), shape: [0, 3], values: [] },
  {
    name: 'concat along axis 1 ([2, 3] and [2, 1])',
    run: (o) => o.concat([c(o, [2, 3]), c(o, [2, 1], 10)], 1),
    shape: [2, 4],
    values: [0, 1, 2, 10, 3, 4, 5, 11],
  },
  {
    name: 'concat along a negative axis',
    run: (o) => o.concat([c(o, [1, 2]), c(o, [2, 2], 10)], -2),
    shape: [3, 2],
    values: [0, 1, 10, 11, 12, 13],
  },
  {
    name: 'gather with fewer indices on the axis',
    run: (o) => o.gather(c(o, [2, 3]), int(o, [2, 0], [2, 1]), 1),
    shape: [2, 1],
    values: [2, 3],
  },
  {
    name: 'scatterAdd into a larger axis',
    run: (o) => o.scatterAdd([2, 3], int(o, [2, 0], [2, 1]), o.constant([5, 7], [2, 1]), 1),
    shape: [2, 3],
    values: [0, 0, 5, 7, 0, 0],
  },
  { name: 'argsort along axis 0', run: (o) => o.argsort(o.constant([3, 1, 2], [3]), 0), shape: [3], values: [1, 2, 0] },
  {
    name: 'tokenLogProbs keeps the label shape',
    run: (o) => logpsOf(o.tokenLogProbs(o.fill([2, 3, 4], 0), int(o, [0, 1, 2, 3, -100, 0], [2, 3]))),
    shape: [2, 3],
    values: [-Math.log(4), -Math.log(4), -Math.log(4), -Math.log(4), 0, -Math.log(4)],
  },
];

/** The backend with a log of the primitives called on it (a failed shape check calls none). */
function recording(backend: PrefBackend): { readonly backend: PrefBackend; readonly calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(backend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'dispose' || prop === 'read') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { backend: proxy, calls };
}

/**
 * Every primitive's shape errors through `TensorOps` on one backend: each invalid call throws
 * `PrefShapeError` naming the op and the shapes before any primitive runs on the backend; each
 * valid edge case returns the computed shape and values. An unavailable backend is skipped,
 * saying why.
 */
export function describeShapeErrorBattery(backendUnderTest: BackendUnderTest): void {
  describe(`shape errors on ${backendUnderTest.name}`, async () => {
    const created = await backendUnderTest.create().catch((error: Error) => ({ unavailable: error.message }));
    if ('unavailable' in created) {
      it.skip(`skipped: ${backendUnderTest.name} unavailable: ${created.unavailable}`, () => {});
      return;
    }
    const backend = created;
    for (const testCase of SHAPE_ERROR_CASES) {
      it(`${testCase.op}: ${testCase.name}`, () => {
        const { backend: logged, calls } = recording(backend);
        const ops = new TensorOps(logged);
        try {
          const call = testCase.setup(ops);
          calls.length = 0;
          let thrown: unknown = null;
          try {
            call();
          } catch (error) {
            thrown = error;
          }
          expect(thrown, 'the call must throw').toBeInstanceOf(PrefShapeError);
          const error = thrown as PrefShapeError;
          expect(error.op).toBe(testCase.op);
          expect(error.message).toContain(testCase.message);
          expect(calls, 'primitives run before the check').toEqual([]);
        } finally {
          ops.disposeAll();
        }
      });
    }
    for (const testCase of SHAPE_VALID_CASES) {
      it(`valid: ${testCase.name}`, async () => {
        const ops = new TensorOps(backend);
        try {
          const out = testCase.run(ops);
          expect(out.shape).toEqual(testCase.shape);
          const [values] = await backend.read([out.value]);
          expect(values.length).toBe(testCase.shape.reduce((a, b) => a * b, 1));
          if (testCase.values) {
            const tolerance = backend.capabilities.precision === 64 ? 1e-12 : 1e-5;
            Array.from(values).forEach((v, i) => expect(Math.abs(v - testCase.values![i]), `value ${i}`).toBeLessThanOrEqual(tolerance));
          }
        } finally {
          ops.disposeAll();
        }
      });
    }
  });
}
