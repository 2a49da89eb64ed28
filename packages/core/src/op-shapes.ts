import type { BackendTensor, Shape } from './pref-backend';
import { PrefShapeError } from './pref-error';
import { formatShape, sizeOf } from './broadcast-shape';

/**
 * Output shapes of the backend primitives, computed and checked once on the host before any
 * primitive runs: every adapter may assume the shapes it receives are valid. Each check throws
 * `PrefShapeError` naming the op and the shapes.
 */

function fail(op: string, shapes: readonly Shape[], why: string): never {
  throw new PrefShapeError(op, shapes, `${op}: ${why}`);
}

function list(values: readonly number[]): string {
  return `[${values.join(', ')}]`;
}

function isDim(d: number): boolean {
  return Number.isInteger(d) && d >= 0;
}

/** A list of non-negative integers. */
export function checkShape(op: string, shape: Shape): Shape {
  if (!Array.isArray(shape) || !shape.every(isDim)) {
    fail(op, [], `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape;
}

/** `axis` (negative counts from the end) as an index into a shape of `rank`. */
export function checkAxis(op: string, axis: number, shape: Shape): number {
  const rank = shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= Math.max(rank, 1)) {
    fail(op, [shape], `axis ${axis} is out of range for shape ${formatShape(shape)} (rank ${rank})`);
  }
  return a;
}

/** NumPy broadcasting of any number of shapes. */
export function broadcastShapeOf(op: string, shapes: readonly Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const shape of shapes) {
    for (let i = 0; i < shape.length; i++) {
      const k = rank - shape.length + i;
      const d = shape[i];
      if (d === out[k] || d === 1) continue;
      if (out[k] !== 1) {
        fail(op, shapes, `shapes ${shapes.map(formatShape).join(' and ')} do not broadcast (axis ${k - rank}: ${out[k]} vs ${d})`);
      }
      out[k] = d;
    }
  }
  return out;
}

/** `x` broadcast to `shape`: `x` must broadcast and the result must be `shape` itself. */
export function broadcastToShapeOf(x: Shape, shape: Shape): Shape {
  checkShape('broadcastTo', shape);
  const ok = x.length <= shape.length && x.every((d, i) => d === 1 || d === shape[shape.length - x.length + i]);
  if (!ok) fail('broadcastTo', [x, shape], `cannot broadcast ${formatShape(x)} to ${formatShape(shape)}`);
  return shape;
}

/** Distinct, in-range reduction axes (all axes when omitted) and the reduced shape. */
export function reduceShapeOf(
  op: string,
  x: Shape,
  axes: number | readonly number[] | undefined,
  keepDims: boolean,
): { readonly axes: number[]; readonly shape: number[] } {
  const given = axes === undefined ? x.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes];
  const normalized = given.map((a) => checkAxis(op, a, x));
  if (new Set(normalized).size !== normalized.length) fail(op, [x], `axes ${list(given)} repeat an axis of ${formatShape(x)}`);
  const reduced = new Set(normalized);
  const shape: number[] = [];
  x.forEach((d, i) => {
    if (!reduced.has(i)) shape.push(d);
    else if (keepDims) shape.push(1);
  });
  return { axes: normalized, shape };
}

export function reshapeShapeOf(x: Shape, shape: Shape): Shape {
  checkShape('reshape', shape);
  if (sizeOf(shape) !== sizeOf(x)) {
    fail(
      'reshape',
      [x, shape],
      `cannot reshape ${formatShape(x)} (${sizeOf(x)} values) to ${formatShape(shape)} (${sizeOf(shape)} values)`,
    );
  }
  return shape;
}

export function sliceShapeOf(x: Shape, begin: readonly number[], size: readonly number[]): Shape {
  const where = `begin ${list(begin)} size ${list(size)}`;
  if (begin.length !== x.length || size.length !== x.length) {
    fail('slice', [x], `${where} must have one entry per axis of ${formatShape(x)}`);
  }
  x.forEach((d, i) => {
    if (!isDim(begin[i]) || !isDim(size[i]) || begin[i] + size[i] > d) {
      fail('slice', [x], `${where} is outside ${formatShape(x)} on axis ${i}`);
    }
  });
  return size;
}

export function concatShapeOf(xs: readonly BackendTensor[], axis: number): { readonly axis: number; readonly shape: number[] } {
  if (xs.length === 0) fail('concat', [], 'needs at least one tensor');
  const first = xs[0].shape;
  const ax = checkAxis('concat', axis, first);
  const shape = [...first];
  for (let k = 1; k < xs.length; k++) {
    const s = xs[k].shape;
    if (s.length !== first.length) {
      fail('concat', [first, s], `shapes ${formatShape(first)} and ${formatShape(s)} differ in rank`);
    }
    for (let i = 0; i < s.length; i++) {
      if (i !== ax && s[i] !== first[i]) {
        fail('concat', [first, s], `shapes ${formatShape(first)} and ${formatShape(s)} differ on axis ${i}`);
      }
    }
    if (xs[k].dtype !== xs[0].dtype) fail('concat', [first, s], `tensors mix ${xs[0].dtype} and ${xs[k].dtype}`);
    shape[ax] += s[ax];
  }
  return { axis: ax, shape };
}

function checkIndices(op: string, indices: BackendTensor, target: Shape, ax: number, what: string): void {
  const s = indices.shape;
  if (indices.dtype !== 'int32') fail(op, [s], `indices must be int32, got ${indices.dtype}`);
  if (s.length !== target.length) {
    fail(op, [target, s], `indices ${formatShape(s)} must have the rank of ${what} ${formatShape(target)}`);
  }
  s.forEach((d, i) => {
    if (i !== ax && d > target[i]) {
      fail(op, [target, s], `indices ${formatShape(s)} exceed ${what} ${formatShape(target)} on axis ${i}`);
    }
  });
}

/** GatherElements: the output has the indices' shape. */
export function gatherShapeOf(x: Shape, indices: BackendTensor, axis: number): { readonly axis: number; readonly shape: Shape } {
  const ax = checkAxis('gather', axis, x);
  checkIndices('gather', indices, x, ax, 'x');
  return { axis: ax, shape: indices.shape };
}

/** ScatterElements (add) into zeros of `shape`: `updates` has the indices' shape. */
export function scatterAddShapeOf(shape: Shape, indices: BackendTensor, updates: Shape, axis: number): number {
  checkShape('scatterAdd', shape);
  const ax = checkAxis('scatterAdd', axis, shape);
  checkIndices('scatterAdd', indices, shape, ax, 'the output');
  if (updates.length !== indices.shape.length || updates.some((d, i) => d !== indices.shape[i])) {
    fail(
      'scatterAdd',
      [indices.shape, updates],
      `updates ${formatShape(updates)} must have the indices' shape ${formatShape(indices.shape)}`,
    );
  }
  return ax;
}

