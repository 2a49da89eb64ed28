import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Shape } from '@pref/core';
import type { Tfjs } from './tfjs-types';

/**
 * GatherElements and ScatterElements (add) along one axis, with kernels every tfjs backend has
 * (wasm has no UnsortedSegmentSum, the kernel of tfjs's own gather gradient): the gather is a
 * flat `gather` at `row·K + index`, the scatter a batched `matMul` with `oneHot(index)` (int32,
 * then cast: wasm's OneHot ignores a float dtype and returns int bits).
 * Call them inside `tf.tidy`: they leave their intermediates to it.
 */

/** The permutation that moves `axis` last, and its inverse (null when it is already last). */
function axisLast(rank: number, axis: number): { perm: number[]; inverse: number[] } | null {
  if (axis === rank - 1) return null;
  const perm = [...Array(rank).keys()].filter((a) => a !== axis);
  perm.push(axis);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return { perm, inverse };
}

function sizeOf(shape: Shape): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** `out[..., j, ...] = x[..., indices[..., j, ...], ...]` along `axis`; `out` has the shape of `indices`. */
export function gatherElements(tf: Tfjs, x: TfTensor, indices: TfTensor, axis: number): TfTensor {
  const rank = x.rank;
  const extent = indices.shape.map((d, i) => (i === axis ? x.shape[axis] : d));
  const source = extent.every((d, i) => d === x.shape[i])
    ? x
    : tf.slice(
        x,
        extent.map(() => 0),
        extent,
      );
  const order = axisLast(rank, axis);
  const sourceLast = order ? tf.transpose(source, order.perm) : source;
  const indicesLast = order ? tf.transpose(indices, order.perm) : indices;
  const depth = x.shape[axis];
  const picks = indices.shape[axis];
  const rows = sizeOf(indices.shape) / Math.max(picks, 1);
  const rowOffsets = tf.reshape(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(depth, 'int32')), [rows, 1]);
  const flatIndices = tf.reshape(tf.add(tf.reshape(indicesLast, [rows, picks]), rowOffsets), [rows * picks]);
  const picked = tf.reshape(tf.gather(tf.reshape(sourceLast, [rows * depth]), flatIndices), indicesLast.shape);
  return order ? tf.transpose(picked, order.inverse) : picked;
}

/** Zeros of `shape` with `updates` added at `indices` along `axis` (duplicates add up). */
export function scatterAddElements(tf: Tfjs, shape: Shape, indices: TfTensor, updates: TfTensor, axis: number): TfTensor {
  const rank = shape.length;
  const order = axisLast(rank, axis);
  const indicesLast = order ? tf.transpose(indices, order.perm) : indices;
  const updatesLast = order ? tf.transpose(updates, order.perm) : updates;
  const depth = shape[axis];
  const picks = indices.shape[axis];
  const rows = sizeOf(indices.shape) / Math.max(picks, 1);
  const hot = tf.reshape(tf.cast(tf.oneHot(tf.reshape(indicesLast, [rows * picks]), depth), 'float32'), [rows, picks, depth]);
  const summed = tf.matMul(tf.reshape(updatesLast, [rows, 1, picks]), hot);
  const extentLast = [...indicesLast.shape.slice(0, -1), depth];
  const scattered = tf.reshape(summed, extentLast);
  const placed = order ? tf.transpose(scattered, order.inverse) : scattered;
  const padding = shape.map((d, i) => [0, d - placed.shape[i]] as [number, number]);
  return padding.some(([, after]) => after > 0) ? tf.pad(placed, padding) : placed;
}
