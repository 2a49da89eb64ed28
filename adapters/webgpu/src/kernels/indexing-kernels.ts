import { PARAMS_DECL, elementEntry } from './wgsl-common';

/**
 * Stable argsort along an axis by rank counting (O(L²) per line; lines are short):
 * element j of a line goes to position `#{k : x_k < x_j or (x_k = x_j and k < j)}`.
 * Params: `[size, axisLength, inner]` (inner = product of the dims after the axis).
 */
export function argsortKernel(dtype: 'float' | 'int32'): string {
  return `${PARAMS_DECL}
@group(0) @binding(1) var<storage, read> x: array<${dtype === 'int32' ? 'i32' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
${elementEntry(`  let length = params[1];
  let inner = params[2];
  let j = (index / inner) % length;
  let base = index - j * inner;
  let value = x[index];
  var rank = 0u;
  for (var k = 0u; k < length; k++) {
    let other = x[base + k * inner];
    if (other < value || (other == value && k < j)) { rank++; }
  }
  out[base + rank * inner] = i32(j);`)}`;
}

/**
 * GatherElements: `out[c] = x[c with c_axis = indices[c]]`, values copied as bits. An index
 * outside the axis sets `flag` in the status buffer. Params: `[size, rank, axis, axisSize,
 * indicesShape, xStrides]`.
 */
export function gatherKernel(flag: number): string {
  return `${PARAMS_DECL}
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;
${elementEntry(`  let rank = params[1];
  let axis = params[2];
  var rest = index;
  var offset = 0u;
  var valid = true;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = params[4u + u32(d)];
    var coord = rest % dim;
    rest = rest / dim;
    if (u32(d) == axis) {
      let j = indices[index];
      valid = j >= 0 && u32(j) < params[3];
      coord = select(0u, u32(j), valid);
    }
    offset += coord * params[4u + rank + u32(d)];
  }
  if (!valid) {
    atomicOr(&status[0], ${flag}u);
    out[index] = 0u;
    return;
  }
  out[index] = x[offset];`)}`;
}

/**
 * ScatterElements with add, computed per output element (no float atomics): output `c`
 * sums `updates[k]` over the positions `k` of its line whose index equals `c_axis`. Threads
 * below the index count also check their index (flag on failure). Params: `[threads, rank,
 * axis, axisCount, indicesSize, outSize, outShape, indicesShape, indicesStrides]`.
 */
export function scatterAddKernel(flag: number): string {
  return `${PARAMS_DECL}
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read> updates: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;
${elementEntry(`  let rank = params[1];
  let axis = params[2];
  if (index < params[4]) {
    let j = indices[index];
    if (j < 0 || u32(j) >= params[6u + axis]) { atomicOr(&status[0], ${flag}u); }
  }
  if (index >= params[5]) { return; }
  var rest = index;
  var base = 0u;
  var inside = true;
  var labelAt = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = params[6u + u32(d)];
    let coord = rest % dim;
    rest = rest / dim;
    if (u32(d) == axis) {
      labelAt = coord;
    } else {
      inside = inside && coord < params[6u + rank + u32(d)];
      base += coord * params[6u + 2u * rank + u32(d)];
    }
  }
  var acc = 0.0;
  if (inside) {
    let stride = params[6u + 2u * rank + axis];
    for (var k = 0u; k < params[3]; k++) {
      let at = base + k * stride;
      if (indices[at] == i32(labelAt)) { acc += updates[at]; }
    }
  }
  out[index] = acc;`)}`;
}
