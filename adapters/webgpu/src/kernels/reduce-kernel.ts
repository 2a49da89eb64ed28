import type { ReduceOp } from '@pref/core/backend';
import { PARAMS_DECL, WORKGROUP_SIZE } from './wgsl-common';

/**
 * Reduction over arbitrary axes. Params: `[outSize, reducedCount, keptRank, reducedRank,
 * keptDims, keptStrides, reducedDims, reducedStrides]` (strides of the input). With
 * `perWorkgroup`, one workgroup reduces each output (long reductions, few outputs), else one
 * thread does (compensated summation).
 */
export function reduceKernel(op: ReduceOp, perWorkgroup: boolean): string {
  const isMax = op === 'max';
  const identity = isMax ? 'bitcast<f32>(0xff800000u | (params[0] & 0u))' : '0.0';
  const finish = op === 'mean' ? 'acc / f32(params[1])' : 'acc';
  const header = /* wgsl */ `${PARAMS_DECL}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
fn keptOffset(index: u32) -> u32 {
  let rank = params[2];
  var rest = index;
  var offset = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = params[4u + u32(d)];
    offset += (rest % dim) * params[4u + rank + u32(d)];
    rest = rest / dim;
  }
  return offset;
}
fn reducedOffset(r: u32) -> u32 {
  let base = 4u + 2u * params[2];
  let rank = params[3];
  var rest = r;
  var offset = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = params[base + u32(d)];
    offset += (rest % dim) * params[base + rank + u32(d)];
    rest = rest / dim;
  }
  return offset;
}`;
  if (!perWorkgroup) {
    const step = isMax ? 'acc = select(acc, v, v > acc || v != v);' : 'let y = v - carry; let t = acc + y; carry = (t - acc) - y; acc = t;';
    return /* wgsl */ `${header}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * nwg.x + wid.x) * ${WORKGROUP_SIZE}u + lid;
  if (index >= params[0]) { return; }
  let base = keptOffset(index);
  var acc = ${identity};
  var carry = 0.0;
  for (var r = 0u; r < params[1]; r++) {
    let v = x[base + reducedOffset(r)];
    ${step}
  }
  out[index] = ${finish};
}`;
  }
  const combine = isMax ? 'select(a, b, b > a || b != b)' : 'a + b';
  return /* wgsl */ `${header}
var<workgroup> partial: array<f32, ${WORKGROUP_SIZE}>;
fn combine(a: f32, b: f32) -> f32 { return ${combine}; }
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = wid.y * nwg.x + wid.x;
  if (index >= params[0]) { return; }
  let base = keptOffset(index);
  var acc = ${identity};
  for (var r = lid; r < params[1]; r += ${WORKGROUP_SIZE}u) {
    acc = combine(acc, x[base + reducedOffset(r)]);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var width = ${WORKGROUP_SIZE / 2}u; width > 0u; width = width / 2u) {
    if (lid < width) { partial[lid] = combine(partial[lid], partial[lid + width]); }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let acc = partial[0];
    out[index] = ${finish};
  }
}`;
}