/** `logits [..., V]` and int `labels [...]`: the token log-probs' shape (the labels'). */
export function tokenShapeOf(op: string, logits: Shape, labels: BackendTensor): Shape {
  const rows = logits.slice(0, -1);
  if (logits.length === 0 || labels.shape.length !== rows.length || labels.shape.some((d, i) => d !== rows[i])) {
    fail(
      op,
      [logits, labels.shape],
      `labels ${formatShape(labels.shape)} must have the shape of logits ${formatShape(logits)} without its last axis`,
    );
  }
  if (labels.dtype !== 'int32') fail(op, [labels.shape], `labels must be int32, got ${labels.dtype}`);
  return labels.shape;
}

/** A tensor that must have exactly `expected` (a gradient's upstream, a residual). */
export function checkSameShape(op: string, name: string, actual: Shape, expected: Shape): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    fail(op, [actual, expected], `${name} ${formatShape(actual)} must have shape ${formatShape(expected)}`);
  }
}

/** `hidden [N,H]`, `weight [V,H]`, `bias [V] | null`, int `labels [N]`: the result's shape `[N]`. */
export function linearTokenShapeOf(op: string, hidden: Shape, weight: Shape, bias: Shape | null, labels: BackendTensor): Shape {
  if (hidden.length !== 2 || weight.length !== 2 || hidden[1] !== weight[1]) {
    fail(op, [hidden, weight], `hidden ${formatShape(hidden)} and weight ${formatShape(weight)} must be [N, H] and [V, H]`);
  }
  if (bias && (bias.length !== 1 || bias[0] !== weight[0])) {
    fail(op, [weight, bias], `bias ${formatShape(bias)} must be [${weight[0]}] for weight ${formatShape(weight)}`);
  }
  checkSameShape(op, 'labels', labels.shape, [hidden[0]]);
  if (labels.dtype !== 'int32') fail(op, [labels.shape], `labels must be int32, got ${labels.dtype}`);
  return labels.shape;
}

/** `logits [N, V]` of `tokenEntropy`: the entropy's shape `[N]`. */
export function tokenEntropyShapeOf(op: string, logits: Shape): Shape {
  if (logits.length < 1) fail(op, [logits], `logits ${formatShape(logits)} must have a vocabulary axis`);
  return logits.slice(0, -1);
}

/** `hidden [N,H]`, `weight [V,H]`, `bias [V] | null` of `linearTokenEntropy`: the entropy's shape `[N]`. */
export function linearEntropyShapeOf(op: string, hidden: Shape, weight: Shape, bias: Shape | null): Shape {
  if (hidden.length !== 2 || weight.length !== 2 || hidden[1] !== weight[1]) {
    fail(op, [hidden, weight], `hidden ${formatShape(hidden)} and weight ${formatShape(weight)} must be [N, H] and [V, H]`);
  }
  if (bias && (bias.length !== 1 || bias[0] !== weight[0])) {
    fail(op, [weight, bias], `bias ${formatShape(bias)} must be [${weight[0]}] for weight ${formatShape(weight)}`);
  }
  return [hidden[0]];
}
