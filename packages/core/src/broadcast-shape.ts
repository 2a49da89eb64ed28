import type { Shape } from './pref-backend';

/** NumPy broadcasting of two shapes; throws when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`cannot broadcast shapes [${a.join(', ')}] and [${b.join(', ')}]`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Axes of `target` along which `source` was broadcast (leading axes and size-1 axes). */
export function broadcastAxes(source: Shape, target: Shape): number[] {
  const axes: number[] = [];
  const offset = target.length - source.length;
  for (let i = 0; i < target.length; i++) {
    if (i < offset || (source[i - offset] === 1 && target[i] !== 1)) axes.push(i);
  }
  return axes;
}

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Shape after reducing `axes` (negative axes count from the end). */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const normalized = new Set(axes.map((a) => normalizeAxis(a, shape.length)));
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!normalized.has(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Row-major strides of `shape` (elements, not bytes). */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Strides of `shape` read as if broadcast to `target` (0 along broadcast axes). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = stridesOf(shape);
  const offset = target.length - shape.length;
  return target.map((_, i) => (i < offset || shape[i - offset] === 1 ? 0 : own[i - offset]));
}
